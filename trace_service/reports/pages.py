"""The public report form: posted from the label page's partial
(``reports/_report_form.html``), from the front door's "unknown code" answer, or from its
own page at ``/bao-cao``. No sign-in, no CSRF token (see ``submit``), rate-limited per client.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response

from trace_service.db import get_session
from trace_service.labels import serials
from trace_service.labels.public import same_origin_only
from trace_service.ratelimit import Rate, check_client_limit
from trace_service.reports.models import Problem
from trace_service.reports.services import ReportForm, ReportRefused, submit_report
from trace_service.web.i18n import t
from trace_service.web.security import csrf_exempt

reports_page = Blueprint("reports_page", __name__, template_folder="templates")

# A shopper reports once or twice; more from one address within an hour is a flood.
REPORT_RATE = Rate(10, 3600)

PROBLEMS: tuple[tuple[Problem, str, str], ...] = (
    (Problem.FAKE, "Tem hoặc sản phẩm có vẻ là hàng giả", "The stamp or product looks fake"),
    (
        Problem.EXPIRED,
        "Vẫn bán dù đã hết hạn, bị thu hồi hoặc hết chứng nhận",
        "Sold although expired, recalled or no longer certified",
    ),
    (Problem.QUALITY, "Chất lượng sản phẩm có vấn đề", "A problem with the product's quality"),
    (
        Problem.WRONG_INFO,
        "Tem hoặc trang kiểm tra không khớp với sản phẩm",
        "The stamp or its page does not match the product",
    ),
    (Problem.OTHER, "Điều khác", "Something else"),
)


@reports_page.app_template_global("report_problems")
def report_problems() -> list[tuple[str, str]]:
    return [(problem.value, t(vi, en)) for problem, vi, en in PROBLEMS]


@reports_page.app_template_global("report_hotline")
def report_hotline() -> tuple[str, str] | None:
    """The hotline as shown and as a ``tel:`` number, or None when none is configured."""
    shown = str(current_app.config["HOTLINE"]).strip()
    dialled = re.sub(r"[^0-9+]", "", shown)
    return (shown, dialled) if dialled else None


@reports_page.app_template_global("report_code_shown")
def report_code_shown(code: str) -> str:
    """A code on the report page as the stamp prints one: 15 letters and digits grouped
    5-5-5 ("1JKVQ-AXQBP-WJEA2"), whether or not it is a real serial; anything else as sent."""
    text = code.strip()
    if len(text) == serials.LENGTH and text.isascii() and text.isalnum():
        return serials.grouped(text)
    return code


def _form_from_request() -> ReportForm:
    values = request.form
    upload = request.files.get("photo")
    photo = None
    if upload is not None and upload.filename:
        # One byte past the cap is enough to refuse it: never read a larger file whole.
        photo = upload.stream.read(current_app.config["MAX_UPLOAD_BYTES"] + 1) or None
    return ReportForm(
        code=values.get("code", ""),
        verdict=values.get("verdict", ""),
        problem=values.get("problem", ""),
        details=values.get("details", ""),
        place=values.get("place", ""),
        contact=values.get("contact", ""),
        photo=photo,
    )


@reports_page.get("/bao-cao")
def report_form() -> str:
    """The form on a page of its own (for a code met anywhere)."""
    code = request.args.get("code", "")[:64]
    verdict = request.args.get("verdict", "")[:32]
    return render_template("reports/report.html", code=code, verdict=verdict)


@reports_page.post("/bao-cao")
@csrf_exempt(
    "a shopper's report, sent without signing in from pages served to anyone: it acts for "
    "no signed-in user and changes nothing of theirs (rate-limited per client, and another "
    "site's Origin refused, instead)"
)
def submit() -> Response | tuple[str, int]:
    same_origin_only()  # no other site makes its visitors report a competitor's stamp
    check_client_limit("consumer_report", REPORT_RATE)
    form = _form_from_request()
    try:
        report = submit_report(get_session(), form, current_app.config["MAX_UPLOAD_BYTES"])
    except ReportRefused as refused:
        html = render_template(
            "reports/report.html",
            code=form.code[:64],
            verdict=form.verdict[:32],
            report_values=form,
            report_errors={name: t(vi, en) for name, (vi, en) in refused.fields.items()},
        )
        return html, 200  # refused beside the fields, as the portal's forms are
    return redirect(url_for("reports_page.received", so=report.id), code=303)


@reports_page.get("/bao-cao/da-nhan")
def received() -> str:
    number = request.args.get("so", "")
    return render_template("reports/received.html", number=number if number.isdigit() else "")
