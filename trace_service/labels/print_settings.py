"""How a run is laid on paper: its sticker stock, the first free position on a partly used
sheet, and the producer's print offset (found with the calibration page, kept per producer,
copied into each run ordered so that a file drawn again is the same file)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import EventTag
from trace_service.db import utcnow
from trace_service.errors import Forbidden, InvalidInput, field_error, raise_all
from trace_service.labels.models import PrintRun, PrintSettings
from trace_service.labels.render.sheet_pdf import MAX_OFFSET_MM
from trace_service.labels.render.stocks import DEFAULT_STOCK, get_stock, qr_modules, stocks
from trace_service.principal import Principal


class PrintTag(EventTag):
    OFFSET_SET = "label:print_settings:offset_set"


@dataclass(frozen=True)
class Offset:
    x_mm: Decimal  # + right
    y_mm: Decimal  # + down

    @classmethod
    def of(cls, settings: PrintSettings | None) -> Offset:
        if settings is None:
            return cls(Decimal(0), Decimal(0))
        return cls(
            Decimal(settings.offset_x_tenth_mm) / 10, Decimal(settings.offset_y_tenth_mm) / 10
        )

    def as_floats(self) -> tuple[float, float]:
        return float(self.x_mm), float(self.y_mm)


def offset_problems(x_mm: Decimal | None, y_mm: Decimal | None) -> list[InvalidInput]:
    """Each offset out of range, both at once (None: not read, not checked)."""
    problems = []
    for field, value in (("offset_x", x_mm), ("offset_y", y_mm)):
        # copy_abs: abs() overflows 1e999999999
        if value is not None and (not value.is_finite() or value.copy_abs() > MAX_OFFSET_MM):
            problems.append(
                field_error(
                    field,
                    vi=f"Độ lệch tối đa ±{MAX_OFFSET_MM} mm; máy in lệch hơn thế cần sửa máy.",
                    en=f"An offset is at most ±{MAX_OFFSET_MM} mm; a printer further off needs "
                    "repair.",
                )
            )
    return problems


def _tenths(value: Decimal) -> int:
    return int((value * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def offset_of(session: Session, producer_id: int) -> Offset:
    return Offset.of(session.get(PrintSettings, producer_id))


def own_offset(session: Session, actor: Principal) -> Offset:
    """The signed-in producer's offset (the office has none of its own)."""
    if actor.producer_id is None:
        return Offset(Decimal(0), Decimal(0))
    return offset_of(session, actor.producer_id)


def set_offset(session: Session, actor: Principal, x_mm: Decimal, y_mm: Decimal) -> Offset:
    """Keep the producer's own offset (to a tenth of a millimetre), audited."""
    if not actor.is_producer or actor.producer_id is None:
        raise Forbidden(
            "Chỉ chủ thể sản xuất đặt độ lệch máy in của mình.",
            "Only a producer sets their own printer's offset.",
        )
    raise_all(offset_problems(x_mm, y_mm))
    x, y = _tenths(x_mm), _tenths(y_mm)
    settings = session.get(PrintSettings, actor.producer_id)
    before = Offset.of(settings)
    if settings is None:
        settings = PrintSettings(producer_id=actor.producer_id)
        session.add(settings)
    settings.offset_x_tenth_mm, settings.offset_y_tenth_mm = x, y
    settings.updated_at, settings.updated_by = utcnow(), actor.user_id
    session.flush()
    after = Offset.of(settings)
    record_event(
        session,
        actor,
        PrintTag.OFFSET_SET,
        "producer",
        actor.producer_id,
        {
            "before_mm": [str(before.x_mm), str(before.y_mm)],
            "after_mm": [str(after.x_mm), str(after.y_mm)],
        },
    )
    return after


def layout_problems(stock: str, start_position: int | None, scratch: bool) -> list[InvalidInput]:
    """What an order's layout can be refused for before any label is issued, every field's
    problem at once (a start position of None is not checked)."""
    known = get_stock(stock)
    if known is None:
        names = ", ".join(s.name for s in stocks())
        return [
            field_error(
                "stock",
                vi=f"Không có loại giấy in {stock!r}; hãy chọn một trong: {names}.",
                en=f"There is no stock {stock!r}; choose one of: {names}.",
            )
        ]
    problems = []
    if start_position is not None and not 1 <= start_position <= known.per_page:
        problems.append(
            field_error(
                "start_position",
                vi=f"Tờ {known.title_vi} có các vị trí 1 đến {known.per_page}.",
                en=f"The sheet has positions 1 to {known.per_page}.",
            )
        )
    if scratch and not known.scratch:
        roomy = [s for s in stocks() if s.scratch]  # named, so the next try is the right one
        problems.append(
            field_error(
                "stock",
                vi="Tem trên loại giấy này không có chỗ cho mã cào; hãy chọn: "
                + "; ".join(s.title_vi for s in roomy)
                + ".",
                en="Stamps on this stock have no room for a scratch code; choose: "
                + "; ".join(s.title_en for s in roomy)
                + ".",
            )
        )
    return problems


def check_qr_fits(stock: str, qr_version: int) -> None:
    """A QR code is never drawn smaller than its stock's module size: a code too large for
    the stamp is refused, not shrunk below what phones decode."""
    known = get_stock(stock)
    if known is not None and qr_modules(qr_version) > known.max_qr_modules:
        raise field_error(
            "stock",
            vi="Mã QR của đợt in này quá lớn cho tem trên loại giấy này; hãy chọn loại khác.",
            en="This run's QR code is too large for the stamps of this stock; choose another.",
        )


def sheet_options(run: PrintRun, part: int = 1) -> dict[str, Any]:
    """``render_sheet_pdf``'s stock arguments for one part of a run: the start position
    applies to the first sheet of the first part only."""
    return {
        "template": run.stock or DEFAULT_STOCK,
        "start": run.start_position if part == 1 else 1,
        "offset": (run.offset_x_tenth_mm / 10, run.offset_y_tenth_mm / 10),
    }
