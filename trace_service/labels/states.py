"""The one row of what happened to a stamp since printing (``LabelState``): made on first
need by whoever comes first, read and changed under a row lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from trace_service.clock import today_vn
from trace_service.labels.models import Label, LabelState
from trace_service.labels.page_check import PageLabel

CHUNK = 5_000  # rows per INSERT, well under either database's bound-parameter limit


def ensure_states(session: Session, label_ids: list[int]) -> None:
    """A state row for each label that has none yet (concurrent writers welcome)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(label_ids), CHUNK):
        rows = [
            {
                "label_id": i,
                "scan_count": 0,
                "counted_views": 0,
                "recent_clients": [],
                "scratch_failures": 0,
            }
            for i in label_ids[start : start + CHUNK]
        ]
        session.execute(module.insert(LabelState).on_conflict_do_nothing(), rows)


def locked_state(session: Session, label: Label | PageLabel) -> LabelState:
    """The label's state row, made if missing, locked for this transaction (PostgreSQL:
    FOR UPDATE; SQLite: the insert above already holds the database's write lock), and
    attached to ``label`` so the page shows what was just written."""
    ensure_states(session, [label.id])
    state = session.scalars(
        select(LabelState)
        .where(LabelState.label_id == label.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if isinstance(label, Label):
        set_committed_value(label, "state", state)
    else:
        label.state = state
    return state


def _since(session: Session, column: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Label.serial, column).join(LabelState).where(column.is_not(None)).order_by(column)
    )
    return [{"serial": serial, "since": today_vn(at)} for serial, at in rows]


def snapshot_labels(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The voided and the flagged (possibly copied) stamps with the Vietnam day since when,
    as ``ocop_verify.snapshot.build_snapshot`` takes them, so an offline verifier judges a
    stamp as its page does."""
    return {
        "voided": _since(session, LabelState.voided_at),
        "flagged": _since(session, LabelState.flagged_at),
    }
