"""The office's home, the expiry board: what expires in 30, 60 or 90 days, by district in
one click, who was notified and when; every written notice of the board in one PDF."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, current_app, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from trace_service.certificates.delivery import DeliverySettings
from trace_service.certificates.standing import AsOf
from trace_service.clock import today_vn
from trace_service.db import get_session
from trace_service.errors import NotFound
from trace_service.portal.access import page_roles
from trace_service.portal.office import letters
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.board import (
    MONTHS,
    WINDOWS,
    BoardRow,
    Span,
    by_district,
    commune_of,
    communes,
    district_of,
    districts,
    expiry_board,
    letters_pdf,
    span_of,
)
from trace_service.principal import Role, current_principal
from trace_service.registry.models import AdministrativeUnit


@dataclass(frozen=True)
class BoardView:
    span: Span
    district: AdministrativeUnit | None
    commune: AdministrativeUnit | None
    rows: list[BoardRow]


def _board() -> BoardView:
    session = get_session()
    span = span_of(today_vn(), request.args.get("trong"), request.args.get("thang"))
    district = district_of(session, request.args.get("huyen"))
    commune = commune_of(session, district, request.args.get("xa"))
    as_of = AsOf(today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])
    rows = expiry_board(
        session,
        current_principal(),
        as_of,
        span.within,
        district.id if district else None,
        commune.id if commune else None,
        since=span.start if span.month else None,
    )
    return BoardView(span, district, commune, rows)


def _next_month_by_district(session: Session) -> tuple[Span, list[tuple[AdministrativeUnit, int]]]:
    """Next month's expiries, counted by district: "what expires next month in Đắk Mil" is
    one click from the board as it opens."""
    span = span_of(today_vn(), None, "sau")
    as_of = AsOf(today_vn(), current_app.config["EXPIRY_WINDOW_DAYS"])
    rows = expiry_board(session, current_principal(), as_of, span.within, since=span.start)
    return span, by_district(session, rows)


@office.route("/")
@page_roles(Role.ADMIN)
def home() -> str:
    board = _board()
    session = get_session()
    shortcut = None
    if board.span.month is None and board.district is None:
        shortcut = _next_month_by_district(session)
    return render_template(
        "portal/office/home.html",
        within=board.span.within if board.span.month is None else None,
        month=board.span.month,
        span=board.span,
        district=board.district,
        commune=board.commune,
        communes=communes(session, board.district) if board.district else [],
        rows=board.rows,
        letter_count=sum(1 for row in board.rows if row.letter is not None),
        inline_letters=letters.INLINE_LETTERS,
        shortcut=shortcut,
        windows=WINDOWS,
        months=MONTHS,
        districts=districts(session),
    )


def _letter_ids() -> list[int]:
    ids = [row.letter.id for row in _board().rows if row.letter is not None]
    if not ids:
        raise NotFound(
            "Chưa có thư thông báo nào cho các giấy chứng nhận này.",
            "No written notice exists yet for these certificates.",
        )
    return ids


@office.route("/thu-thong-bao/", methods=["POST"])
@page_roles(Role.ADMIN)
def start_letters() -> BaseResponse:
    """Many letters: drawn in the background, the officer sent to follow the progress."""
    return letters.start_response(_letter_ids())


@office.route("/thu-thong-bao.pdf")
@page_roles(Role.ADMIN)
def notice_letters() -> Response | BaseResponse:
    """The board's written 30-day notices, in one PDF to print (many: with progress)."""
    ids = _letter_ids()
    if len(ids) > letters.INLINE_LETTERS:
        return letters.start_response(ids)
    settings = DeliverySettings.from_config(current_app.config)
    pdf = letters_pdf(get_session(), current_principal(), _board().rows, settings.office)
    if pdf is None:
        raise NotFound(
            "Chưa có thư thông báo nào cho các giấy chứng nhận này.",
            "No written notice exists yet for these certificates.",
        )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="thu-thong-bao-het-han.pdf"'},
    )
