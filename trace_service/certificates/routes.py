"""Certificates API: evaluations, certificates, revocation, expiry notices, reports.

Each route: its arguments, one service call, the response. Statuses are those of today
(Vietnam time) with the configured expiring window (``_as_of``), computed by the services.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from trace_service.api import API_PREFIX, ApiBlueprint, accepts_files, page_schema, paginate
from trace_service.certificates import importer, reports, services
from trace_service.certificates.delivery import DeliverySettings
from trace_service.certificates.models import Dossier, Evaluation
from trace_service.certificates.schemas import (
    CertificateQuerySchema,
    CertificateSchema,
    DossierQuerySchema,
    DossierSchema,
    EvaluationQuerySchema,
    EvaluationSchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportReportSchema,
    LabelVerdictSchema,
    PlanQuerySchema,
    PlanReportSchema,
    RevocationSchema,
    StatsSchema,
)
from trace_service.certificates.standing import AsOf, CertificateView
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.principal import ALL_ROLES, Role, current_principal, require_roles
from trace_service.registry import services as registry

blp = ApiBlueprint(
    "certificates",
    __name__,
    url_prefix=API_PREFIX,
    description="OCOP evaluations, certificates and expiry notices",
)
READERS = (Role.ADMIN, Role.INSPECTOR)


def _as_of() -> AsOf:
    return AsOf(today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])


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
    return paginate(get_session(), services.evaluation_query(current_principal(), args), args)


@blp.route("/evaluations/<id:evaluation_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, EvaluationSchema)
def get_evaluation(evaluation_id: int) -> Evaluation:
    """One evaluation."""
    return services.get_evaluation(get_session(), current_principal(), evaluation_id)


@blp.route("/ocop-dossiers", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(DossierSchema)
@blp.response(201, DossierSchema)
def record_dossier(data: dict[str, Any]) -> Dossier:
    """Record a product's OCOP dossier for a year's round: the star it is entered for, the day
    it was registered and, once sent, the day it was submitted (the plan board counts them)."""
    session, actor = get_session(), current_principal()
    product = registry.get_product(session, actor, data["product_id"])
    return services.record_dossier(session, actor, product, data, today_vn())


@blp.route("/ocop-dossiers")
@require_roles(*ALL_ROLES)
@blp.arguments(DossierQuerySchema, location="query")
@blp.response(200, page_schema(DossierSchema))
def list_dossiers(args: dict[str, Any]) -> dict[str, Any]:
    """OCOP dossiers (a producer sees its own products')."""
    return paginate(get_session(), services.dossier_query(current_principal(), args), args)


@blp.route("/certificates", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(CertificateSchema)
@blp.response(201, CertificateSchema)
def issue_certificate(data: dict[str, Any]) -> CertificateView:
    """Issue the certificate of a 3★+ evaluation; it supersedes the product's standing one."""
    as_of = _as_of()
    return as_of.show(
        services.issue_certificate(get_session(), current_principal(), data, as_of.day)
    )


@blp.route("/certificates")
@require_roles(*ALL_ROLES)
@blp.arguments(CertificateQuerySchema, location="query")
@blp.response(200, page_schema(CertificateSchema))
def list_certificates(args: dict[str, Any]) -> dict[str, Any]:
    """Certificates with their status and expiry notices (who has been notified, how).

    E.g. `?expiring_within_days=90&district_id=…`: what expires in the next 90 days in a
    district, soonest first; `?status=expired`: expired and not re-evaluated.
    """
    as_of = _as_of()
    stmt = services.certificate_query(current_principal(), args, as_of)
    return as_of.show_page(paginate(get_session(), stmt, args))


@blp.route("/certificates/<id:certificate_id>")
@require_roles(*ALL_ROLES)
@blp.response(200, CertificateSchema)
def get_certificate(certificate_id: int) -> CertificateView:
    """One certificate, its status and its notices."""
    return _as_of().show(
        services.get_certificate(get_session(), current_principal(), certificate_id)
    )


@blp.route("/certificates/<id:certificate_id>/revocation", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(RevocationSchema)
@blp.response(200, CertificateSchema)
def revoke_certificate(data: dict[str, Any], certificate_id: int) -> CertificateView:
    """Revoke (thu hồi) a certificate; its product's labels stop at once."""
    session, actor, as_of = get_session(), current_principal(), _as_of()
    cert = services.get_certificate(session, actor, certificate_id)
    return as_of.show(services.revoke_certificate(session, actor, cert, data, as_of.day))


@blp.route("/products/<id:product_id>/label-status")
@require_roles(*ALL_ROLES)
@blp.response(200, LabelVerdictSchema)
def label_status(product_id: int) -> services.LabelVerdict:
    """May this product carry the OCOP star label today, and if not, why."""
    return services.label_status(get_session(), current_principal(), product_id, today_vn())


@blp.route("/expiry-notices/<id:notice_id>/letter.pdf")
@require_roles(*ALL_ROLES)
@blp.response(200, content_type="application/pdf")
def expiry_letter(notice_id: int) -> Response:
    """The written 30-day notice to the producer, as a printable PDF letter."""
    office = DeliverySettings.from_config(current_app.config).office
    letter = services.expiry_letter(get_session(), current_principal(), notice_id, office)
    return Response(
        letter.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{letter.filename}"'},
    )


@blp.route("/certificates/stats")
@require_roles(*READERS)
@blp.response(200, StatsSchema)
def certificate_stats() -> dict[str, Any]:
    """Counts by status, by star (standing certificates), by product group and by unit."""
    return reports.certificate_stats(get_session(), _as_of())


@blp.route("/reports/ocop-plan")
@require_roles(*READERS)
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanReportSchema)
def plan_targets(args: dict[str, Any]) -> dict[str, Any]:
    """The year's plan targets (Kế hoạch 93/KH-UBND for 2025) against actual figures."""
    return reports.plan_report(get_session(), args["year"], today_vn())


@blp.route("/certificates/import", methods=["POST"])
@require_roles(Role.ADMIN)
@blp.arguments(ImportQuerySchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
@accepts_files
def import_certificates(query: dict[str, Any], files: dict[str, Any]) -> importer.ImportReport:
    """Import a province's list of certified products (CSV or XLSX): all rows or none.

    With `?dry_run=true` every row is checked and reported and nothing is written. Without
    it, any problem refuses the whole file (422, the problem rows under `errors.rows`).
    A file over the limits (`OCOP_IMPORT_MAX_ROWS` data rows, an XLSX unpacking to more than
    `OCOP_IMPORT_MAX_UNCOMPRESSED_BYTES`) is refused with 413 before it is parsed.
    """
    upload = files["file"]
    return importer.import_all_or_nothing(
        get_session(),
        current_principal(),
        upload.filename or "upload",
        upload.read(),
        dry_run=query["dry_run"],
        limits=importer.ImportLimits.from_config(current_app.config),
    )
