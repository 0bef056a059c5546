"""Certificates API: evaluations, certificates, revocation, expiry notices, reports."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from trace_service.api import ApiBlueprint, accepts_files, page_schema, paginate
from trace_service.auth.access import ALL_ROLES, current_principal, require_roles
from trace_service.auth.principal import Role
from trace_service.certificates import importer, reports, services
from trace_service.certificates.delivery import DeliverySettings
from trace_service.certificates.models import Certificate, Evaluation, ExpiryNotice
from trace_service.certificates.notices import LETTER_THRESHOLD_DAYS, letter_pdf
from trace_service.certificates.schemas import (
    CertificateQuerySchema,
    CertificateSchema,
    EvaluationQuerySchema,
    EvaluationSchema,
    LabelVerdictSchema,
    RevocationSchema,
)
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import InvalidInput, NotFound
from trace_service.registry import services as registry
from trace_service.registry.models import Product

blp = ApiBlueprint(
    "certificates",
    __name__,
    url_prefix="/api/v1",
    description="OCOP evaluations, certificates and expiry notices",
)
READERS = (Role.ADMIN, Role.INSPECTOR)


def _window() -> int:
    return current_app.config["EXPIRY_WINDOW_DAYS"]


@blp.route("/evaluations", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(EvaluationSchema)
@blp.response(201, EvaluationSchema)
def record_evaluation(data: dict[str, Any]) -> Evaluation:
    """Record a council's rating of a product (scores A ≤ 40, B ≤ 25, C ≤ 35)."""
    session, actor = get_session(), current_principal()
    product = registry.get_product(session, actor, data["product_id"])
    return services.record_evaluation(session, actor, product, data, today_vn())


@blp.route("/evaluations")
@require_roles(*ALL_ROLES)
@blp.arguments(EvaluationQuerySchema, location="query")
@blp.response(200, page_schema(EvaluationSchema))
def list_evaluations(args: dict[str, Any]) -> dict[str, Any]:
    """Evaluations (a producer sees its own products' evaluations)."""
    actor = current_principal()
    stmt = select(Evaluation).join(Product).order_by(Evaluation.id)
    if actor.is_producer:
        stmt = stmt.where(Product.producer_id == actor.producer_id)
    if "product_id" in args:
        stmt = stmt.where(Evaluation.product_id == args["product_id"])
    return paginate(get_session(), stmt, args)


