"""Recording field inspections: each exactly once, however often the device sends it (the
device's own id for it, ``client_id``, is unique per inspector), audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ocop_verify.verdict import HEADLINES, sum_up
from trace_service.audit.models import AuditEvent
from trace_service.audit.services import record_event
from trace_service.certificates.models import Certificate
from trace_service.certificates.services import check_revocation, revoke_certificate
from trace_service.certificates.standing import open_clause
from trace_service.clock import today_vn, vn_date
from trace_service.errors import Conflict, NotFound, field_error
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.verify_response import verify_scanned
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.signing.keystore import KeyStore
from trace_service.trace import hooks as trace_hooks
from trace_service.trace.models import Lot
from trace_service.trace.services import recall_lot
from trace_service.verify import photos
from trace_service.verify.models import (
    Decision,
    FieldInspection,
    InspectionPhoto,
    InspectionResult,
    Proposal,
)
from trace_service.verify.tags import VerifyTag

# What a device may say its screen showed: a headline of the stamp's verdict (the words the
# inspector read: voided, recalled, genuine...), or, from a device's page made before it sent
# headlines, the signature's verdict alone.
SIGNATURE_VERDICTS = (
    "genuine",
    "compromised_key",
    "malformed",
    "unknown_key",
    "invalid_signature",
    "not_issued",
)
DEVICE_VERDICTS = tuple(dict.fromkeys([*HEADLINES, *SIGNATURE_VERDICTS]))
# (scanned text, day of the check) -> the service's headline for it
Judge = Callable[[str, date], str]

FIELDS = (
    "serial",
    "product_id",
    "checked_at",
    "place",
    "latitude",
    "longitude",
    "verdict",
    "notes",
    "sample_taken",
)


def _same(inspection: FieldInspection, data: dict[str, Any]) -> bool:
    return (
        inspection.result.value == data["result"]
        and inspection.checked_at == data["checked_at"]
        and inspection.serial == data.get("serial")
    )


def judge_scanned(session: Session, store: KeyStore, text: str, day: date, window_days: int) -> str:
    """The headline the service gives a stamp's scanned text on ``day``: the verify API's
    facts (``verify_scanned``) composed as the label page composes them."""
    view = verify_scanned(session, store, text, day, window_days).view
    facts: dict[str, Any] = {"certificate_status": view.get("certificate_status")}
    if view.get("label"):
        facts["label_state"] = view["label"]["state"]
    recalls = view.get("recalls") or []
    if recalls:
        facts["recalled_since"] = today_vn(min(recall["at"] for recall in recalls))
    return sum_up(view["verdict"], facts, None)[1]


def record_inspection(
    session: Session, actor: Principal, data: dict[str, Any], judge: Judge | None = None
) -> tuple[FieldInspection, bool]:
    """(the inspection, whether this call made it). A second send of the same inspection
    answers the first record; another inspection under a used ``client_id`` is a conflict.
    ``judge``: the service's own verdict on the text the device scanned (``scanned``), kept
    beside the device's; a device may show data days old."""
    known = session.scalar(
        select(FieldInspection).where(
            FieldInspection.inspector_id == actor.user_id,
            FieldInspection.client_id == data["client_id"],
        )
    )
    if known is not None:
        if _same(known, data):
            return known, False
        raise Conflict(
            "Mã phiếu kiểm tra (client_id) này đã dùng cho một lần kiểm tra khác.",
            "This client_id was already used for another inspection.",
        )
    if data.get("proposal") and data["result"] != InspectionResult.FAILED.value:
        raise field_error(
            "proposal",
            vi="Chỉ đề xuất thu hồi khi kết quả là không đạt.",
            en="Only a failed check may propose a revocation or a recall.",
        )
    if data.get("product_id") is not None and session.get(Product, data["product_id"]) is None:
        raise field_error("product_id", vi="Không có sản phẩm này.", en="No product has this id.")
    run = _run_of(session, data.get("serial"))
    if run is not None and data.get("product_id") is None:
        data = {**data, "product_id": run.product_id}
    inspection = FieldInspection(
        client_id=data["client_id"],
        inspector_id=actor.user_id,
        result=InspectionResult(data["result"]),
        **{name: data.get(name) for name in FIELDS if name != "sample_taken"},
        service_verdict=(
            judge(data["scanned"], today_vn(data["checked_at"]))
            if judge is not None and data.get("scanned")
            else None
        ),
        sample_taken=bool(data.get("sample_taken")),
        proposal=Proposal(data["proposal"]) if data.get("proposal") else None,
        lot_id=run.lot_id if run is not None else None,
    )
    session.add(inspection)
    session.flush()
    details = {"client_id": inspection.client_id, "result": inspection.result.value}
    if inspection.proposal:
        details["proposal"] = inspection.proposal.value
    if inspection.serial:
        details["serial"] = inspection.serial
    for name in ("verdict", "service_verdict"):
        if getattr(inspection, name):
            details[name] = getattr(inspection, name)
    record_event(
        session, actor, VerifyTag.INSPECTION_RECORDED, "field_inspection", inspection.id, details
    )
    return inspection, True


