"""The snapshot: a signed, versioned document with an expiry holding what judging a stamp
needs when there is no network (``docs/label-format.md``, "The snapshot").

Body (every member signed; the signature covers ``canonical_json`` of the document without
``signature``, made by a snapshot key the trust list names)::

    {"format": "ocop-snapshot/1", "version": 42,
     "issued_at": "2026-12-03T00:00:00+00:00", "expires_at": "2027-01-02T00:00:00+00:00",
     "kid": "<snapshot key id>", "trust_list_version": 7,
     "rules": {"expiring_window_days": 90, "stale_after_days": 7},
     "producers": {"12": {"name": "HTX …"}},
     "certificates": {"1234": {"number": "…", "product_id": 17, "gtin": "0893…",
                               "product_name": "…", "producer_id": 12, "star": 4,
                               "issued_on": "2024-03-15", "valid_until": "2027-03-15",
                               "revoked_on": "…", "superseded_on": "…", "superseded_by": 1300,
                               "authority": "…"}},
     "recalls": {"01:08935012345678/DM2601-RB1": {"since": "2026-11-20",
                                                   "decision": "…", "reason": "…"}},
     "voided": {"2026-11-02": ["7K3M9QXA2BCDEF4", …]},
     "flagged": {"2026-11-02": ["…", …]},
     "signature": "<base64url>"}

Optional members are left out, never ``null`` (a delta is an RFC 7386 JSON merge patch, in
which ``null`` deletes). A delta from version N carries the patch from N's body to M's and
M's own signature, so the device ends up with a full snapshot M it checks like any other.

``build_snapshot`` makes the body from plain Python data (mappings or dataclasses): the
database side only queries and calls it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ocop_verify.encoding import b64url_decode, b64url_encode, canonical_json, ed25519_ok
from ocop_verify.label import is_serial
from ocop_verify.trustlist import TrustList, aware

FORMAT = "ocop-snapshot/1"
DELTA_FORMAT = "ocop-snapshot-delta/1"
DEFAULT_TTL = timedelta(days=30)
DEFAULT_EXPIRING_WINDOW_DAYS = 90
DEFAULT_STALE_AFTER_DAYS = 7
CERTIFICATE_STATUSES = ("valid", "expiring", "expired", "revoked", "superseded", "pending")
_GTIN_RE = re.compile(r"^[0-9]{14}$")
_LOT_RE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
_ID_RE = re.compile(r"^[1-9][0-9]{0,18}$")
_MAX_TEXT = 1000
MAX_WHOLE = 2**53 - 1  # every number in a signed document is exact in JavaScript too


class SnapshotError(ValueError):
    """The snapshot (or delta) cannot be trusted: say why, and keep the one held before."""


# --- the status rule ----------------------------------------------------------------------


def certificate_status(
    day: date,
    *,
    issued_on: date,
    valid_until: date,
    revoked_on: date | None,
    superseded_on: date | None,
    expiring_window_days: int,
) -> str:
    """A certificate's status on ``day`` (Vietnam's calendar day), derived from its dates as
    the service derives it (``certificates/rules.py``), plus ``pending`` for a day before the
    certificate was issued (not yet in force)."""
    if revoked_on is not None and revoked_on <= day:
        return "revoked"
    if superseded_on is not None and superseded_on <= day:
        return "superseded"
    if day < issued_on:
        return "pending"
    if day > valid_until:
        return "expired"
    if (valid_until - day).days <= expiring_window_days:
        return "expiring"
    return "valid"


# --- records held after checking -----------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    id: int
    number: str
    product_id: int
    gtin: str | None
    product_name: str
    producer_id: int
    star: int
    issued_on: date
    valid_until: date
    revoked_on: date | None = None
    superseded_on: date | None = None
    superseded_by: int | None = None
    authority: str | None = None


@dataclass(frozen=True)
class Recall:
    since: date
    decision: str | None
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """A checked snapshot, indexed for lookups."""

    document: dict[str, Any]
    version: int
    issued_at: datetime
    expires_at: datetime
    kid: str
    trust_list_version: int
    expiring_window_days: int
    stale_after_days: int
    producers: dict[int, str]
    certificates: dict[int, Certificate]
    recalls: dict[str, Recall]
    voided: dict[str, date]
    flagged: dict[str, date]

    def status_of(self, certificate: Certificate, day: date) -> str:
        return certificate_status(
            day,
            issued_on=certificate.issued_on,
            valid_until=certificate.valid_until,
            revoked_on=certificate.revoked_on,
            superseded_on=certificate.superseded_on,
            expiring_window_days=self.expiring_window_days,
        )


# --- building ----------------------------------------------------------------------------


def _fields(record: Any) -> Mapping[str, Any]:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    if isinstance(record, Mapping):
        return record
    raise TypeError(f"expected a mapping or a dataclass, got {type(record).__name__}")


def _day(value: Any, what: str) -> str:
    if isinstance(value, datetime):
        raise ValueError(f"{what}: a date, not a time")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return date.fromisoformat(value).isoformat() if len(value) == 10 else _bad(what)
    return _bad(what)


def _bad(what: str) -> str:
    raise ValueError(f"{what}: expected a date (YYYY-MM-DD)")


def _text(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise ValueError(f"{what}: expected text of 1 to {_MAX_TEXT} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be signed
        raise ValueError(f"{what}: not valid Unicode text") from exc
    return value


def _int(value: Any, what: str, low: int = 1, high: int = MAX_WHOLE) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what}: expected a whole number from {low} to {high}")
    return value


def _certificate_body(record: Any) -> tuple[str, dict[str, Any]]:
    data = _fields(record)
    cid = _int(data.get("id"), "certificate id", 1, 999_999_999)
    what = f"certificate {cid}"
    gtin = data.get("gtin")
    if gtin is not None and not (isinstance(gtin, str) and _GTIN_RE.fullmatch(gtin)):
        raise ValueError(f"{what}: GTIN must be 14 digits")
    body: dict[str, Any] = {
        "number": _text(data.get("number"), f"{what} number"),
        "product_id": _int(data.get("product_id"), f"{what} product_id"),
        "product_name": _text(data.get("product_name"), f"{what} product_name"),
        "producer_id": _int(data.get("producer_id"), f"{what} producer_id"),
        "star": _int(data.get("star"), f"{what} star", 3, 5),
        "issued_on": _day(data.get("issued_on"), f"{what} issued_on"),
        "valid_until": _day(data.get("valid_until"), f"{what} valid_until"),
    }
    if gtin is not None:
        body["gtin"] = gtin
    for name in ("revoked_on", "superseded_on"):
        if data.get(name) is not None:
            body[name] = _day(data[name], f"{what} {name}")
    if data.get("superseded_by") is not None:
        body["superseded_by"] = _int(data["superseded_by"], f"{what} superseded_by")
    if data.get("authority") is not None:
        body["authority"] = _text(data["authority"], f"{what} authority")
    return str(cid), body


def recall_key(gtin: str | None, product_id: int | None, lot: object) -> str:
    """``01:<GTIN>/<lot>`` or ``P:<product id>/<lot>``: a packed lot as labels name it."""
    if (gtin is None) == (product_id is None):
        raise ValueError("a recalled lot names its product by GTIN or, lacking one, by id")
    if gtin is not None and not _GTIN_RE.fullmatch(str(gtin)):
        raise ValueError("recall: GTIN must be 14 digits")
    if not isinstance(lot, str) or not _LOT_RE.fullmatch(lot):
        raise ValueError(f"recall: {lot!r} is not a lot code as labels print them")
    head = f"01:{gtin}" if gtin is not None else f"P:{_int(product_id, 'recall product_id')}"
    return f"{head}/{lot}"


def _recall_body(record: Any) -> tuple[str, dict[str, Any]]:
    data = _fields(record)
    key = recall_key(data.get("gtin"), data.get("product_id"), data.get("lot"))
    body: dict[str, Any] = {
        "since": _day(data.get("since"), f"recall {key} since"),
        "reason": _text(data.get("reason"), f"recall {key} reason"),
    }
    if data.get("decision") is not None:
        body["decision"] = _text(data["decision"], f"recall {key} decision")
    return key, body


def _marks(records: Iterable[Any], what: str) -> dict[str, list[str]]:
    """Serials grouped by day (the day they were voided or flagged), sorted: a new day's
    marks are a new member, so a delta carries only them."""
    by_day: dict[str, set[str]] = {}
    seen: set[str] = set()
    for record in records:
        data = _fields(record)
        serial = data.get("serial")
        if not isinstance(serial, str) or not is_serial(serial):
            raise ValueError(f"{what}: {serial!r} is not a label serial")
        if serial in seen:
            raise ValueError(f"{what}: {serial} is listed twice")
        seen.add(serial)
        by_day.setdefault(_day(data.get("since"), f"{what} {serial} since"), set()).add(serial)
    return {day: sorted(serials) for day, serials in sorted(by_day.items())}


def _producer_map(producers: Iterable[Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for record in producers:
        data = _fields(record)
        pid = _int(data.get("id"), "producer id")
        found[str(pid)] = {"name": _text(data.get("name"), f"producer {pid} name")}
    return found


def _certificate_map(
    certificates: Iterable[Any], producer_map: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for record in certificates:
        key, body = _certificate_body(record)
        if key in found:
            raise ValueError(f"certificate {key} is listed twice")
        if str(body["producer_id"]) not in producer_map:
            raise ValueError(f"certificate {key}: producer {body['producer_id']} is not listed")
        found[key] = body
    return found


def build_snapshot(
    *,
    version: int,
    issued_at: datetime,
    kid: str,
    trust_list_version: int,
    producers: Iterable[Any],
    certificates: Iterable[Any],
    recalls: Iterable[Any] = (),
    voided: Iterable[Any] = (),
    flagged: Iterable[Any] = (),
    ttl: timedelta = DEFAULT_TTL,
    expiring_window_days: int = DEFAULT_EXPIRING_WINDOW_DAYS,
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS,
) -> dict[str, Any]:
    """The unsigned body of a snapshot, from plain data; ``ValueError`` names the first bad
    record. Records are mappings or dataclasses with these fields:

    - producers: ``id``, ``name``;
    - certificates: ``id``, ``number``, ``product_id``, ``gtin`` (or None),
      ``product_name``, ``producer_id``, ``star``, ``issued_on``, ``valid_until``, and
      optionally ``revoked_on``, ``superseded_on``, ``superseded_by``, ``authority``;
    - recalls (packed lots affected, as labels name them): ``gtin`` or ``product_id``,
      ``lot``, ``since`` (the recall's Vietnam date), ``reason``, optionally ``decision``;
    - voided and flagged (possibly copied) labels: ``serial``, ``since`` (a date).

    Dates are ``date`` objects or ISO strings; ``issued_at`` is timezone-aware.
    """
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware")
    b64url_decode(kid)
    producer_map = _producer_map(producers)
    cert_map = _certificate_map(certificates, producer_map)
    recall_map = dict(_recall_body(r) for r in recalls)
    return {
        "format": FORMAT,
        "version": _int(version, "version"),
        "issued_at": issued_at.replace(microsecond=0).isoformat(),
        "expires_at": (issued_at.replace(microsecond=0) + ttl).isoformat(),
        "kid": kid,
        "trust_list_version": _int(trust_list_version, "trust_list_version"),
        "rules": {
            "expiring_window_days": _int(expiring_window_days, "expiring_window_days", 0, 3650),
            "stale_after_days": _int(stale_after_days, "stale_after_days", 1, 3650),
        },
        "producers": producer_map,
        "certificates": cert_map,
        "recalls": recall_map,
        "voided": _marks(voided, "voided"),
        "flagged": _marks(flagged, "flagged"),
    }


def sign_snapshot(body: dict[str, Any], sign: Callable[[bytes], tuple[str, bytes]]) -> dict:
    """The signed snapshot. ``sign`` is the key store's ``sign_as_snapshot``: it returns the
    kid it signed with, which must be the body's."""
    kid, signature = sign(canonical_json(body))
    if kid != body.get("kid"):
        raise ValueError("the snapshot key changed while signing; build the snapshot again")
    return {**body, "signature": b64url_encode(signature)}


# --- deltas (RFC 7386 JSON merge patch) ----------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``old`` into ``new`` (neither holds ``null``)."""
    patch: dict[str, Any] = {key: None for key in old.keys() - new.keys()}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            both = isinstance(old[key], dict) and isinstance(value, dict)
            patch[key] = diff(old[key], value) if both else value
    return patch


def make_delta(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """From signed snapshot ``old`` to signed snapshot ``new`` (a later version)."""
    if new["version"] <= old["version"]:
        raise ValueError("a delta goes from an older version to a newer one")
    strip = ("signature",)
    patch = diff(
        {k: v for k, v in old.items() if k not in strip},
        {k: v for k, v in new.items() if k not in strip},
    )
    return {
        "format": DELTA_FORMAT,
        "from_version": old["version"],
        "version": new["version"],
        "patch": patch,
        "signature": new["signature"],
    }


def apply_delta(old: dict[str, Any], delta: Any) -> dict[str, Any]:
    """The new signed snapshot document; check it with ``load_snapshot`` before use."""
    if not isinstance(delta, dict) or delta.get("format") != DELTA_FORMAT:
        raise SnapshotError("not a snapshot delta")
    if delta.get("from_version") != old.get("version") or not isinstance(delta.get("patch"), dict):
        raise SnapshotError("this delta does not start from the snapshot held")
    body = merge_patch({k: v for k, v in old.items() if k != "signature"}, delta["patch"])
    if body.get("version") != delta.get("version"):
        raise SnapshotError("the delta's version does not match its patch")
    return {**body, "signature": delta.get("signature")}


# --- checking ----------------------------------------------------------------------------


def _check_signature(document: Any, trust_list: TrustList) -> dict[str, Any]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError("not an OCOP snapshot (format ocop-snapshot/1)")
    body = {k: v for k, v in document.items() if k != "signature"}
    key = trust_list.snapshot_keys.get(body.get("kid"))  # type: ignore[arg-type]
    if key is None:
        raise SnapshotError("the snapshot is signed by a key the trust list does not name")
    if key.status == "compromised":
        raise SnapshotError("the snapshot is signed by a compromised key")
    try:
        signature = b64url_decode(document.get("signature", ""))
        signed = canonical_json(body)
    except (TypeError, ValueError) as exc:
        raise SnapshotError("the snapshot cannot be read") from exc
    if not ed25519_ok(key.public_key, signed, signature):
        raise SnapshotError("the snapshot's signature is not valid")
    return body


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("not a date")
    return date.fromisoformat(value)


def _opt_date(value: Any) -> date | None:
    return None if value is None else _date(value)


def _certificates(body: dict[str, Any]) -> dict[int, Certificate]:
    out = {}
    for key, c in body["certificates"].items():
        if not _ID_RE.fullmatch(key):
            raise ValueError("certificate id")
        out[int(key)] = Certificate(
            id=int(key),
            number=str(c["number"]),
            product_id=int(c["product_id"]),
            gtin=c.get("gtin"),
            product_name=str(c["product_name"]),
            producer_id=int(c["producer_id"]),
            star=int(c["star"]),
            issued_on=_date(c["issued_on"]),
            valid_until=_date(c["valid_until"]),
            revoked_on=_opt_date(c.get("revoked_on")),
            superseded_on=_opt_date(c.get("superseded_on")),
            superseded_by=c.get("superseded_by"),
            authority=c.get("authority"),
        )
    return out


def _mark_index(groups: dict[str, Any]) -> dict[str, date]:
    index: dict[str, date] = {}
    for day, serials in groups.items():
        since = _date(day)
        if not isinstance(serials, list):
            raise ValueError("serials")
        for serial in serials:
            index[serial] = since
    return index


def load_snapshot(
    document: Any,
    trust_list: TrustList,
    now: datetime,
    *,
    held_version: int | None = None,
) -> Snapshot:
    """A snapshot checked before it is trusted: signed by a snapshot key of ``trust_list``
    (not compromised), made with that trust list or an older one, not expired at ``now``,
    and not older than the version already held (no rollback). ``SnapshotError`` says why."""
    body = _check_signature(document, trust_list)
    try:
        version = _int(body.get("version"), "version")
        issued_at = aware(body.get("issued_at"), "issued_at")
        expires_at = aware(body.get("expires_at"), "expires_at")
        tl_version = _int(body.get("trust_list_version"), "trust_list_version")
        rules = body["rules"]
        snapshot = Snapshot(
            document=document,
            version=version,
            issued_at=issued_at,
            expires_at=expires_at,
            kid=body["kid"],
            trust_list_version=tl_version,
            expiring_window_days=_int(rules["expiring_window_days"], "window", 0, 3650),
            stale_after_days=_int(rules["stale_after_days"], "stale", 1, 3650),
            producers={int(k): str(v["name"]) for k, v in body["producers"].items()},
            certificates=_certificates(body),
            recalls={
                k: Recall(_date(v["since"]), v.get("decision"), str(v["reason"]))
                for k, v in body["recalls"].items()
            },
            voided=_mark_index(body["voided"]),
            flagged=_mark_index(body["flagged"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"the snapshot is signed but not well formed: {exc}") from exc
    if held_version is not None and version < held_version:
        raise SnapshotError(
            f"the snapshot (version {version}) is older than the one held ({held_version})"
        )
    if tl_version > trust_list.version:
        raise SnapshotError(
            f"the snapshot was made with trust list {tl_version}; this trust list is "
            f"{trust_list.version}: update the trust list first"
        )
    if now > expires_at:
        raise SnapshotError(f"the snapshot expired at {expires_at.isoformat()}")
    return snapshot
