"""Imports and exports for the office.

Import: a province's list of certified products (CSV or XLSX) is first checked row by row
(the importer's dry run, nothing written) and the report shown; only a file with no problem
row can then be confirmed, and it is imported whole (``import_all_or_nothing``, audited
there). Between the two steps the file waits in a private staging folder under a random
token bound to the officer who sent it, for a day at most.

Export: the registry's producers and products and the certificates as XLSX, with the
filters of the list they come from; text written as text cells, never formulas
(``xlsx_row``). The certificate sheet's first columns carry the importer's headers, so an
export can be edited and sent back."""

from __future__ import annotations

import io
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from trace_service.certificates import importer
from trace_service.certificates.services import certificate_query
from trace_service.certificates.standing import AsOf
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import DomainError
from trace_service.portal.access import page_roles
from trace_service.portal.forms import show_refusal
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.forms import ImportForm
from trace_service.portal.office.registry import filters
from trace_service.principal import Principal, Role, current_principal
from trace_service.registry.enums import PRODUCER_KIND_VI, PRODUCT_GROUP_VI
from trace_service.registry.services import producer_query, product_query
from trace_service.spreadsheets import xlsx_row
from trace_service.web.formatting import vn_number
from trace_service.web.i18n import t

Page = str | BaseResponse
STAGED_FOR = 24 * 3600  # seconds a checked file waits for its confirmation
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- staging ---------------------------------------------------------------------------------


def _staging() -> Path:
    # Under instance/ (this service's own), not a fixed name in the shared /tmp.
    folder = Path(current_app.instance_path) / "portal" / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():  # a file never confirmed goes after a day
        if now - old.stat().st_mtime > STAGED_FOR:
            old.unlink(missing_ok=True)
    return folder


def _staged_path(token: str, actor: Principal) -> Path | None:
    if not TOKEN.match(token):
        return None
    return _staging() / f"{actor.user_id}-{token}"


def stage(content: bytes, actor: Principal) -> str:
    token = secrets.token_urlsafe(24)
    path = _staged_path(token, actor)
    assert path is not None  # noqa: S101 - token_urlsafe(24) is 32 URL-safe characters
    path.write_bytes(content)
    return token


def staged(token: str, actor: Principal) -> bytes | None:
    """The file this officer staged under ``token``, or None (another's, gone, or made up)."""
    path = _staged_path(token, actor)
    return path.read_bytes() if path is not None and path.is_file() else None


def unstage(token: str, actor: Principal) -> None:
    path = _staged_path(token, actor)
    if path is not None:
        path.unlink(missing_ok=True)


# -- import ----------------------------------------------------------------------------------


def _limits() -> importer.ImportLimits:
    return importer.ImportLimits.from_config(current_app.config)


def _filename(name: str | None) -> str:
    """The uploaded name, kept only for its extension (CSV or XLSX) and the audit."""
    cleaned = re.sub(r"[^\w.\- ]", "_", (name or "upload"))[:120]
    return cleaned or "upload"


