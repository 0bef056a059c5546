"""Recording a consumer's report, and the office's list and closing of reports.

A report comes from the public: every field is checked here, with messages in both
languages by field so the form can show each beside its field; a photo is accepted only as
a PNG or JPEG known by its bytes (as trace attachments are, ``trace/files.py``) and under
the upload cap. Services flush and audit; the request commits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from trace_service.audit.services import record_event
from trace_service.auth.scoping import get_owned, scoped
from trace_service.clock import VIETNAM
from trace_service.db import utcnow
from trace_service.errors import Conflict, InvalidInput, NotFound
from trace_service.labels import serials
from trace_service.labels.models import Label
from trace_service.principal import ANONYMOUS, Principal
from trace_service.registry.photos import Encoded, PhotoRefused, reencode
from trace_service.reports.models import ConsumerReport, Problem, ReportStatus
from trace_service.reports.tags import ReportTag
from trace_service.web.formatting import vn_number

# Wider than a product photo: the office reads a stamp's print and a label's small text.
REPORT_PHOTO_WIDTH = 1280
MAX_DETAILS = 2000
MAX_PLACE = 200
MAX_CONTACT = 200
MAX_CODE = 64
MAX_NOTE = 2000
_VERDICT = re.compile(r"[a-z0-9_-]{1,32}")
UNKNOWN_VERDICT = "unknown"


@dataclass
class ReportForm:
    """What the public form sent, as text (nothing trusted yet)."""

    code: str = ""
    verdict: str = ""
    problem: str = ""
    details: str = ""
    place: str = ""
    contact: str = ""
    photo: bytes | None = None


class ReportRefused(InvalidInput):
    """The form's refusals, field by field (Vietnamese, English), for the page to show."""

    def __init__(self, refusals: dict[str, tuple[str, str]]) -> None:
        first_vi, first_en = next(iter(refusals.values()))
        errors = {name: [en] for name, (_vi, en) in refusals.items()}
        super().__init__(first_vi, first_en, errors={"form": errors})
        self.fields = refusals


def _clean(text: str, limit: int) -> str:
    """One line or a paragraph as typed, without control characters, at most ``limit``."""
    kept = "".join(ch for ch in text if ch.isprintable() or ch == "\n")
    return kept.strip()[:limit]


def _check_form(
    form: ReportForm, photo_cap: int
) -> tuple[dict[str, tuple[str, str]], Encoded | None]:
    """The refusals by field, and the photo as drawn again (None without one)."""
    refusals: dict[str, tuple[str, str]] = {}
    if form.problem not in {p.value for p in Problem}:
        refusals["problem"] = ("Hãy chọn điều chưa đúng.", "Choose what is wrong.")
    elif form.problem == Problem.OTHER and not form.details.strip():
        refusals["details"] = ("Hãy mô tả điều chưa đúng.", "Describe what is wrong.")
    if len(form.details.strip()) > MAX_DETAILS:
        refusals["details"] = (
            f"Mô tả tối đa {vn_number(MAX_DETAILS)} ký tự.",
            f"At most {MAX_DETAILS:,} characters.",
        )
    if not form.place.strip():
        refusals["place"] = (
            "Hãy cho biết nơi mua (tên cửa hàng, chợ hoặc trang bán hàng).",
            "Say where you bought it (shop, market or online store).",
        )
    for key, limit in (("place", MAX_PLACE), ("contact", MAX_CONTACT)):
        if len(getattr(form, key).strip()) > limit:  # each field's own limit, all at once
            refusals[key] = (
                f"Tối đa {vn_number(limit)} ký tự.",
                f"At most {limit:,} characters.",
            )
    photo = None
    if form.photo:
        try:
            photo = reencode(form.photo, photo_cap, (REPORT_PHOTO_WIDTH,))[0]
        except PhotoRefused as refused:
            refusals["photo"] = (refused.message, refused.message_en)
    return refusals, photo


