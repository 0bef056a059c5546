"""Shapes of print runs and labels in the API."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from trace_service.api import PageArgs
from trace_service.fields import Id, StrictBoolean, Text
from trace_service.labels import payload, serials
from trace_service.labels.build import lease_expired, zpl_parts
from trace_service.labels.models import MAX_RUN_LABELS, Label, PrintRun, RunStatus
from trace_service.labels.render.stocks import DEFAULT_STOCK, stocks
from trace_service.labels.services import claims_for
from trace_service.labels.verify import Verification


class PrintRunOrderSchema(Schema):
    product_id = Id(required=True)
    lot_id = Id(
        required=True, metadata={"description": "A packed lot of the product (from a packing)"}
    )
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(
            min=1, max=MAX_RUN_LABELS, error=f"A print run has 1 to {MAX_RUN_LABELS} labels."
        ),
    )
    scratch_code = StrictBoolean(
        load_default=False,
        metadata={"description": "Print a secret code under a scratch-off layer beside each QR"},
    )
    certificate_id = Id(
        allow_none=True,
        metadata={"description": "Optional: the certificate the order expects to be in force"},
    )
    stock = fields.String(
        load_default=DEFAULT_STOCK,
        validate=validate.Length(min=1, max=32),
        metadata={
            "description": "The sticker sheet to print on: "
            + ", ".join(f"`{s.name}` ({s.title_en})" for s in stocks())
        },
    )
    start_position = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "The first free label on the first sheet (1 = top left)"},
    )


class PrintRunQuerySchema(PageArgs):
    product_id = Id(strict=False)
    lot_id = Id(strict=False)
    status = fields.Enum(RunStatus, by_value=True)


class ZplQuerySchema(Schema):
    dpi = fields.Integer(
        load_default=203,
        validate=validate.OneOf([203, 300], error="dpi is 203 or 300."),
        metadata={"description": "Printer resolution: 203 (8 dots/mm) or 300 (12 dots/mm)"},
    )
    part = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=10),
        metadata={
            "description": "Which file of a run over 10,000 labels, as the PDFs (left out: "
            "the whole run in one download)"
        },
    )


class SheetQuerySchema(Schema):
    part = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=10),
        metadata={"description": "Which PDF of a run over 10,000 labels (1 for smaller runs)"},
    )


class ProgressSchema(Schema):
    labels_drawn = fields.Integer()
    quantity = fields.Integer()
    percent = fields.Float()


class PrintRunSchema(Schema):
    id = fields.Integer()
    producer_id = fields.Integer()
    product_id = fields.Integer()
    lot_id = fields.Integer()
    lot_code = fields.String()
    packing_event_id = fields.Integer(allow_none=True)
    certificate_id = fields.Integer()
    star = fields.Integer()
    valid_until = fields.Date()
    gtin = fields.String(allow_none=True)
    quantity = fields.Integer()
    scratch_code = fields.Boolean(attribute="scratch")
    stock = fields.String(metadata={"description": "The sticker sheet the PDF is drawn for"})
    start_position = fields.Integer()
    offset_mm = fields.Method(
        "_offset", metadata={"description": "The producer's print offset [x, y] when ordered"}
    )
    kid = fields.String(metadata={"description": "Id of the key that signed the labels"})
    payload_version = fields.Integer()
    qr_version = fields.Integer(metadata={"description": "QR version (size) of every label"})
    status = fields.Enum(RunStatus, by_value=True)
    progress = fields.Method("_progress", metadata={"description": "Labels drawn so far"})
    error = fields.String(allow_none=True)
    stalled = fields.Method(
        "_stalled",
        metadata={"description": "Building, but its builder went silent: build it again"},
    )
    pages = fields.Method("_pages")
    files = fields.Method("_files")
    created_at = fields.DateTime()
    built_at = fields.DateTime(allow_none=True)

    def _offset(self, run: PrintRun) -> list[float]:
        return [run.offset_x_tenth_mm / 10, run.offset_y_tenth_mm / 10]

    def _progress(self, run: PrintRun) -> dict[str, Any]:
        return {
            "labels_drawn": run.labels_drawn,
            "quantity": run.quantity,
            "percent": round(100 * run.labels_drawn / run.quantity, 1),
        }

    def _stalled(self, run: PrintRun) -> bool:
        return run.status is RunStatus.BUILDING and lease_expired(run)

    def _pages(self, run: PrintRun) -> int | None:
        sheets = run.files.get("sheets")
        return sum(sheet["pages"] for sheet in sheets) if sheets else None

    def _files(self, run: PrintRun) -> dict[str, Any]:
        """Download links: the A4 sheets once built (one PDF per 10,000 labels); the thermal
        ZPL files (drawn by the same build, downloadable once the run is ready; listed with
        their parts and digests once built); the label list at any time."""
        links: dict[str, Any] = {
            "labels": url_for("labels.list_run_labels", run_id=run.id),
            "zpl_203dpi": url_for("labels.run_zpl", run_id=run.id, dpi=203),
            "zpl_300dpi": url_for("labels.run_zpl", run_id=run.id, dpi=300),
        }
        links["sheets"] = [
            {
                "url": url_for("labels.run_sheet", run_id=run.id, part=part),
                "bytes": sheet["bytes"],
                "sha256": sheet["sha256"],
                "pages": sheet["pages"],
                "labels": sheet["labels"],
            }
            for part, sheet in enumerate(run.files.get("sheets", []), start=1)
        ]
        links["zpl"] = [_zpl_links(run, entry) for entry in run.files.get("zpl", [])]
        return links


def _zpl_links(run: PrintRun, entry: dict[str, Any]) -> dict[str, Any]:
    """One dpi's ZPL: the whole run, and its files (one per 10,000 labels, as the PDFs);
    or why this dpi cannot print the run."""
    dpi = entry["dpi"]
    if "error" in entry:
        return {"dpi": dpi, "error": entry["error"]}
    return {
        "dpi": dpi,
        "url": url_for("labels.run_zpl", run_id=run.id, dpi=dpi),
        "bytes": entry["bytes"],
        "labels": entry["labels"],
        "parts": [
            {
                "url": url_for("labels.run_zpl", run_id=run.id, dpi=dpi, part=part),
                "bytes": file["bytes"],
                "sha256": file["sha256"],
                "labels": file["labels"],
            }
            for part, file in enumerate(zpl_parts(entry), start=1)
        ],
    }


def label_url(label: Label) -> str:
    return payload.label_url(claims_for(label.run, label.serial), label.signature)


class LabelSchema(Schema):
    serial = fields.String()
    code = fields.Function(lambda label: serials.grouped(label.serial))
    seq = fields.Integer()
    run_id = fields.Integer()
    url = fields.Function(label_url, metadata={"description": "What the QR holds"})
    qr_svg = fields.Function(lambda label: url_for("labels.label_qr_svg", serial=label.serial))
    qr_png = fields.Function(lambda label: url_for("labels.label_qr_png", serial=label.serial))


class VerificationSchema(Schema):
    verdict = fields.String(
        metadata={
            "description": "genuine, invalid_signature, unknown_key, compromised_key, "
            "not_issued, malformed"
        }
    )
    message = fields.String()
    message_en = fields.String()
    serial = fields.String(allow_none=True)
    kid = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    lot = fields.String(allow_none=True)
    star = fields.Integer(allow_none=True)
    certificate_id = fields.Integer(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    certificate_status = fields.String(allow_none=True)
    recalled = fields.Boolean()
    recalls = fields.List(fields.Dict())

    @pre_dump
    def _view(self, result: Verification, **_kwargs: Any) -> dict[str, Any]:
        return verification_view(result)


def verification_view(result: Verification) -> dict[str, Any]:
    # What a label claims is repeated only when our records back it: a forged label's star
    # and certificate are not facts to show anyone.
    claims = result.claims if result.run is not None else None
    return {
        "verdict": result.verdict,
        "message": result.message,
        "message_en": result.message_en,
        "serial": claims.serial if claims else None,
        "kid": claims.kid if claims else None,
        "gtin": claims.gtin if claims else None,
        "product_id": claims.product_id if claims else None,
        "lot": claims.lot if claims else None,
        "star": claims.star if claims else None,
        "certificate_id": claims.certificate_id if claims else None,
        "valid_until": claims.valid_until if claims else None,
        "certificate_status": (
            result.certificate_status.value if result.certificate_status else None
        ),
        "recalled": result.recalled,
        "recalls": [
            {"lot_id": r.lot_id, "reason": r.reason, "decision": r.decision, "at": r.recalled_at}
            for r in result.recalls
        ],
    }


class SequenceRangeSchema(Schema):
    first = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    last = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))


def _some_stamps(data: dict[str, Any]) -> None:
    if not data.get("sequences") and not data.get("ranges"):
        raise ValidationError(
            "Name the stamps to void: sequences, ranges or both.", field_name="sequences"
        )


MAX_VOID_SEQUENCES = 10_000


class VoidRequestSchema(Schema):
    sequences = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)),
        load_default=list,
        # bound parameters of one statement stay far below PostgreSQL's 65,535
        validate=validate.Length(max=MAX_VOID_SEQUENCES),
        metadata={
            "description": "Single stamps by their number on the sheet (`seq`), up to "
            f"{MAX_VOID_SEQUENCES:,}; name more as ranges"
        },
    )
    ranges = fields.List(
        fields.Nested(SequenceRangeSchema),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Ranges of stamp numbers, `first` to `last` included"},
    )
    reason = Text(
        required=True,
        validate=validate.Length(min=3, max=500),
        metadata={"description": "Why (spoiled in printing, lost, stolen…): kept and audited"},
    )

    @validates_schema
    def _names_stamps(self, data: dict[str, Any], **_: Any) -> None:
        _some_stamps(data)


class VoidResultSchema(Schema):
    run_id = fields.Integer()
    voided = fields.Integer(metadata={"description": "Stamps voided by this request"})
    already_voided = fields.Integer(
        metadata={"description": "Stamps asked for that were void already (left unchanged)"}
    )
    voided_at = fields.DateTime()
    reason = fields.String()


class FlaggedQuerySchema(PageArgs):
    product_id = Id(strict=False)
    run_id = Id(strict=False)
    flagged_from = fields.AwareDateTime(
        metadata={"description": "Flagged at or after this moment (ISO 8601 with its zone)"}
    )
    flagged_before = fields.AwareDateTime(
        metadata={"description": "Flagged before this moment (ISO 8601 with its zone)"}
    )
    reason = fields.String(
        validate=validate.OneOf(["scans", "clients"]),
        metadata={"description": "scans (too many views) or clients (too many places)"},
    )


class ClearFlagSchema(Schema):
    reason = Text(
        multiline=True,
        required=True,
        validate=validate.Length(min=3, max=2000),
        metadata={"description": "Why the office finds the stamp is not a copy"},
    )


class ScanSummarySchema(Schema):
    scan_count = fields.Integer(metadata={"description": "Page views, reloads included"})
    first_scanned_at = fields.DateTime(allow_none=True)
    last_scanned_at = fields.DateTime(allow_none=True)
    flagged_at = fields.DateTime(allow_none=True)
    flag_reason = fields.String(
        allow_none=True,
        metadata={"description": "scans (too many views) or clients (too many places)"},
    )
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    flag_cleared_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the office last cleared a flag"}
    )
    flag_clear_reason = fields.String(allow_none=True)


class FlaggedLabelSchema(LabelSchema):
    product_id = fields.Function(lambda label: label.run.product_id)
    scans = fields.Nested(ScanSummarySchema, attribute="state")