@blp.route("/evaluations/<id:evaluation_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, EvaluationSchema)
def get_evaluation(evaluation_id: int) -> Evaluation:
    """One evaluation."""
    session, actor = get_session(), current_principal()
    evaluation = services.get_evaluation(session, evaluation_id)
    if actor.is_producer and not actor.owns(evaluation.product.producer_id):
        raise NotFound("Không tìm thấy kết quả đánh giá.", "No evaluation has this id.")
    return evaluation


@blp.route("/certificates", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(CertificateSchema)
@blp.response(201, CertificateSchema)
def issue_certificate(data: dict[str, Any]) -> Certificate:
    """Issue the certificate of a 3★+ evaluation; it supersedes the product's standing one."""
    return services.issue_certificate(get_session(), current_principal(), data, today_vn())


@blp.route("/certificates")
@require_roles(*ALL_ROLES)
@blp.arguments(CertificateQuerySchema, location="query")
@blp.response(200, page_schema(CertificateSchema))
def list_certificates(args: dict[str, Any]) -> dict[str, Any]:
    """Certificates with their status and expiry notices (who has been notified, how).

    E.g. `?expiring_within_days=90&district_id=…`: what expires in the next 90 days in a
    district, soonest first; `?status=expired`: expired and not re-evaluated.
    """
    stmt = services.certificate_query(current_principal(), args, today_vn(), _window())
    return paginate(get_session(), stmt, args)


@blp.route("/certificates/<id:certificate_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, CertificateSchema)
def get_certificate(certificate_id: int) -> Certificate:
    """One certificate, its status and its notices."""
    return services.get_certificate(get_session(), current_principal(), certificate_id)


@blp.route("/certificates/<id:certificate_id>/revocation", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(RevocationSchema)
@blp.response(200, CertificateSchema)
def revoke_certificate(data: dict[str, Any], certificate_id: int) -> Certificate:
    """Revoke (thu hồi) a certificate; its product's labels stop at once."""
    session, actor = get_session(), current_principal()
    cert = services.get_certificate(session, actor, certificate_id)
    return services.revoke_certificate(session, actor, cert, data, today_vn())


@blp.route("/products/<id:product_id>/label-status")
@require_roles(*ALL_ROLES)
@blp.response(200, LabelVerdictSchema)
def label_status(product_id: int) -> services.LabelVerdict:
    """May this product carry the OCOP star label today, and if not, why."""
    session = get_session()
    registry.get_product(session, current_principal(), product_id)
    return services.may_label(session, product_id, today_vn())


@blp.route("/expiry-notices/<id:notice_id>/letter.pdf")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/pdf")
def expiry_letter(notice_id: int) -> Response:
    """The written 30-day notice to the producer, as a printable PDF letter."""
    session, actor = get_session(), current_principal()
    notice = session.get(ExpiryNotice, notice_id)
    if notice is None or notice.threshold_days != LETTER_THRESHOLD_DAYS:
        raise NotFound("Không có thư thông báo này.", "No 30-day letter has this id.")
    services.get_certificate(session, actor, notice.certificate_id)  # scoping
    pdf = letter_pdf(notice, DeliverySettings.from_config(current_app.config).office)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="thong-bao-{notice.id}.pdf"'},
    )


class StatsSchema(Schema):
    day = fields.Date()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    standing_by_star = fields.Dict(keys=fields.String(), values=fields.Integer())
    standing_by_product_group = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_unit = fields.List(fields.Dict())


@blp.route("/certificates/stats")
@require_roles(*READERS)
@blp.response(200, StatsSchema)
def certificate_stats() -> dict[str, Any]:
    """Counts by status, by star (standing certificates), by product group and by unit."""
    return reports.certificate_stats(get_session(), today_vn(), _window())


class PlanQuerySchema(Schema):
    year = fields.Integer(load_default=2025, validate=validate.Range(min=2019, max=2100))


class PlanReportSchema(Schema):
    year = fields.Integer()
    source = fields.String()
    targets = fields.List(fields.Dict())
    per_district = fields.List(fields.Dict())
    certified_products = fields.Integer()
    day = fields.Date()


@blp.route("/reports/ocop-plan")
@require_roles(*READERS)
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanReportSchema)
def plan_targets(args: dict[str, Any]) -> dict[str, Any]:
    """The year's plan targets (Kế hoạch 93/KH-UBND for 2025) against actual figures."""
    return reports.plan_report(get_session(), args["year"], today_vn())


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Only check the file and report"}
    )


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The list, as .csv or .xlsx"})


class ImportValuesSchema(Schema):
    number = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    issuing_authority = fields.String(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    star = fields.Integer(allow_none=True)
    issue_date = fields.Date(allow_none=True)


class ImportRowSchema(Schema):
    line = fields.Integer()
    problems = fields.List(fields.String())
    values = fields.Nested(ImportValuesSchema)


class ImportReportSchema(Schema):
    ok = fields.Boolean()
    dry_run = fields.Boolean()
    imported = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))


@blp.route("/certificates/import", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
@accepts_files
def import_certificates(query: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
    """Import a province's list of certified products (CSV or XLSX): all rows or none.

    With `?dry_run=true` every row is checked and reported and nothing is written. Without
    it, any problem refuses the whole file (422, the problem rows under `errors.rows`).
    A file over the limits (`OCOP_IMPORT_MAX_ROWS` data rows, an XLSX unpacking to more than
    `OCOP_IMPORT_MAX_UNCOMPRESSED_BYTES`) is refused with 413 before it is parsed.
    """
    upload = files["file"]
    report = importer.import_certificates(
        get_session(),
        current_principal(),
        upload.filename or "upload",
        upload.read(),
        dry_run=query["dry_run"],
        limits=importer.ImportLimits.from_config(current_app.config),
    )
    if not report.ok and not query["dry_run"]:
        rows = ImportRowSchema(many=True).dump([r for r in report.rows if r.problems])
        raise InvalidInput(
            "Tệp có dòng lỗi; không nhập dòng nào.",
            "Some rows have problems; nothing was imported.",
            errors={"rows": rows},
        )
    return {
        "ok": report.ok,
        "dry_run": query["dry_run"],
        "imported": report.imported,
        "rows": report.rows,
    }
