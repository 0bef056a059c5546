"""Voiding stamps: a spoiled or lost stamp of a run is declared void, for good, with a reason.

A voided stamp's page says "Tem đã hủy" in red from then on. Voiding cannot be undone, and
voiding a stamp again is harmless (idempotent): the first voiding's time and reason stay, and
the answer counts the stamps that were void already. So a producer may send the same list
twice (a retry, a second sheet of the same spoiled batch) without an error or a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.audit.tags import EventTag
from trace_service.errors import field_error
from trace_service.labels.models import Label, LabelState, PrintRun
from trace_service.labels.services import get_run
from trace_service.labels.states import ensure_states
from trace_service.principal import Principal
from trace_service.web.formatting import vn_number


class VoidTag(EventTag):
    STAMPS_VOIDED = "label:stamp:voided"


@dataclass(frozen=True)
class VoidOrder:
    sequences: list[int]  # single stamps, by their place on the sheet (1..quantity)
    ranges: list[tuple[int, int]]  # first..last, both included
    reason: str


@dataclass(frozen=True)
class VoidResult:
    run_id: int
    voided: int  # stamps voided by this request
    already_voided: int  # asked for, but void before: left as they were
    voided_at: datetime
    reason: str


def check_order(run: PrintRun, order: VoidOrder) -> None:
    """Every number and range the order names is a stamp of ``run`` (a field error
    otherwise, named in both languages)."""
    for seq in order.sequences:
        if not 1 <= seq <= run.quantity:
            raise field_error(
                "sequences",
                vi=f"Đợt in có các tem số 1 đến {vn_number(run.quantity)}; "
                f"không có tem số {vn_number(seq)}.",
                en=f"The run's stamps are numbered 1 to {run.quantity}; there is no {seq}.",
            )
    for first, last in order.ranges:
        if not 1 <= first <= last <= run.quantity:
            raise field_error(
                "ranges",
                vi=f"Khoảng {vn_number(first)}–{vn_number(last)} không nằm trong "
                f"1–{vn_number(run.quantity)} hoặc bị ngược.",
                en=f"The range {first}–{last} is not within 1–{run.quantity}, or is reversed.",
            )


# Statements stay small: SQLite refuses an expression deeper than 1,000 terms (a thousand
# ranges OR-ed together), and PostgreSQL's bound parameters stop at 65,535.
RANGES_PER_STATEMENT = 200
IDS_PER_STATEMENT = 5_000


def merged_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges sorted, overlapping or touching ones joined."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _chosen(session: Session, run: PrintRun, order: VoidOrder) -> list[int]:
    """The ids of the run's labels the order names, each once."""
    ids: set[int] = set()
    in_run = select(Label.id).where(Label.run_id == run.id)
    for sequences in _chunks(sorted(set(order.sequences)), IDS_PER_STATEMENT):
        ids.update(session.scalars(in_run.where(Label.seq.in_(sequences))))
    for ranges in _chunks(merged_ranges(order.ranges), RANGES_PER_STATEMENT):
        picks: list[ColumnElement[bool]] = [Label.seq.between(f, last) for f, last in ranges]
        ids.update(session.scalars(in_run.where(or_(*picks))))
    return sorted(ids)


def void_stamps(
    session: Session, actor: Principal, run_id: int, order: VoidOrder, now: datetime
) -> VoidResult:
    """Void the stamps of the actor's run (404 for another producer's) that ``order`` names."""
    run = get_run(session, actor, run_id)
    check_order(run, order)
    ids = _chosen(session, run, order)
    ensure_states(session, ids)
    already = voided = 0
    for chunk in _chunks(ids, IDS_PER_STATEMENT):
        states = LabelState.label_id.in_(chunk)
        already += int(
            session.scalar(select(func.count()).where(states, LabelState.voided_at.is_not(None)))
            or 0
        )
        done = session.execute(
            update(LabelState)
            .where(states, LabelState.voided_at.is_(None))
            .values(voided_at=now, void_reason=order.reason, voided_by=actor.user_id)
            .execution_options(synchronize_session=False)
        )
        voided += int(done.rowcount or 0)  # type: ignore[attr-defined]
    session.expire_all()  # states loaded before are stale now
    record_event(
        session,
        actor,
        VoidTag.STAMPS_VOIDED,
        "print_run",
        run.id,
        {
            "sequences": order.sequences,
            "ranges": [list(r) for r in order.ranges],
            "reason": order.reason,
            "voided": voided,
            "already_voided": already,
        },
    )
    return VoidResult(run.id, voided, already, now, order.reason)
