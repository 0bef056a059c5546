"""Writing to and checking the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import EventTag
from trace_service.db import utcnow
from trace_service.principal import Principal

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every writer of the chain.
_CHAIN_LOCK_KEY = 0x0C0B_A0D1


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # enums
    return value


def _digest(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_event(
    session: Session,
    actor: Principal,
    tag: EventTag,
    object_type: str,
    object_id: object | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two transactions never chain onto the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor=actor.name,
        tag=str(tag),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=_json_safe(dict(details or {})),
        prev_hash=prev or GENESIS_HASH,
    )
    event.hash = _digest(event.chained_fields())
    session.add(event)
    session.flush()
    return event


def event_query(args: Mapping[str, Any]) -> Select[AuditEvent]:
    """Audit events, newest first, narrowed by any of tag, object type, object id, actor."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key in ("tag", "object_type", "object_id", "actor"):
        if key in args:
            stmt = stmt.where(getattr(AuditEvent, key) == args[key])
    return stmt


@dataclass(frozen=True)
class ChainReport:
    events: int
    intact: bool
    first_broken_id: int | None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; the first row that does not match breaks the chain."""
    expected_prev = GENESIS_HASH
    count = 0
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500)
    rows = session.scalars(stmt)
    try:
        for event in rows:
            count += 1
            if event.prev_hash != expected_prev or _digest(event.chained_fields()) != event.hash:
                return ChainReport(events=count, intact=False, first_broken_id=event.id)
            expected_prev = event.hash
    finally:
        rows.close()  # a server-side cursor on PostgreSQL, left open by an early return
    return ChainReport(events=count, intact=True, first_broken_id=None)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that differ, as ``{field: [old, new]}``, for an update's audit details."""
    return {
        key: [_json_safe(before.get(key)), _json_safe(after.get(key))]
        for key in after
        if _json_safe(before.get(key)) != _json_safe(after.get(key))
    }
