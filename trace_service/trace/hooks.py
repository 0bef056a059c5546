"""What the layers above trace add to it, declared here by them, so trace imports none of
them (labels is the one today).

- **Parts of a trace**: every trace (``services.backward_trace``, ``forward_trace``,
  ``area_trace``) carries what the layers above keep about its lots: labels adds the print
  runs on them and how many labels those hold (what a recall must reach). A part is a
  function of the session and the SELECT of the traced lots' ids that returns named values
  (``Trace.parts``).
- **Checks on a lot's unit count**: labels refuses a count below the stamps already ordered.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from trace_service.trace.models import Lot

TracePart = Callable[[Session, Select[Any]], Mapping[str, Any]]
_trace_parts: list[TracePart] = []


def add_to_trace(part: TracePart) -> TracePart:
    """Register ``part`` for every trace (usable as a decorator; registering twice is once)."""
    if part not in _trace_parts:
        _trace_parts.append(part)
    return part


def trace_parts(
    session: Session, lot_ids: Select[Any], skip: Collection[TracePart] = ()
) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for part in _trace_parts:
        if part not in skip:
            parts.update(part(session, lot_ids))
    return parts


# (session, the lot, the unit count asked for): raises a DomainError to refuse it.
UnitCountCheck = Callable[[Session, Lot, int], None]
_unit_count_checks: list[UnitCountCheck] = []


def check_unit_counts(check: UnitCountCheck) -> UnitCountCheck:
    """Register ``check`` to run before a lot's unit count changes (a decorator, too)."""
    if check not in _unit_count_checks:
        _unit_count_checks.append(check)
    return check


def run_unit_count_checks(session: Session, lot: Lot, unit_count: int) -> None:
    for check in _unit_count_checks:
        check(session, lot, unit_count)
