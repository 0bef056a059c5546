"""Voided and possibly-copied labels, as the verify API and the offline snapshot read them.

TODO(scan12): the "scan12" work adds voided stamps and "possibly copied" flags to the labels'
records (labels/models.py, labels/verify.py). Until it is merged these read nothing; on
merge, answer them from those records (one query each) and nothing else needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

ISSUED = "issued"
VOIDED = "voided"
POSSIBLY_COPIED = "possibly_copied"


@dataclass(frozen=True)
class Mark:
    serial: str
    since: date  # the Vietnam day the label was voided or flagged


@dataclass(frozen=True)
class LabelState:
    state: str  # issued | voided | possibly_copied
    since: date | None = None
    scans: int | None = None  # how often the label was scanned, when known


def label_state(session: Session, serial: str, day: date) -> LabelState:
    """What is known of an issued label on ``day``: voided first, then flagged."""
    for state, marks in ((VOIDED, voided(session)), (POSSIBLY_COPIED, flagged(session))):
        mark = next((m for m in marks if m.serial == serial and m.since <= day), None)
        if mark is not None:
            return LabelState(state, mark.since)
    return LabelState(ISSUED)


def voided(session: Session) -> list[Mark]:
    """Every voided label. TODO(scan12): read the voided stamps."""
    del session
    return []


def flagged(session: Session) -> list[Mark]:
    """Every label flagged as possibly copied. TODO(scan12): read the flags."""
    del session
    return []