def inspection_query(actor: Principal) -> Select[Any]:
    """Newest first; an inspector sees their own, the office every inspection."""
    query = select(FieldInspection).order_by(FieldInspection.id.desc())
    if not actor.is_admin:
        query = query.where(FieldInspection.inspector_id == actor.user_id)
    return query


def _run_of(session: Session, serial: str | None) -> PrintRun | None:
    """The print run of the stamp with ``serial`` (None: no serial, or not one of ours)."""
    if not serial:
        return None
    return session.scalar(select(PrintRun).join(Label).where(Label.serial == serial))


def get_inspection(session: Session, actor: Principal, inspection_id: int) -> FieldInspection:
    """One inspection: an inspector's own, any for the office."""
    inspection = session.get(FieldInspection, inspection_id)
    if inspection is None or (not actor.is_admin and inspection.inspector_id != actor.user_id):
        raise NotFound("Không tìm thấy biên bản kiểm tra.", "No inspection has this id.")
    return inspection


def record_lab_result(
    session: Session, actor: Principal, inspection_id: int, data: dict[str, Any], now: datetime
) -> FieldInspection:
    """The laboratory's answer on the sample taken at the inspection, given once."""
    inspection = get_inspection(session, actor, inspection_id)
    if not inspection.sample_taken:
        raise Conflict(
            "Lần kiểm tra này không lấy mẫu, nên không có kết quả xét nghiệm.",
            "No sample was taken at this inspection, so it has no lab result.",
        )
    if inspection.lab_recorded_at is not None:
        raise Conflict(
            "Kết quả xét nghiệm của mẫu này đã được ghi.",
            "This sample's lab result was already recorded.",
        )
    inspection.lab_passed = data["passed"]
    inspection.lab_result = data["result"]
    inspection.lab_recorded_at = now
    session.flush()
    record_event(
        session,
        actor,
        VerifyTag.LAB_RESULT_RECORDED,
        "field_inspection",
        inspection.id,
        {"passed": inspection.lab_passed, "result": inspection.lab_result},
    )
    return inspection


def add_photo(
    session: Session, actor: Principal, inspection_id: int, data: bytes
) -> InspectionPhoto:
    """A photo of the inspection, re-encoded (``photos.reencode``); at most MAX_PHOTOS."""
    inspection = get_inspection(session, actor, inspection_id)
    count = session.scalar(
        select(func.count()).where(InspectionPhoto.inspection_id == inspection.id)
    )
    if (count or 0) >= photos.MAX_PHOTOS:
        raise Conflict(
            f"Mỗi biên bản có tối đa {photos.MAX_PHOTOS} ảnh.",
            f"An inspection holds at most {photos.MAX_PHOTOS} photos.",
        )
    image = photos.reencode(data)
    photo = InspectionPhoto(
        inspection_id=inspection.id,
        content_type="image/jpeg",
        data=image.data,
        width=image.width,
        height=image.height,
        size=len(image.data),
    )
    session.add(photo)
    session.flush()
    record_event(
        session,
        actor,
        VerifyTag.PHOTO_ADDED,
        "field_inspection",
        inspection.id,
        {"photo": photo.id, "bytes_sent": len(data), "bytes_kept": photo.size},
    )
    return photo


def get_photo(
    session: Session, actor: Principal, inspection_id: int, photo_id: int
) -> InspectionPhoto:
    inspection = get_inspection(session, actor, inspection_id)
    photo = session.get(InspectionPhoto, photo_id)
    if photo is None or photo.inspection_id != inspection.id:
        raise NotFound("Không tìm thấy ảnh.", "No photo has this id.")
    return photo