def _label_for(session: Session, code: str) -> Label | None:
    serial = serials.normalise_typed(code)
    if serial is None:
        return None
    return session.scalar(
        select(Label).options(joinedload(Label.run)).where(Label.serial == serial)
    )


def submit_report(session: Session, form: ReportForm, photo_cap: int) -> ConsumerReport:
    """Record a report from the public; ``ReportRefused`` names every field to fix."""
    refusals, photo = _check_form(form, photo_cap)
    if refusals:
        raise ReportRefused(refusals)
    code = _clean(form.code, MAX_CODE)
    label = _label_for(session, code)
    verdict = form.verdict if _VERDICT.fullmatch(form.verdict) else UNKNOWN_VERDICT
    report = ConsumerReport(
        code=serials.grouped(label.serial) if label else code,
        label_id=label.id if label else None,
        product_id=label.run.product_id if label else None,
        producer_id=label.run.producer_id if label else None,
        verdict=verdict,
        problem=Problem(form.problem),
        details=_clean(form.details, MAX_DETAILS) or None,
        place=_clean(form.place, MAX_PLACE),
        contact=_clean(form.contact, MAX_CONTACT) or None,
    )
    if form.photo and photo is not None:
        # The photo kept is ours; its hash is the file's as sent (the evidence of what came).
        report.photo, report.photo_type = photo.data, photo.content_type
        report.photo_sha256 = hashlib.sha256(form.photo).hexdigest()
    session.add(report)
    session.flush()
    details: dict[str, object] = {"code": report.code, "verdict": verdict}
    details |= {"problem": report.problem, "product_id": report.product_id}
    details["photo"] = report.photo_sha256
    record_event(session, ANONYMOUS, ReportTag.SUBMITTED, "consumer_report", report.id, details)
    return report


def _not_found() -> NotFound:
    return NotFound("Không tìm thấy báo cáo.", "No report has this id.")


def get_report(session: Session, actor: Principal, report_id: int) -> ConsumerReport:
    return get_owned(session, actor, ConsumerReport, report_id, _not_found)


def _vn_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), VIETNAM)


def report_query(actor: Principal, args: Mapping[str, Any]) -> Select[Any]:
    """Reports, newest first, narrowed by status, product and Vietnam dates (inclusive);
    a producer's only about its own products."""
    stmt = select(ConsumerReport).order_by(ConsumerReport.id.desc())
    if "status" in args:
        stmt = stmt.where(ConsumerReport.status == args["status"])
    if "product_id" in args:
        stmt = stmt.where(ConsumerReport.product_id == args["product_id"])
    if "since" in args:
        stmt = stmt.where(ConsumerReport.created_at >= _vn_midnight(args["since"]))
    if "until" in args:
        end = _vn_midnight(args["until"] + timedelta(days=1))
        stmt = stmt.where(ConsumerReport.created_at < end)
    return scoped(stmt, actor, ConsumerReport)


def close_report(session: Session, actor: Principal, report_id: int, note: str) -> ConsumerReport:
    """Close an open report with the office's note (what was found or done)."""
    report = get_owned(session, actor, ConsumerReport, report_id, _not_found, for_update=True)
    if report.status is ReportStatus.CLOSED:
        raise Conflict("Báo cáo này đã được đóng.", "This report is closed already.")
    report.status = ReportStatus.CLOSED
    report.closed_at = utcnow()
    report.closed_by = actor.user_id
    report.close_note = _clean(note, MAX_NOTE)
    session.flush()
    record_event(
        session,
        actor,
        ReportTag.CLOSED,
        "consumer_report",
        report.id,
        {"note": report.close_note, "code": report.code},
    )
    return report


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str
    filename: str


def report_photo(session: Session, actor: Principal, report_id: int) -> Photo:
    report = get_report(session, actor, report_id)
    if report.photo is None or report.photo_type is None:
        raise NotFound("Báo cáo này không kèm ảnh.", "This report has no photo.")
    extension = ".png" if report.photo_type == "image/png" else ".jpg"  # older reports' PNGs
    return Photo(report.photo, report.photo_type, f"bao-cao-{report.id}{extension}")
