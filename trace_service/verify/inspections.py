"""Recording field inspections: each exactly once, however often the device sends it (the
device's own id for it, ``client_id``, is unique per inspector), audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.errors import Conflict, NotFound, field_error
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.verify.models import Decision, FieldInspection, InspectionResult, Proposal
from trace_service.verify.tags import VerifyTag

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


def record_inspection(
    session: Session, actor: Principal, data: dict[str, Any]
) -> tuple[FieldInspection, bool]:
    """(the inspection, whether this call made it). A second send of the same inspection
    answers the first record; another inspection under a used ``client_id`` is a conflict."""
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
    inspection = FieldInspection(
        client_id=data["client_id"],
        inspector_id=actor.user_id,
        result=InspectionResult(data["result"]),
        **{name: data.get(name) for name in FIELDS if name != "sample_taken"},
        sample_taken=bool(data.get("sample_taken")),
        proposal=Proposal(data["proposal"]) if data.get("proposal") else None,
    )
    session.add(inspection)
    session.flush()
    details = {"client_id": inspection.client_id, "result": inspection.result.value}
    if inspection.proposal:
        details["proposal"] = inspection.proposal.value
    if inspection.serial:
        details["serial"] = inspection.serial
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


def decide_proposal(
    session: Session, actor: Principal, inspection_id: int, accepted: bool, reason: str, now: Any
) -> FieldInspection:
    """The office's answer to an inspection's proposal, with its reason; given once."""
    inspection = session.get(FieldInspection, inspection_id)
    if inspection is None:
        raise NotFound("Không tìm thấy biên bản kiểm tra.", "No inspection has this id.")
    if inspection.proposal is None:
        raise Conflict(
            "Biên bản này không có đề xuất nào.", "This inspection proposes nothing to decide."
        )
    if inspection.decision is not None:
        raise Conflict("Đề xuất này đã được quyết định.", "This proposal was already decided.")
    inspection.decision = Decision.ACCEPTED if accepted else Decision.REJECTED
    inspection.decision_reason = reason
    inspection.decided_by = actor.user_id
    inspection.decided_at = now
    session.flush()
    details = {
        "proposal": inspection.proposal.value,
        "decision": inspection.decision.value,
        "reason": reason,
    }
    record_event(
        session, actor, VerifyTag.PROPOSAL_DECIDED, "field_inspection", inspection.id, details
    )
    return inspection
