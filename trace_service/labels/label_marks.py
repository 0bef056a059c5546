"""A label's state as the verify API tells it (issued, voided, possibly copied, since when,
how often viewed), from the one row of what happened to the stamp since printing
(``labels/states.py``; the offline snapshot reads the same rows through ``snapshot_labels``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.clock import today_vn
from trace_service.labels.models import Label
from trace_service.labels.models import LabelState as StateRow

ISSUED = "issued"
VOIDED = "voided"
POSSIBLY_COPIED = "possibly_copied"


@dataclass(frozen=True)
class LabelState:
    state: str  # issued | voided | possibly_copied
    since: date | None = None
    scans: int | None = None  # how often the label's page was viewed, when known


def label_state(session: Session, serial: str, day: date) -> LabelState:
    """What is known of an issued label on ``day``: voided first, then flagged (one query)."""
    row = session.scalar(select(StateRow).join(Label).where(Label.serial == serial))
    if row is None:
        return LabelState(ISSUED, scans=0)
    return state_from(row.voided_at, row.flagged_at, row.scan_count, day)


def state_from(
    voided_at: datetime | None, flagged_at: datetime | None, scans: int | None, day: date
) -> LabelState:
    """``label_state`` from the state row's columns already read (None: no row yet)."""
    for state, at in ((VOIDED, voided_at), (POSSIBLY_COPIED, flagged_at)):
        if at is not None and today_vn(at) <= day:
            return LabelState(state, today_vn(at), scans)
    return LabelState(ISSUED, scans=scans or 0)