def open_certificate(session: Session, product_id: int) -> Certificate | None:
    """The product's certificate a revocation names when no stamp does: the newest one
    neither revoked nor superseded."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.product_id == product_id, open_clause())
        .order_by(Certificate.issue_date.desc(), Certificate.id.desc())
        .limit(1)
    )


def _certificate_to_revoke(session: Session, inspection: FieldInspection) -> Certificate:
    """The certificate the checked stamp was printed under, or else the product's
    certificate in force (``open_certificate``)."""
    run = _run_of(session, inspection.serial)
    if run is not None:
        return run.certificate
    cert = None
    if inspection.product_id is not None:
        cert = open_certificate(session, inspection.product_id)
    if cert is None:
        raise Conflict(
            "Biên bản không chỉ ra giấy chứng nhận nào để thu hồi (không có tem hay sản phẩm "
            "còn chứng nhận).",
            "The inspection names no certificate to revoke (no stamp, or no product with a "
            "certificate in force).",
        )
    return cert


def _lot_to_recall(session: Session, inspection: FieldInspection) -> Lot:
    lot = session.get(Lot, inspection.lot_id) if inspection.lot_id is not None else None
    if lot is None:
        raise Conflict(
            "Biên bản không chỉ ra lô hàng nào để thu hồi (cần mã tem của lô).",
            "The inspection names no lot to recall (it needs the stamp's code).",
        )
    return lot


@dataclass(frozen=True)
class Proposed:
    """What a decision on an inspection's proposal acts on, once checked: accepting revokes
    ``certificate`` or recalls ``lot`` (both None for a rejection)."""

    inspection: FieldInspection
    proposal: Proposal
    certificate: Certificate | None = None
    lot: Lot | None = None


def check_decision(
    session: Session, inspection_id: int, decision: dict[str, Any], now: datetime
) -> Proposed:
    """What a decision is refused for, checked before it is made (``decide_proposal`` runs
    it first, and the office's page before its review step, so the step shows only what can
    be done), and what accepting it would revoke or recall. Changes nothing. A decision may
    name what it was made on (``certificate_id`` or ``lot_id``, as the office's review step
    showed it): when accepting would now act on another, it is refused (``TargetChanged``)."""
    inspection = session.get(FieldInspection, inspection_id)
    if inspection is None:
        raise NotFound("Không tìm thấy biên bản kiểm tra.", "No inspection has this id.")
    if inspection.proposal is None:
        raise Conflict(
            "Biên bản này không có đề xuất nào.", "This inspection proposes nothing to decide."
        )
    if inspection.decision is not None:
        raise already_decided(inspection)
    proposal = inspection.proposal
    if not decision["accepted"]:
        return Proposed(inspection, proposal)
    if not decision.get("decision_number"):
        raise field_error(
            "decision_number",
            vi="Cần số quyết định thu hồi.",
            en="Accepting needs the decision's number.",
        )
    if proposal is Proposal.REVOCATION:
        cert = _certificate_to_revoke(session, inspection)
        _expected(decision, "certificate_id", cert.id, cert.number)
        check_revocation(cert, {"revoked_on": today_vn(now)}, today_vn(now))
        return Proposed(inspection, proposal, certificate=cert)
    lot = _lot_to_recall(session, inspection)
    _expected(decision, "lot_id", lot.id, lot.code)
    return Proposed(inspection, proposal, lot=lot)


class TargetChanged(Conflict):
    """Accepting would now act on another certificate (or lot) than the one the decision
    was made on (``certificate_id`` / ``lot_id`` in the decision)."""


def _expected(decision: dict[str, Any], key: str, found_id: int, name: str) -> None:
    """Refuse when the decision names (``key``) another target than the one it acts on now:
    e.g. a certificate issued to the product between the office's review and its confirm."""
    expected = decision.get(key)
    if expected is None or expected == found_id:
        return
    if key == "certificate_id":
        raise TargetChanged(
            f"Giấy chứng nhận mà đề xuất này sẽ thu hồi đã đổi (nay là {name}) kể từ lúc "
            "xem lại. Chưa thu hồi gì: hãy kiểm tra lại.",
            f"The certificate this proposal would revoke has changed (now {name}) since it "
            "was reviewed. Nothing was revoked: check again.",
        )
    raise TargetChanged(
        f"Lô hàng mà đề xuất này sẽ thu hồi đã đổi (nay là {name}) kể từ lúc xem lại. "
        "Chưa thu hồi gì: hãy kiểm tra lại.",
        f"The lot this proposal would recall has changed (now {name}) since it was "
        "reviewed. Nothing was recalled: check again.",
    )


