"""What shoppers tell the office: their reports (list, read, close with a note) and the
stamps flagged as possibly copied. Read and closed through ``reports.services`` and
``labels.scans`` as the API does; a flag is cleared here only where the labels service
offers ``clear_flag`` (another change adds it): otherwise the list says how to proceed."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from trace_service.api import paginate
from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError, NotFound
from trace_service.labels import scans
from trace_service.portal.access import page_roles
from trace_service.portal.forms import query_id, show_refusal
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.forms import ClearFlagForm, CloseReportForm
from trace_service.portal.office.verdicts import verdict_words
from trace_service.principal import Role, current_principal
from trace_service.registry.models import Product
from trace_service.reports import services as reports
from trace_service.reports.models import ReportStatus
from trace_service.reports.pages import PROBLEMS
from trace_service.web.i18n import t

PAGE_SIZE = 30
MAX_PAGE = 100_000


def _page() -> dict[str, int]:
    return {"page": min(query_id(request.args.get("trang")) or 1, MAX_PAGE), "page_size": PAGE_SIZE}


def _problems() -> dict[str, str]:
    return {problem.value: t(vi, en) for problem, vi, en in PROBLEMS}


def _clearing() -> Any:
    """The labels service's ``clear_flag`` once it exists (issue 12's change), else None."""
    return getattr(scans, "clear_flag", None)


@office.route("/bao-cao/")
@page_roles(Role.ADMIN)
def reports_list() -> str:
    session, actor = get_session(), current_principal()
    status = request.args.get("tinh-trang", ReportStatus.OPEN.value)
    args: dict[str, Any] = {}
    if status in {s.value for s in ReportStatus}:
        args["status"] = ReportStatus(status)
    found = paginate(session, reports.report_query(actor, args), _page())
    wanted = {r.product_id for r in found["items"] if r.product_id}
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    return render_template(
        "portal/office/reports.html",
        found=found,
        status=args.get("status"),
        problems=_problems(),
        products=products,
    )


@office.route("/bao-cao/<id:report_id>", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def report(report_id: int) -> str | BaseResponse:
    session, actor = get_session(), current_principal()
    found = reports.get_report(session, actor, report_id)
    form = CloseReportForm()
    if form.validate_on_submit():
        try:
            reports.close_report(session, actor, found.id, form.note.data)
        except DomainError as error:
            show_refusal(form, error, fallback="note")
        else:
            flash(t(f"Đã đóng báo cáo số {found.id}.", f"Report {found.id} closed."))
            return redirect(url_for("office.reports_list"))
    product = session.get(Product, found.product_id) if found.product_id else None
    return render_template(
        "portal/office/report.html",
        report=found,
        form=form,
        problems=_problems(),
        product=product,
        verdict_words=verdict_words,
    )


@office.route("/bao-cao/<id:report_id>/anh")
@page_roles(Role.ADMIN)
def report_photo(report_id: int) -> Response:
    photo = reports.report_photo(get_session(), current_principal(), report_id)
    return Response(
        photo.data,
        mimetype=photo.content_type,
        headers={"Content-Disposition": f'inline; filename="{photo.filename}"'},
    )


@office.route("/tem-nghi-sao-chep/")
@page_roles(Role.ADMIN)
def flagged() -> str:
    session = get_session()
    found = paginate(session, scans.flagged_query(current_principal(), {}), _page())
    return render_template(
        "portal/office/flagged.html",
        found=found,
        can_clear=_clearing() is not None,
        form=ClearFlagForm(),
    )


@office.route("/tem-nghi-sao-chep/<string(maxlength=40):serial>/bo-danh-dau", methods=["POST"])
@page_roles(Role.ADMIN)
def clear_flag(serial: str) -> str | BaseResponse:
    clear = _clearing()
    if clear is None:
        raise NotFound("Chưa bỏ đánh dấu tem được ở đây.", "Flags cannot be cleared here yet.")
    form = ClearFlagForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            clear(session, current_principal(), serial, form.reason.data.strip(), utcnow())
        except DomainError as error:
            show_refusal(form, error, fallback="reason")
        else:
            flash(t(f"Đã bỏ đánh dấu tem {serial}.", f"Stamp {serial} cleared."))
            return redirect(url_for("office.flagged"))
    found = paginate(get_session(), scans.flagged_query(current_principal(), {}), _page())
    return render_template(
        "portal/office/flagged.html",
        found=found,
        can_clear=True,
        form=form,
        failed=serial,
    )
