"""Labels API: ordering print runs, following their build, downloading their files;
looking up and verifying single labels."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, after_this_request, current_app, request, send_file, url_for
from sqlalchemy import Select, select

from trace_service.api import ApiBlueprint, PageArgs, page_schema, paginate, takes_no_body
from trace_service.audit.services import record_event
from trace_service.auth.access import ALL_ROLES, current_principal, require_roles
from trace_service.auth.principal import Principal, Role
from trace_service.clock import today_vn
from trace_service.db import get_session, utcnow
from trace_service.errors import Conflict, InvalidInput, NotFound
from trace_service.labels import build, jobs, serials, services
from trace_service.labels.models import Label, PrintRun, RunStatus
from trace_service.labels.qrbatch import encode
from trace_service.labels.schemas import (
    LabelSchema,
    PrintRunOrderSchema,
    PrintRunQuerySchema,
    PrintRunSchema,
    SheetQuerySchema,
    VerificationSchema,
    VerifyRequestSchema,
    ZplQuerySchema,
    label_url,
)
from trace_service.labels.tags import LabelTag
from trace_service.labels.verify import Verification, find_label, verify_url
from trace_service.signing.service import get_keystore
from trace_service.trace import services as trace_services
from trace_service.trace.schemas import TraceSchema

blp = ApiBlueprint(
    "labels",
    __name__,
    url_prefix="/api/v1",
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
    session, actor = get_session(), current_principal()
    order = services.RunOrder(
        product_id=data["product_id"],
        lot_id=data["lot_id"],
        quantity=data["quantity"],
        scratch=data["scratch_code"],
        certificate_id=data.get("certificate_id"),
        idempotency_key=_idempotency_key(),
    )
    run, created = services.order_print_run(
        session, actor, order, get_keystore(), jobs.label_base_url()
    )
    location = {"Location": url_for("labels.get_print_run", run_id=run.id)}
    if not created:
        return run, 200, location
    _build_after_commit(run.id, actor)
    return run, 202, location


def _build_after_commit(run_id: int, actor: Principal) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["LABEL_BUILD"] == "inline":
        jobs.start_build(run_id, actor, app)
        return

    @after_this_request
    def _later(response: Response) -> Response:
        # Runs once the response is closed, after the unit of work committed the run, so
        # the builder's own connection sees its labels.
        if response.status_code < 400:
            response.call_on_close(lambda: jobs.start_build(run_id, actor, app))
        return response


def _runs_query(actor: Principal) -> Select[Any]:
    stmt = select(PrintRun).order_by(PrintRun.id.desc())
    if actor.is_producer:
        stmt = stmt.where(PrintRun.producer_id == actor.producer_id)
    return stmt


def _get_run(run_id: int) -> PrintRun:
    run = get_session().get(PrintRun, run_id)
    actor = current_principal()
    if run is None or (actor.is_producer and not actor.owns(run.producer_id)):
        raise NotFound("Không tìm thấy đợt in.", "No print run has this id.")
    return run


@blp.route("/print-runs")
@require_roles(*ALL_ROLES)
@blp.arguments(PrintRunQuerySchema, location="query")
@blp.response(200, page_schema(PrintRunSchema))
def list_print_runs(args: dict[str, Any]) -> dict[str, Any]:
    """Print runs, newest first (a producer sees its own)."""
    stmt = _runs_query(current_principal())
    for name in ("product_id", "lot_id", "status"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(PrintRun, name) == args[name])
    return paginate(get_session(), stmt, args)


@blp.route("/print-runs/<id:run_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, PrintRunSchema)
def get_print_run(run_id: int) -> PrintRun:
    """One print run with its build progress and file links."""
    return _get_run(run_id)


@blp.route("/print-runs/<id:run_id>/build", methods=["POST"])
@takes_no_body
@require_roles(*ORDERERS)
@blp.response(202, PrintRunSchema)
def resume_print_run(run_id: int) -> PrintRun:
    """Build a failed (or stalled) run's files again, from the same labels; also a ready run
    whose files are missing on the server."""
    run = _get_run(run_id)
    session = get_session()
    if run.status is RunStatus.READY:
        if not build.missing_files(run, jobs.files_root()):
            raise Conflict("Đợt in đã có tệp để tải.", "This run is built; download its files.")
        build.reopen(session, run)
    if run.status is RunStatus.BUILDING and not build.lease_expired(run):
        raise Conflict(
            "Đợt in đang được dựng; theo dõi tiến độ.",
            "This run is being built now; follow its progress.",
        )
    record_event(session, current_principal(), LabelTag.RUN_BUILD_RESUMED, "print_run", run.id)
    _build_after_commit(run.id, current_principal())
    return run


def _ready(run: PrintRun) -> None:
    if run.status is not RunStatus.READY:
        raise Conflict(
            "Tệp in chưa sẵn sàng; theo dõi tiến độ đợt in.",
            f"The files are not ready (status {run.status.value}); follow the run's progress.",
        )


def _gone() -> Conflict:
    return Conflict(
        "Tệp in không còn trên máy chủ; hãy dựng lại đợt in (POST …/build).",
        "The file is no longer on the server; build the run again (POST …/build).",
    )


@blp.route("/print-runs/<id:run_id>/sheet.pdf")
@require_roles(*ALL_ROLES)
@blp.arguments(SheetQuerySchema, location="query")
@blp.response(200, content_type="application/pdf")
def run_sheet(args: dict[str, Any], run_id: int) -> Response:
    """The A4 sheet of stamps for sticker paper: print at 100 % ("actual size"). Runs over
    10,000 labels come as several PDFs (`part`)."""
    run = _get_run(run_id)
    _ready(run)
    sheets = run.files["sheets"]
    if args["part"] > len(sheets):
        raise NotFound(
            f"Đợt in này chỉ có {len(sheets)} tệp PDF.", f"This run has {len(sheets)} PDF(s)."
        )
    sheet = sheets[args["part"] - 1]
    path = build.run_dir(jobs.files_root(), run.id) / sheet["name"]
    if not path.is_file():
        raise _gone()
    suffix = "" if len(sheets) == 1 else f"-phan-{args['part']}"
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"tem-ocop-dot-in-{run.id}{suffix}.pdf",
        etag=sheet["sha256"],
    )


@blp.route("/print-runs/<id:run_id>/labels.zpl")
@require_roles(*ALL_ROLES)
@blp.arguments(ZplQuerySchema, location="query")
@blp.response(200, content_type="application/zpl")
def run_zpl(args: dict[str, Any], run_id: int) -> Response:
    """The run for a thermal roll printer (50 × 30 mm labels) as ZPL, at 203 or 300 dpi:
    drawn by the run's build with its A4 sheet, never in this request."""
    run = _get_run(run_id)
    _ready(run)
    dpi = args["dpi"]
    entry = next((z for z in run.files.get("zpl", []) if z["dpi"] == dpi), None)
    if entry is None:  # built before ZPL was drawn with the sheet
        raise Conflict(
            "Đợt in này chưa có tệp ZPL; hãy dựng lại đợt in (POST …/build) rồi tải lại.",
            "This run was built without ZPL files; build it again (POST …/build), then download.",
        )
    if "error" in entry:
        raise Conflict(
            f"Không in được đợt in này trên nhãn nhiệt 50 × 30 mm ở {dpi} dpi (mã QR quá lớn "
            "cho nhãn); hãy in tờ A4.",
            f"This run cannot be printed on 50 × 30 mm thermal labels at {dpi} dpi: "
            f"{entry['error']}; print the A4 sheet.",
        )
    path = build.run_dir(jobs.files_root(), run.id) / entry["name"]
    if not path.is_file():
        raise _gone()
    return send_file(
        path,
        mimetype="application/zpl",
        as_attachment=True,
        download_name=f"tem-ocop-dot-in-{run.id}-{dpi}dpi.zpl",
        etag=entry["sha256"],
    )


