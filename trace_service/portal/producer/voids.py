"""Voiding spoiled stamps of a run (a jammed sheet, a misprint): one or ranges of their
numbers on the sheet, with a reason, through the voids service the API uses. A voided
stamp's page says "tem đã hủy" from then on."""

from __future__ import annotations

import re

from flask import render_template
from werkzeug.wrappers import Response as WResponse

from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError
from trace_service.labels import services
from trace_service.labels.voids import VoidOrder, VoidResult, void_stamps
from trace_service.portal.access import page_roles
from trace_service.portal.forms import show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import VoidForm
from trace_service.principal import Role, current_principal
from trace_service.web.i18n import t

VOID_FIELDS = {"sequences": "sequences", "ranges": "sequences", "reason": "reason"}
PART = re.compile(r"(\d{1,6})(?:-(\d{1,6}))?")


def parse_numbers(text: str) -> tuple[list[int], list[tuple[int, int]]] | None:
    """ "3, 7, 10-15" as single numbers and ranges; None if it is not such a list."""
    singles: list[int] = []
    ranges: list[tuple[int, int]] = []
    joined = re.sub(r"\s*[-–]\s*", "-", text.strip())  # "10 - 15" is one range
    for part in re.split(r"[,;\s]+", joined):
        if not part:
            continue
        match = PART.fullmatch(part.strip())
        if match is None:
            return None
        first, last = match.group(1), match.group(2)
        if last is None:
            singles.append(int(first))
        else:
            ranges.append((int(first), int(last)))
    return (singles, ranges) if singles or ranges else None


@producer.route("/dot-in/<id:run_id>/huy-tem", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def void_run_stamps(run_id: int) -> str | WResponse:
    session, actor = get_session(), current_principal()
    run = services.get_run(session, actor, run_id)  # 404 for another producer's run
    form = VoidForm(prefix="void")
    done: VoidResult | None = None
    if form.validate_on_submit():
        numbers = parse_numbers(form.sequences.data)
        if numbers is None:
            form.sequences.errors = [
                t(
                    "Hãy ghi số tem, cách nhau bằng dấu phẩy; một dãy viết 10-15.",
                    "Write stamp numbers separated by commas; a range as 10-15.",
                )
            ]
        else:
            order = VoidOrder(numbers[0], numbers[1], form.reason.data.strip())
            try:
                with session.begin_nested():
                    done = void_stamps(session, actor, run.id, order, utcnow())
            except DomainError as refused:
                show_refusal(form, refused, names=VOID_FIELDS)
    return render_template("portal/producer/void.html", run=run, form=form, done=done)
