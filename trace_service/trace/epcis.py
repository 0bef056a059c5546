"""EPCIS 2.0 export: plain event views in, a GS1 EPCIS 2.0 JSON-LD document out, and a
validator that checks it against GS1's own JSON schema.

Pure: no database, no Flask. The trace service fills the dataclasses below from its models.

How each kind of trace event is spoken in EPCIS 2.0 / CBV 2.0 (type, action, bizStep,
default disposition):

- harvest: ObjectEvent ADD, commissioning (CBV has no harvesting step), active
- transformation: TransformationEvent, https://ocop.example/bizstep/processing, active
- packing: TransformationEvent, packing, active
- shipping: ObjectEvent OBSERVE, shipping, in_transit
- receiving: ObjectEvent OBSERVE, receiving, in_progress
- inspection: ObjectEvent OBSERVE, inspecting, none (give the outcome: conformant…)
- sampling: ObjectEvent OBSERVE, sampling, none
- recall: ObjectEvent OBSERVE, holding, recalled
- correction: no event of its own, only the error declaration of the events it names

A view's ``disposition`` overrides the default, except for a recall, which is always
``recalled``. Corrections follow EPCIS 2.0's error declaration: the erroneous event is
repeated, same ``eventID`` and content, with an ``errorDeclaration`` (declarationTime, reason
and the ``correctiveEventIDs`` of the events that replace it).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
OCOP_NAMESPACE = "https://ocop.example/ns/"
OCOP_PREFIX = "ocop"

# CBV 2.0 deprecated "transforming" and has no step for drying, hulling, roasting… so
# processing gets a custom step, which CBV requires to be a URI outside its own namespace.
PROCESSING_BIZ_STEP = "https://ocop.example/bizstep/processing"
# The extension field that names the process of a transformation ("drying", "roasting"…).
PROCESSING_KIND_FIELD = "ocop:processingKind"
# Where the details of certificationInfo go (GS1 Web Vocabulary CertificationDetails terms).
CERTIFICATION_DETAILS_FIELD = "ocop:certificationDetails"

SCHEMA_ENV = "OCOP_EPCIS_SCHEMA"
# GS1's schema ships with the service (see gs1/README.md): imports are checked at run time.
DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parent / "gs1" / "EPCIS-JSON-Schema.json"
SHARED_SCHEMA_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "epcis" / "EPCIS-JSON-Schema.json"
)

KINDS = (
    "harvest",
    "transformation",
    "packing",
    "shipping",
    "receiving",
    "inspection",
    "sampling",
    "recall",
    "labelling",
    "correction",
)

_TIME_ZONE = re.compile(r"^[+-](?:0\d|1[0-3]):[0-5]\d$|^[+-]14:00$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_MESSAGE = 240


@dataclass(frozen=True)
class Quantity:
    lot_uri: str  # class-level id: GS1 Digital Link (GTIN + lot) or "urn:ocop:lot:…"
    amount: float
    uom: str  # UN/CEFACT Rec. 20: "KGM", "TNE", "GRM", "LTR", "H87"


@dataclass(frozen=True)
class Certification:
    standard: str  # e.g. "OCOP"
    agency: str  # issuing authority, e.g. "UBND tỉnh Đắk Nông"
    value: str  # e.g. "3 sao"
    identification: str  # certificate number (or a URI where the certificate is published)
    start_date: date | None = None
    end_date: date | None = None  # last valid day


@dataclass(frozen=True)
class TraceEventView:
    event_uri: str  # "urn:uuid:…", unique and stable
    kind: str  # one of KINDS
    event_time: datetime  # timezone-aware
    time_zone: str  # "+07:00"
    location_uri: str  # readPoint (and bizLocation where the goods stay)
    inputs: tuple[Quantity, ...] = ()  # transformation, packing
    outputs: tuple[Quantity, ...] = ()  # harvest, transformation, packing
    subjects: tuple[Quantity, ...] = ()  # shipping, receiving, inspection, sampling, recall
    disposition: str | None = None  # CBV short name or a URI outside the CBV namespace
    certifications: tuple[Certification, ...] = ()
    error_declaration: tuple[str, ...] | None = None  # event URIs this event declares erroneous
    epcs: tuple[str, ...] = ()  # labelling: the serialised units' own identifiers
    extensions: Mapping[str, Any] = field(default_factory=dict)  # {"ocop:harvestStart": …}


@dataclass(frozen=True)
class _Rule:
    type: str
    action: str | None
    biz_step: str
    disposition: str | None
    biz_location: bool  # whether the goods stay at the location after the event


# Packing is a TransformationEvent, not an AggregationEvent: an AggregationEvent puts child
# objects into a parent that is one identified instance (an SSCC pallet, a serialised case)
# and leaves the children's identity unchanged. Here bulk ground coffee (a lot measured in
# kg) is consumed and a new class of product comes out (250 g bags with their own GTIN and
# lot), which is exactly what TransformationEvent records, input quantity to output quantity,
# keeping the genealogy walkable from bag to farm. Cartons of bags on a pallet would be an
# AggregationEvent; this service does not track containers.
_RULES: dict[str, _Rule] = {
    "harvest": _Rule("ObjectEvent", "ADD", "commissioning", "active", True),
    "transformation": _Rule("TransformationEvent", None, PROCESSING_BIZ_STEP, "active", True),
    "packing": _Rule("TransformationEvent", None, "packing", "active", True),
    # In transit: CBV leaves bizLocation out of a shipping event.
    "shipping": _Rule("ObjectEvent", "OBSERVE", "shipping", "in_transit", False),
    "receiving": _Rule("ObjectEvent", "OBSERVE", "receiving", "in_progress", True),
    # Outcome of an inspection, if any, is the view's disposition (conformant, non_conformant).
    "inspection": _Rule("ObjectEvent", "OBSERVE", "inspecting", None, True),
    "sampling": _Rule("ObjectEvent", "OBSERVE", "sampling", None, True),
    # CBV has no recalling step; "holding" is the step that segregates goods for review, and
    # the recall itself is the disposition. The recalled goods are wherever they are, so the
    # location is only the read point (who declared the recall), not bizLocation.
    "recall": _Rule("ObjectEvent", "OBSERVE", "holding", "recalled", False),
    # A print run's stamps give each packed unit its own identifier (GTIN + lot + serial):
    # CBV's commissioning, "associating an instance-level identifier with an object".
    "labelling": _Rule("ObjectEvent", "ADD", "commissioning", "active", True),
}


def epcis_document(
    events: Sequence[TraceEventView],
    *,
    document_uri: str,
    created: datetime,
    sender: str | None = None,
) -> dict[str, Any]:
    """An EPCISDocument holding the events, sorted by event time, with an error declaration
    after each event that a later correction names. Raises ValueError on views that cannot
    be spoken in EPCIS (unknown kind, naive time, missing quantities, dangling correction)."""
    _require_aware(created, "created")
    by_uri: dict[str, TraceEventView] = {}
    for view in events:
        _check_view(view)
        if view.event_uri in by_uri:
            raise ValueError(f"Two events share the id {view.event_uri!r}.")
        by_uri[view.event_uri] = view

    declarations = _declarations(events, by_uri)
    event_list: list[dict[str, Any]] = []
    # sorted() is stable: events at the same instant keep the order they were given in.
    for view in sorted(events, key=lambda v: v.event_time):
        if view.kind == "correction":
            continue
        event_list.append(_event(view))
        if view.event_uri in declarations:
            event_list.append({**_event(view), "errorDeclaration": declarations[view.event_uri]})

    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, {OCOP_PREFIX: OCOP_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(),
        "id": document_uri,
    }
    if sender is not None:
        document["sender"] = sender
    document["epcisBody"] = {"eventList": event_list}
    return document


def _check_view(view: TraceEventView) -> None:
    if view.kind not in KINDS:
        raise ValueError(f"{view.event_uri}: unknown event kind {view.kind!r}.")
    _require_aware(view.event_time, f"{view.event_uri}: event_time")
    if not _TIME_ZONE.match(view.time_zone):
        raise ValueError(f"{view.event_uri}: time_zone {view.time_zone!r} is not like '+07:00'.")
    if view.kind == "correction":
        wanted = {"inputs": False, "outputs": False, "subjects": False}
        if not view.error_declaration:
            raise ValueError(f"{view.event_uri}: a correction must name the events it corrects.")
    elif view.kind == "harvest":
        wanted = {"inputs": False, "outputs": True, "subjects": False}
    elif view.kind == "labelling":
        wanted = {"inputs": False, "outputs": False, "subjects": False}
        if not view.epcs:
            raise ValueError(f"{view.event_uri}: a labelling event names the labelled units.")
    elif _RULES[view.kind].type == "TransformationEvent":
        wanted = {"inputs": True, "outputs": True, "subjects": False}
    else:
        wanted = {"inputs": False, "outputs": False, "subjects": True}
    for name, needed in wanted.items():
        given = bool(getattr(view, name))
        if given != needed:
            verb = "needs" if needed else "takes no"
            raise ValueError(f"{view.event_uri}: a {view.kind} event {verb} {name}.")
    if view.kind == "recall" and view.disposition not in (None, "recalled"):
        raise ValueError(f"{view.event_uri}: a recall's disposition is 'recalled'.")
    if view.error_declaration and view.event_uri in view.error_declaration:
        raise ValueError(f"{view.event_uri}: an event cannot declare itself erroneous.")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware.")


def _declarations(
    events: Sequence[TraceEventView], by_uri: Mapping[str, TraceEventView]
) -> dict[str, dict[str, Any]]:
    """errorDeclaration objects by the id of the event they declare erroneous.

    A correction of another kind (a harvest re-recorded with the right weight) is the
    corrective event and is listed in correctiveEventIDs. A view of kind "correction" only
    declares the error; its extensions (a reason in words) go into the declaration.

    The views carry no record time, so declarationTime is the correcting event's time; if
    several corrections name one event, the earliest declares it."""
    found: dict[str, tuple[datetime, list[str], dict[str, Any]]] = {}
    for view in sorted(events, key=lambda v: v.event_time):
        for wrong in view.error_declaration or ():
            if wrong not in by_uri:
                raise ValueError(
                    f"{view.event_uri} corrects {wrong!r}, which is not among the exported "
                    "events; export the erroneous event too."
                )
            if by_uri[wrong].kind == "correction":
                raise ValueError(f"{view.event_uri}: a correction cannot itself be corrected.")
            _, corrective, extra = found.setdefault(wrong, (view.event_time, [], {}))
            if view.kind == "correction":
                extra.update(_extensions(view.extensions, reserved=_DECLARATION_FIELDS))
            elif view.event_uri not in corrective:
                corrective.append(view.event_uri)
    declarations = {}
    for wrong, (declared, corrective, extra) in found.items():
        declaration: dict[str, Any] = {
            "declarationTime": declared.isoformat(),
            "reason": "incorrect_data",
        }
        if corrective:
            declaration["correctiveEventIDs"] = corrective
        declarations[wrong] = {**declaration, **extra}
    return declarations


_DECLARATION_FIELDS = frozenset({"declarationTime", "reason", "correctiveEventIDs"})
_EVENT_FIELDS = frozenset(
    {
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "quantityList",
        "inputQuantityList",
        "outputQuantityList",
        "certificationInfo",
        "errorDeclaration",
        CERTIFICATION_DETAILS_FIELD,
    }
)


def _event(view: TraceEventView) -> dict[str, Any]:
    rule = _RULES[view.kind]
    event: dict[str, Any] = {
        "type": rule.type,
        "eventID": view.event_uri,
        "eventTime": view.event_time.isoformat(),
        "eventTimeZoneOffset": view.time_zone,
    }
    if rule.action is not None:
        event["action"] = rule.action
    if rule.type == "TransformationEvent":
        event["inputQuantityList"] = [_quantity(q) for q in view.inputs]
        event["outputQuantityList"] = [_quantity(q) for q in view.outputs]
    elif view.kind == "labelling":
        event["epcList"] = list(view.epcs)
    else:
        concerned = view.outputs if view.kind == "harvest" else view.subjects
        event["quantityList"] = [_quantity(q) for q in concerned]
    event["bizStep"] = rule.biz_step
    disposition = rule.disposition if view.kind == "recall" else view.disposition
    disposition = disposition or rule.disposition
    if disposition is not None:
        event["disposition"] = disposition
    event["readPoint"] = {"id": view.location_uri}
    if rule.biz_location:
        event["bizLocation"] = {"id": view.location_uri}
    if view.certifications:
        # GS1's schema makes certificationInfo a URI (or a list of them) naming each
        # certificate; what the certificate says goes beside it as an extension.
        event["certificationInfo"] = [_certificate_uri(c) for c in view.certifications]
        event[CERTIFICATION_DETAILS_FIELD] = [_certificate_details(c) for c in view.certifications]
    event.update(_extensions(view.extensions, reserved=_EVENT_FIELDS))
    return event


def _quantity(quantity: Quantity) -> dict[str, Any]:
    amount = quantity.amount
    if isinstance(amount, bool) or not math.isfinite(amount) or amount <= 0:
        raise ValueError(f"{quantity.lot_uri}: quantity {amount!r} is not a positive number.")
    if isinstance(amount, Decimal):
        amount = float(amount)
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    return {"epcClass": quantity.lot_uri, "quantity": amount, "uom": quantity.uom}


def _certificate_uri(certification: Certification) -> str:
    """The certificate's own URI if its identification is one, else a URN from the standard
    and the number, percent-encoded so Vietnamese letters, spaces and slashes stay legal."""
    identification = certification.identification.strip()
    if _URI_SCHEME.match(identification) and " " not in identification:
        return identification
    standard = quote(certification.standard.strip().lower(), safe="")
    return f"urn:ocop:certificate:{standard}:{quote(identification, safe='')}"


def _certificate_details(certification: Certification) -> dict[str, Any]:
    details: dict[str, Any] = {
        "ocop:certificationStandard": certification.standard,
        "ocop:certificationAgency": certification.agency,
        "ocop:certificationValue": certification.value,
        "ocop:certificationIdentification": certification.identification,
    }
    if certification.start_date is not None:
        details["ocop:certificationStartDate"] = certification.start_date.isoformat()
    if certification.end_date is not None:
        details["ocop:certificationEndDate"] = certification.end_date.isoformat()
    return details


def _extensions(extensions: Mapping[str, Any], *, reserved: frozenset[str]) -> dict[str, Any]:
    """Extension fields, named "ocop:…" (a bare name gets the prefix) or by a full http(s)
    URI; any other prefix would have no meaning in the document's @context."""
    out: dict[str, Any] = {}
    for key, value in extensions.items():
        if key.startswith((f"{OCOP_PREFIX}:", "http://", "https://")):
            name = key
        elif ":" not in key and key:
            name = f"{OCOP_PREFIX}:{key}"
        else:
            raise ValueError(
                f"Extension {key!r}: use the {OCOP_PREFIX!r} prefix or a full http(s) URI."
            )
        if name in reserved or key in reserved:
            raise ValueError(f"Extension {key!r} would overwrite a field the export sets.")
        out[name] = _json_value(value)
    return out


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Extension value {value!r} cannot be written in JSON.")
        return value
    if isinstance(value, Decimal):
        return _json_value(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    raise TypeError(f"Extension value of type {type(value).__name__} cannot be written in JSON.")


# --- validation against GS1's schema -------------------------------------------------------


def schema_path(configured: str | Path | None = None) -> Path:
    """Where GS1's EPCIS JSON schema is: the path given (the app's ``EPCIS_SCHEMA`` setting),
    else $OCOP_EPCIS_SCHEMA, else the copy shipped in ``gs1/``."""
    configured = configured or os.environ.get(SCHEMA_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMA_PATH


def validate_epcis(document: Mapping[str, Any], schema_file: str | Path | None = None) -> list[str]:
    """Every way the document breaks GS1's EPCIS 2.0 JSON schema, one message each, naming
    the JSON path; an empty list when it is valid. URI formats are checked (rfc3986)."""
    return sorted(
        f"{path}: {message}"
        for path, messages in schema_errors(document, schema_file).items()
        for message in messages
    )


def schema_errors(
    document: Mapping[str, Any], schema_file: str | Path | None = None
) -> dict[str, list[str]]:
    """The ways the document breaks GS1's schema, by JSON path (``$.epcisBody.eventList[0]``),
    as the API reports field errors; empty when it is valid."""
    path = schema_path(schema_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"GS1's EPCIS JSON schema is not at {path}. Put EPCIS-JSON-Schema.json "
            f"(github.com/gs1/EPCIS) there or set {SCHEMA_ENV} to its path."
        )
    validator = _validator(str(path), path.stat().st_mtime_ns)
    found: dict[str, list[str]] = {}
    for error in validator.iter_errors(_plain(document)):
        messages = found.setdefault(error.json_path, [])
        message = _describe(error)
        if message not in messages:
            messages.append(message)
    return {where: sorted(messages) for where, messages in sorted(found.items())}


@lru_cache(maxsize=4)
def _validator(path: str, _mtime_ns: int) -> Draft7Validator:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=Draft7Validator.FORMAT_CHECKER.checkers)
    # jsonschema skips a format silently when the package that checks it is missing: a
    # check of URIs that never runs would pass GS1's examples and our mistakes alike.
    if "uri" not in checker.checkers:
        raise RuntimeError("Install rfc3986-validator: without it jsonschema skips URI checks.")
    if "date-time" not in checker.checkers:  # rfc3339-validator absent: check it ourselves
        checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time (leap seconds aside), as the draft-07 "date-time" format asks."""
    if not isinstance(instance, str):
        return True
    if not _RFC3339.match(instance):
        return False
    datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))  # ranges: raises ValueError
    return True


def _plain(value: Any) -> Any:
    """Mappings as dicts and sequences as lists, the types jsonschema takes for JSON."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _describe(error: ValidationError) -> str:
    """What is wrong at the error's path (the path itself is not repeated)."""
    if error.context and error.validator in ("anyOf", "oneOf"):
        # The bare message would print the whole failing object; say instead why each
        # alternative failed (e.g. "not one of the CBV steps; not a URI").
        reasons: list[str] = []
        for alternative in error.context:
            where = (
                "" if alternative.json_path == error.json_path else f" at {alternative.json_path}"
            )
            reason = f"{_shorten(alternative.message, 120)}{where}"
            if reason not in reasons:
                reasons.append(reason)
        return f"fits none of the allowed forms: {'; '.join(reasons)}"
    return _shorten(error.message)


def _shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