@blp.route("/print-runs/<id:run_id>/labels")
@require_roles(*ALL_ROLES)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(LabelSchema))
def list_run_labels(args: dict[str, Any], run_id: int) -> dict[str, Any]:
    """The run's labels in sheet order, each with its serial and the URL in its QR."""
    run = _get_run(run_id)
    return paginate(
        get_session(), select(Label).where(Label.run_id == run.id).order_by(Label.seq), args
    )


def _get_label(serial: str) -> Label:
    """A label by its code as printed or typed ("7k3m9-qxa2b-cdef4" works)."""
    canonical = serials.normalise_typed(serial)
    label = find_label(get_session(), canonical) if canonical else None
    actor = current_principal()
    if label is None or (actor.is_producer and not actor.owns(label.run.producer_id)):
        raise NotFound("Không có tem nào mang mã này.", "No label has this code.")
    return label


@blp.route("/labels/<string(maxlength=40):serial>")
@require_roles(*ALL_ROLES)
@blp.response(200, LabelSchema)
def get_label(serial: str) -> Label:
    """One label by its code."""
    return _get_label(serial)


@blp.route("/labels/<string(maxlength=40):serial>/trace")
@require_roles(*ALL_ROLES)
@blp.response(200, TraceSchema)
def trace_label(serial: str) -> trace_services.Trace:
    """Everything behind one label: its packed lot's every event, lot and raw-material area."""
    label = _get_label(serial)
    return trace_services.backward_trace(get_session(), label.run.lot)


@blp.route("/labels/<string(maxlength=40):serial>/epcis")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/ld+json")
def label_epcis(serial: str) -> Response:
    """One labelled unit's whole history as an EPCIS 2.0 JSON-LD document: every event of its
    lot back to the plots, and the labelling (commissioning of GTIN + lot + serial)."""
    from trace_service.labels.export import label_history_document

    label = _get_label(serial)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    document = label_history_document(get_session(), label, base, utcnow())
    return Response(
        json.dumps(document, ensure_ascii=False),
        mimetype="application/ld+json",
        headers={"Content-Disposition": f'inline; filename="label-{label.serial}-epcis.json"'},
    )


@blp.route("/labels/<string(maxlength=40):serial>/qr.svg")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="image/svg+xml")
def label_qr_svg(serial: str) -> Response:
    """The label's QR code as SVG (4-module quiet zone, 0.5 mm modules)."""
    from trace_service.labels.render.qr_image import qr_svg

    return Response(qr_svg(encode(label_url(_get_label(serial)))), mimetype="image/svg+xml")


@blp.route("/labels/<string(maxlength=40):serial>/qr.png")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="image/png")
def label_qr_png(serial: str) -> Response:
    """The label's QR code as PNG (8 pixels a module, 4-module quiet zone)."""
    from trace_service.labels.render.qr_image import qr_png

    return Response(qr_png(encode(label_url(_get_label(serial)))), mimetype="image/png")


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


@blp.route("/labels/verify", methods=["POST"])
@require_roles(*ALL_ROLES)
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerificationSchema)
def verify_label(data: dict[str, Any]) -> dict[str, Any]:
    """Verify a scanned label URL: signature, record, certificate status today, recalls."""
    result = verify_url(
        get_session(),
        get_keystore(),
        data["url"],
        today_vn(),
        current_app.config["EXPIRY_WINDOW_DAYS"],
    )
    return verification_view(result)