def already_decided(inspection: FieldInspection) -> Conflict:
    """The refusal of a second decision, with the day of the first."""
    day = vn_date(today_vn(inspection.decided_at)) if inspection.decided_at else None
    if day is None:
        return Conflict("Đề xuất này đã được quyết định.", "This proposal was already decided.")
    return Conflict(
        f"Đề xuất này đã được quyết định ngày {day}.",
        f"This proposal was already decided on {day}.",
    )


def decision_numbers(session: Session, inspection_ids: list[int]) -> dict[int, str]:
    """The office's decision number of each accepted proposal among ``inspection_ids``, as
    its audit event keeps it (the inspection itself keeps the reason only)."""
    if not inspection_ids:
        return {}
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.tag == VerifyTag.PROPOSAL_DECIDED,
            AuditEvent.object_type == "field_inspection",
            AuditEvent.object_id.in_([str(i) for i in inspection_ids]),
        )
    )
    return {
        int(event.object_id): event.details["decision_number"]
        for event in events
        if event.object_id and event.details.get("decision_number")
    }


def decide_proposal(
    session: Session, actor: Principal, inspection_id: int, decision: dict[str, Any], now: datetime
) -> FieldInspection:
    """The office's answer to an inspection's proposal, with its reason; given once.
    Accepting revokes the certificate or recalls the lot, through the same services as the
    API's own routes (audited there too), under the office's decision number."""
    return apply_decision(
        session, actor, check_decision(session, inspection_id, decision, now), decision, now
    )


def apply_decision(
    session: Session, actor: Principal, proposed: Proposed, decision: dict[str, Any], now: datetime
) -> FieldInspection:
    """Make a decision ``check_decision`` found possible (``proposed``, in this transaction)."""
    inspection = proposed.inspection
    accepted, reason = decision["accepted"], decision["reason"]
    details: dict[str, Any] = {"proposal": proposed.proposal.value, "reason": reason}
    if accepted:
        number = decision["decision_number"]
        details["decision_number"] = number
        if proposed.certificate is not None:
            cert = revoke_certificate(
                session,
                actor,
                proposed.certificate,
                {"revoked_on": today_vn(now), "decision": number, "reason": reason},
                today_vn(now),
            )
            details["certificate_id"] = cert.id
        elif proposed.lot is not None:
            recall = recall_lot(
                session,
                actor,
                proposed.lot,
                {"recalled_at": now, "decision": number, "reason": reason},
            )
            details["recall_id"] = recall.id
    inspection.decision = Decision.ACCEPTED if accepted else Decision.REJECTED
    inspection.decision_reason = reason
    inspection.decided_by = actor.user_id
    inspection.decided_at = now
    session.flush()
    details["decision"] = inspection.decision.value
    record_event(
        session, actor, VerifyTag.PROPOSAL_DECIDED, "field_inspection", inspection.id, details
    )
    return inspection


def waiting_proposals() -> Select[Any]:
    """Failed checks whose proposal the office has not decided yet, oldest first."""
    return (
        select(FieldInspection)
        .where(FieldInspection.proposal.is_not(None), FieldInspection.decision.is_(None))
        .order_by(FieldInspection.id)
    )


# -- on the trace -----------------------------------------------------------------------


def trace_entry(inspection: FieldInspection) -> dict[str, Any]:
    """An inspection as a trace shows it (plain values: the trace layer knows no model)."""
    return {
        "id": inspection.id,
        "checked_at": inspection.checked_at.isoformat(),
        "lot_id": inspection.lot_id,
        "serial": inspection.serial,
        "result": inspection.result.value,
        "verdict": inspection.verdict,
        "place": inspection.place,
        "notes": inspection.notes,
        "sample_taken": inspection.sample_taken,
        "lab_passed": inspection.lab_passed,
        "lab_result": inspection.lab_result,
        "proposal": inspection.proposal.value if inspection.proposal else None,
        "decision": inspection.decision.value if inspection.decision else None,
    }


@trace_hooks.add_to_trace
def _inspections_on_trace(session: Session, lot_ids: Select[Any]) -> dict[str, Any]:
    """Every trace carries the field inspections of its lots' stamps (``inspections``):
    the signed-in trace shows them; the public chain says only that the lot was checked."""
    found = session.scalars(
        select(FieldInspection)
        .where(FieldInspection.lot_id.in_(lot_ids))
        .order_by(FieldInspection.checked_at, FieldInspection.id)
    )
    return {"inspections": [trace_entry(inspection) for inspection in found]}