@office.route("/nhap/", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def import_file() -> Page:
    form = ImportForm()
    report = token = filename = None
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        filename = _filename(upload.filename)
        session, actor = get_session(), current_principal()
        try:
            report = importer.import_all_or_nothing(
                session, actor, filename, content, dry_run=True, limits=_limits()
            )
        except DomainError as error:
            show_refusal(form, error, fallback="file")
        else:
            if report.ok:
                token = stage(content, actor)
    return render_template(
        "portal/office/import.html",
        form=form,
        report=report,
        token=token,
        filename=filename,
        fields=importer.FIELDS,
        max_rows=_limits().max_rows,
    )


@office.route("/nhap/xac-nhan", methods=["POST"])
@page_roles(Role.ADMIN)
def confirm_import() -> Page:
    """Import the file checked a moment ago (its CSRF token is checked app-wide)."""
    form = ImportForm(meta={"csrf": False})  # only to carry refusals: the file is staged
    session, actor = get_session(), current_principal()
    token = request.form.get("token", "")
    filename = _filename(request.form.get("filename"))
    content = staged(token, actor)
    report = None
    if content is None:
        form.form_errors.append(
            t(
                "Tệp đã kiểm tra không còn (quá một ngày, hoặc đã nhập). Hãy gửi lại tệp.",
                "The checked file is gone (over a day, or imported already). Send it again.",
            )
        )
    else:
        try:
            report = importer.import_all_or_nothing(
                session, actor, filename, content, dry_run=False, limits=_limits()
            )
        except importer.ImportRefused as refused:
            report = refused.report  # the registry changed since the check: shown again
        except DomainError as error:
            show_refusal(form, error, fallback="file")
        else:
            unstage(token, actor)
            flash(
                t(
                    f"Đã nhập {vn_number(report.imported)} giấy chứng nhận từ tệp {filename}.",
                    f"{report.imported} certificates imported from {filename}.",
                )
            )
            return redirect(url_for("office.import_file"))
    return render_template(
        "portal/office/import.html",
        form=form,
        report=report,
        token=None,
        filename=filename,
        fields=importer.FIELDS,
        max_rows=_limits().max_rows,
    )


# -- export ----------------------------------------------------------------------------------


def xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: a header row, then the rows; text stays text (never a formula)."""
    # openpyxl (~8 MiB) is imported on use, not with the app: a queue worker never needs it, and its
    # memory counts (issue 15).
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(content: bytes, name: str) -> Response:
    return Response(
        content,
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}-{today_vn():%Y%m%d}.xlsx"'},
    )


def _producer_rows(session: Session, actor: Principal, args: dict[str, Any]) -> Iterable[list[Any]]:
    for p in session.scalars(producer_query(actor, args)):
        yield [
            p.registration_code,
            p.name,
            PRODUCER_KIND_VI.get(p.kind, str(p.kind)),
            p.commune.name if p.commune else None,
            p.address,
            p.representative,
            p.phone,
            p.email,
        ]


@office.route("/xuat/chu-the.xlsx")
@page_roles(Role.ADMIN)
def export_producers() -> Response:
    header = [
        "Mã số thuế",
        "Tên chủ thể",
        "Loại hình",
        "Xã",
        "Địa chỉ",
        "Người đại diện",
        "Điện thoại",
        "Thư điện tử",
    ]
    rows = _producer_rows(get_session(), current_principal(), filters(with_group=False))
    return _download(xlsx("Chủ thể OCOP", header, rows), "chu-the-ocop")


@office.route("/xuat/san-pham.xlsx")
@page_roles(Role.ADMIN)
def export_products() -> Response:
    session, actor = get_session(), current_principal()
    header = [
        "Tên sản phẩm",
        "Tên tiếng Anh",
        "Nhóm sản phẩm",
        "GTIN",
        "Chủ thể",
        "Mã số thuế",
        "Xã",
    ]
    rows = (
        [
            p.name_vi,
            p.name_en,
            PRODUCT_GROUP_VI.get(p.product_group, str(p.product_group)),
            p.gtin,
            p.producer.name,
            p.producer.registration_code,
            p.producer.commune.name if p.producer.commune else None,
        ]
        for p in session.scalars(product_query(actor, filters(with_group=True)))
    )
    return _download(xlsx("Sản phẩm OCOP", header, rows), "san-pham-ocop")


@office.route("/xuat/giay-chung-nhan.xlsx")
@page_roles(Role.ADMIN)
def export_certificates() -> Response:
    session, actor = get_session(), current_principal()
    as_of = AsOf(today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])
    args = {k: v for k, v in filters(with_group=True).items() if k != "q"}
    header = [
        *(importer.FIELDS[key][0] for key in importer.FIELDS),
        "Hiệu lực đến",
        "Tình trạng",
        "Chủ thể",
        "Xã",
    ]
    rows = []
    for cert in session.scalars(certificate_query(actor, args, as_of)):
        view = as_of.show(cert)
        producer = cert.product.producer
        values = {
            "number": cert.number,
            "decision_number": cert.decision_number,
            "decision_date": cert.decision_date,
            "issuing_authority": cert.issuing_authority,
            "registration_code": producer.registration_code,
            "product_name": cert.product_name,
            "gtin": cert.product.gtin,
            "star": cert.star,
            "issue_date": cert.issue_date,
        }
        rows.append(
            [
                *(values[key] for key in importer.FIELDS),
                cert.valid_until,
                view.status_vi,
                producer.name,
                producer.commune.name if producer.commune else None,
            ]
        )
    return _download(xlsx("Giấy chứng nhận OCOP", header, rows), "giay-chung-nhan-ocop")
