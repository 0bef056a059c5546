"""Labels API: ordering print runs, following their build, downloading their files;
looking up and verifying single labels."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, current_app, request, url_for

from trace_service.api import (
    API_PREFIX,
    ApiBlueprint,
    PageArgs,
    page_schema,
    paginate,
    takes_no_body,
)
from trace_service.clock import today_vn
from trace_service.db import get_session, read_on_replica, reads_only, utcnow
from trace_service.errors import InvalidInput
from trace_service.labels import jobs, run_files, scans, services, voids
from trace_service.labels.export import label_epcis as label_epcis_document
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.qrbatch import encode
from trace_service.labels.render.qr_image import qr_png, qr_svg
from trace_service.labels.schemas import (
    ClearFlagSchema,
    FlaggedLabelSchema,
    FlaggedQuerySchema,
    LabelSchema,
    PrintRunOrderSchema,
    PrintRunQuerySchema,
    PrintRunSchema,
    SheetQuerySchema,
    VoidRequestSchema,
    VoidResultSchema,
    ZplQuerySchema,
    label_url,
)
from trace_service.labels.verify_response import (
    MAX_VERIFY_BODY_BYTES,
    VERIFY_QUERY,
    FullVerificationSchema,
    answer,
    small_body,
    verify_scanned,
)
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.signing.service import get_keystore
from trace_service.trace.schemas import TraceSchema
from trace_service.trace.services import Trace

blp = ApiBlueprint(
    "labels",
    __name__,
    url_prefix=API_PREFIX,
    description="Signed OCOP star labels: print runs, files, verification",
)
ORDERERS = (Role.ADMIN, Role.PRODUCER)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(
            "Idempotency-Key phải gồm 1–64 ký tự ASCII in được.",
            "Idempotency-Key must be 1 to 64 printable ASCII characters.",
            errors={"headers": {"Idempotency-Key": ["1 to 64 printable ASCII characters."]}},
        )
    return key


@blp.route("/print-runs", methods=["POST"])
@require_roles(*ORDERERS)
@blp.arguments(PrintRunOrderSchema)
@blp.response(202, PrintRunSchema)
@blp.alt_response(200, schema=PrintRunSchema, description="The same order came before")
def order_print_run(data: dict[str, Any]) -> tuple[PrintRun, int, dict[str, str]]:
    """Order a print run of 1 to 100,000 signed stamps for a packed lot of a certified
    product. The labels exist at once; the files are drawn in the background (follow
    `progress`). Send an `Idempotency-Key` header to make retries safe."""
    actor = current_principal()
    order = services.RunOrder(
        product_id=data["product_id"],
        lot_id=data["lot_id"],
        quantity=data["quantity"],
        scratch=data["scratch_code"],
        certificate_id=data.get("certificate_id"),
        idempotency_key=_idempotency_key(),
        stock=data["stock"],
        start_position=data["start_position"],
    )
    run, created = services.order_print_run(
        get_session(), actor, order, get_keystore(), jobs.label_base_url()
    )
    location = {"Location": url_for("labels.get_print_run", run_id=run.id)}
    if not created:
        return run, 200, location
    jobs.build_after_commit(run.id, actor)
    return run, 202, location


@blp.route("/print-runs")
@require_roles(*ALL_ROLES)
@blp.arguments(PrintRunQuerySchema, location="query")
@blp.response(200, page_schema(PrintRunSchema))
def list_print_runs(args: dict[str, Any]) -> dict[str, Any]:
    """Print runs, newest first (a producer sees its own)."""
    return paginate(get_session(), services.run_query(current_principal(), args), args)


@blp.route("/print-runs/<id:run_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, PrintRunSchema)
def get_print_run(run_id: int) -> PrintRun:
    """One print run with its build progress and file links."""
    return services.get_run(get_session(), current_principal(), run_id)


@blp.route("/print-runs/<id:run_id>/build", methods=["POST"])
@takes_no_body
@require_roles(*ORDERERS)
@blp.response(202, PrintRunSchema)
def resume_print_run(run_id: int) -> PrintRun:
    """Build a failed (or stalled) run's files again, from the same labels; also a ready run
    whose files are missing on the server."""
    actor = current_principal()
    run = run_files.resume_print_run(get_session(), actor, run_id, jobs.files_root())
    jobs.build_after_commit(run.id, actor)
    return run


@blp.route("/print-runs/<id:run_id>/voids", methods=["POST"])
@require_roles(*ORDERERS)
@blp.arguments(VoidRequestSchema)
@blp.response(200, VoidResultSchema)
def void_stamps(data: dict[str, Any], run_id: int) -> voids.VoidResult:
    """Void spoiled or lost stamps of a run, one by one (`sequences`) or by ranges of their
    numbers, with a reason. Irreversible; their pages say "Tem đã hủy" from now on. Voiding
    a stamp again changes nothing (idempotent): it is counted in `already_voided`."""
    order = voids.VoidOrder(
        sequences=data["sequences"],
        ranges=[(r["first"], r["last"]) for r in data["ranges"]],
        reason=data["reason"].strip(),
    )
    return voids.void_stamps(get_session(), current_principal(), run_id, order, utcnow())


@blp.route("/print-runs/<id:run_id>/sheet.pdf")
@require_roles(*ALL_ROLES)
@blp.arguments(SheetQuerySchema, location="query")
@blp.response(200, content_type="application/pdf")
def run_sheet(args: dict[str, Any], run_id: int) -> Response:
    """The A4 sheet of stamps for sticker paper: print at 100 % ("actual size"). Runs over
    10,000 labels come as several PDFs (`part`)."""
    file = run_files.sheet_file(
        get_session(), current_principal(), run_id, args["part"], jobs.files_root()
    )
    return run_files.send(file, "application/pdf")


@blp.route("/print-runs/<id:run_id>/labels.zpl")
@require_roles(*ALL_ROLES)
@blp.arguments(ZplQuerySchema, location="query")
@blp.response(200, content_type="application/zpl")
def run_zpl(args: dict[str, Any], run_id: int) -> Response:
    """The run for a thermal roll printer (50 × 30 mm labels) as ZPL, at 203 or 300 dpi:
    drawn by the run's build with its A4 sheet, never in this request. A run over 10,000
    labels has a file per 10,000 (`part`, as the PDFs); without `part` it comes whole, its
    files one after another (each starts with the stamp's graphic)."""
    file = run_files.zpl_file(
        get_session(), current_principal(), run_id, args["dpi"], jobs.files_root(), args["part"]
    )
    return run_files.send(file, "application/zpl")


@blp.route("/print-runs/<id:run_id>/labels")
@require_roles(*ALL_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(LabelSchema))
def list_run_labels(args: dict[str, Any], run_id: int) -> dict[str, Any]:
    """The run's labels in sheet order, each with its serial and the URL in its QR."""
    session = get_session()
    return paginate(session, services.run_labels_query(session, current_principal(), run_id), args)


@blp.route("/flagged-labels")
@require_roles(*ALL_ROLES)
@blp.arguments(FlaggedQuerySchema, location="query")
@blp.response(200, page_schema(FlaggedLabelSchema))
def list_flagged_labels(args: dict[str, Any]) -> dict[str, Any]:
    """Stamps flagged as possibly copied (seen too often, or in too many places), newest
    flag first; a producer sees its own. Filters: product, run, when flagged, why."""
    return paginate(get_session(), scans.flagged_query(current_principal(), args), args)


@blp.route("/labels/<string(maxlength=40):serial>/clear-flag", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(ClearFlagSchema)
@blp.response(200, FlaggedLabelSchema)
def clear_label_flag(data: dict[str, Any], serial: str) -> Label:
    """Clear a stamp's "possibly copied" flag, with the office's reason (audited): its page
    goes back to its own verdict; its view counts are kept, and the copy rule counts again
    from now. 409 if the stamp is not flagged."""
    reason = data["reason"].strip()
    return scans.clear_flag(get_session(), current_principal(), serial, reason, utcnow())


@blp.route("/labels/<string(maxlength=40):serial>")
@require_roles(*ALL_ROLES)
@blp.response(200, LabelSchema)
def get_label(serial: str) -> Label:
    """One label by its code."""
    return services.get_label(get_session(), current_principal(), serial)


@blp.route("/labels/<string(maxlength=40):serial>/trace")
@require_roles(*ALL_ROLES)
@blp.response(200, TraceSchema)
def trace_label(serial: str) -> Trace:
    """Everything behind one label: its packed lot's every event, lot and raw-material area."""
    return services.label_trace(get_session(), current_principal(), serial)


@blp.route("/labels/<string(maxlength=40):serial>/epcis")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/ld+json")
def label_epcis(serial: str) -> Response:
    """One labelled unit's whole history as an EPCIS 2.0 JSON-LD document: every event of its
    lot back to the plots, and the labelling (commissioning of GTIN + lot + serial)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    document = label_epcis_document(get_session(), current_principal(), serial, base, utcnow())
    return Response(
        json.dumps(document.body, ensure_ascii=False),
        mimetype="application/ld+json",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@blp.route("/labels/<string(maxlength=40):serial>/qr.svg")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="image/svg+xml")
def label_qr_svg(serial: str) -> Response:
    """The label's QR code as SVG (4-module quiet zone, 0.5 mm modules)."""
    label = services.get_label(get_session(), current_principal(), serial)
    return Response(qr_svg(encode(label_url(label))), mimetype="image/svg+xml")


@blp.route("/labels/<string(maxlength=40):serial>/qr.png")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="image/png")
def label_qr_png(serial: str) -> Response:
    """The label's QR code as PNG (8 pixels a module, 4-module quiet zone)."""
    label = services.get_label(get_session(), current_principal(), serial)
    return Response(qr_png(encode(label_url(label))), mimetype="image/png")


@blp.route("/labels/verify", methods=["POST"])
@reads_only
@small_body(MAX_VERIFY_BODY_BYTES)
@require_roles(*ALL_ROLES)
@blp.arguments(VERIFY_QUERY)  # one instance: not made again for every request
@blp.alt_response(200, schema=FullVerificationSchema, success=True)
@blp.alt_response(413, description="A body over 4 KiB (a stamp is a few hundred characters)")
def verify_label(data: dict[str, Any]) -> Response:
    """Verify a scanned stamp.

    Give the stamp as scanned (`url`, or the QR's raw `text`): the signature and the key's
    status (a key retired after signing still verifies), the record, the label's state, the
    certificate's status on `as_of` (default today, Vietnam), recalls, product and producer.
    The verdict names keep their meaning: genuine, invalid_signature, unknown_key,
    compromised_key, not_issued, malformed. Writes nothing and takes no write lock."""
    # On the read replica if there is one: a public read, which may be as stale as its lag.
    result = read_on_replica(
        lambda session: verify_scanned(
            session,
            get_keystore(),
            data.get("url", data.get("text", "")),
            data.get("as_of") or today_vn(),
            current_app.config["EXPIRY_WINDOW_DAYS"],
        )
    )
    return answer(result)  # the schema above documents it
