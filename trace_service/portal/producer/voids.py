"""Voiding spoiled stamps of a run (a jammed sheet, a misprint): the codes printed on them, or
their numbers in the run and ranges of numbers, with a reason. The stamps are listed by code
for the producer to confirm before anything happens (voiding cannot be undone), then voided
through the voids service the API uses, by number. A voided stamp's page says “tem đã hủy”.
Stamps void already are neither offered nor counted: the page names them as skipped
(“đã hủy trước đó”), and a list of nothing but those is refused beside the field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WResponse

from trace_service.db import get_session, utcnow
from trace_service.errors import DomainError
from trace_service.labels import services
from trace_service.labels.models import Label, LabelState, PrintRun
from trace_service.labels.serials import grouped, normalise_typed
from trace_service.labels.voids import (
    VoidOrder,
    VoidResult,
    check_order,
    merged_ranges,
    void_stamps,
)
from trace_service.portal.access import page_roles
from trace_service.portal.forms import show_refusal
from trace_service.portal.producer.blueprint import producer
from trace_service.portal.producer.forms import VoidForm
from trace_service.principal import Role, current_principal
from trace_service.web.formatting import vn_number
from trace_service.web.i18n import t

VOID_FIELDS = {"sequences": "sequences", "ranges": "sequences", "reason": "reason"}
# A number as typed or as the pages print it: "10003" or "10.003" (thousands grouped by dots).
_NUMBER = r"(\d{1,3}(?:\.\d{3})+|\d{1,6})"
PART = re.compile(f"{_NUMBER}(?:-{_NUMBER})?")
SHOWN = 300  # codes listed on the page; a larger choice is counted, not listed


@dataclass
class Typed:
    """What the producer typed: numbers, ranges of numbers and printed codes (canonical)."""

    singles: list[int]
    ranges: list[tuple[int, int]]
    codes: list[str]


class Unreadable(ValueError):
    """A part of the list that is neither a number, a range nor a stamp's code."""


def _number_or_range(part: str, typed: Typed) -> bool:
    match = PART.fullmatch(re.sub(r"\s*[-–]\s*", "-", part))  # "10 - 15" is one range
    if match is None:
        return False
    first, last = match.group(1), match.group(2)
    if last is None:
        typed.singles.append(_whole(first))
    else:
        typed.ranges.append((_whole(first), _whole(last)))
    return True


def _whole(number: str) -> int:
    return int(number.replace(".", ""))


def _read_piece(piece: str, typed: Typed) -> None:
    """One comma-separated piece: a number, a range, a code (spaces or hyphens inside it as
    printed or typed), or several of those separated by spaces."""
    if _number_or_range(piece, typed):
        return
    code = normalise_typed(piece)
    if code is not None:
        typed.codes.append(code)
        return
    for word in piece.split():
        if not _number_or_range(word, typed):
            code = normalise_typed(word)
            if code is None:
                raise Unreadable(word)
            typed.codes.append(code)


def parse_typed(text: str) -> Typed | None:
    """ "3, 7, 10-15, FR1KA-DVC54-77R55" read; None when nothing is named.
    Raises ``Unreadable`` naming the first part that is none of those."""
    typed = Typed([], [], [])
    for piece in re.split(r"[,;\n]+", text):
        if piece.strip():
            _read_piece(piece.strip(), typed)
    return typed if typed.singles or typed.ranges or typed.codes else None


def _sequences_of(session: Session, run: PrintRun, codes: list[str]) -> list[int]:
    """The numbers of the run's stamps with these codes; a code of no stamp of the run is
    refused by name (whether it is another run's is not said)."""
    found: dict[str, int] = {
        serial: seq
        for serial, seq in session.execute(
            select(Label.serial, Label.seq).where(Label.run_id == run.id, Label.serial.in_(codes))
        )
    }
    missing = [grouped(code) for code in dict.fromkeys(codes) if code not in found]
    if missing:
        names = ", ".join(missing)
        raise ValueError(
            t(
                f"Mã {names} không thuộc đợt in này; xem lại mã in trên tem.",
                f"{names}: not a stamp of this print run; check the code printed on it.",
            )
        )
    return [found[code] for code in codes]


@dataclass
class Chosen:
    """The stamps named, as the service takes them, and as the page lists them: only those
    still to void; the ones void already are named apart (``before``) and skipped."""

    order: VoidOrder
    count: int  # stamps this order voids
    listed: list[tuple[int, str]]  # number, printed code: the first SHOWN of them
    before: list[int]  # numbers named that were void already, left out of ``order``


def _listed(session: Session, run: PrintRun, seqs: list[int]) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Label.seq, Label.serial)
        .where(Label.run_id == run.id, Label.seq.in_(seqs))
        .order_by(Label.seq)
    )
    return [(seq, grouped(serial)) for seq, serial in rows]


def _void_already(session: Session, run: PrintRun) -> set[int]:
    """The numbers of the run's stamps voided before."""
    return set(
        session.scalars(
            select(Label.seq)
            .join(LabelState, LabelState.label_id == Label.id)
            .where(Label.run_id == run.id, LabelState.voided_at.is_not(None))
        )
    )


def _spans(numbers: list[int]) -> list[tuple[int, int]]:
    """Numbers as runs of consecutive ones: [3, 10, 11, 12] → [(3, 3), (10, 12)]."""
    return merged_ranges([(number, number) for number in numbers])


SPANS_SHOWN = 20  # runs of numbers named in a sentence; more are "…"


def spans_text(numbers: list[int]) -> str:
    """The numbers as runs, “3, 10–12” (thousands with a dot: 1.200–1.250), the first
    SPANS_SHOWN runs of them."""
    spans = _spans(numbers)
    words = [
        vn_number(first) if first == last else f"{vn_number(first)}–{vn_number(last)}"
        for first, last in spans[:SPANS_SHOWN]
    ]
    return ", ".join(words) + (", …" if len(spans) > SPANS_SHOWN else "")


def chosen_stamps(session: Session, run: PrintRun, text: str, reason: str) -> Chosen | str:
    """The stamps ``text`` names, or what is wrong with it (shown beside the field)."""
    try:
        typed = parse_typed(text)
    except Unreadable as unreadable:
        return t(
            f"Không đọc được “{unreadable}”: hãy ghi mã in trên tem (15 ký tự) hoặc số tem, "
            "cách nhau bằng dấu phẩy; một dãy số viết 10-15.",
            f"“{unreadable}” cannot be read: write the code printed on the stamp (15 characters) "
            "or stamp numbers, separated by commas; a range as 10-15.",
        )
    if typed is None:
        return t("Hãy ghi mã hoặc số của tem cần hủy.", "Write the codes or numbers to void.")
    try:  # the service's own check, before anything is listed
        check_order(run, VoidOrder(typed.singles, typed.ranges, reason.strip()))
    except DomainError as outside:
        return t(outside.message, outside.message_en)
    try:
        singles = typed.singles + _sequences_of(session, run, typed.codes)
    except ValueError as missing:
        return str(missing)
    ranges = merged_ranges(typed.ranges)  # within the run: at most its quantity in all
    seqs = set(singles).union(*(range(first, last + 1) for first, last in ranges))
    before = sorted(seqs & _void_already(session, run))
    left = sorted(seqs.difference(before))
    if not left:
        return t(
            f"Các tem này đã hủy trước đó (tem số {spans_text(before)}); không còn tem nào "
            "để hủy. Trang của chúng đã ghi “tem đã hủy”.",
            f"These stamps were voided before (No. {spans_text(before)}): nothing is left to "
            "void. Their pages already say “stamp voided”.",
        )
    # The service is sent only the stamps still to void, consecutive ones as a range.
    spans = _spans(left)
    order = VoidOrder(
        [first for first, last in spans if first == last],
        [(first, last) for first, last in spans if first != last],
        reason.strip(),
    )
    return Chosen(order, len(left), _listed(session, run, left[:SHOWN]), before)


@producer.route("/dot-in/<id:run_id>/huy-tem", methods=["GET", "POST"])
@page_roles(Role.PRODUCER)
def void_run_stamps(run_id: int) -> str | WResponse:
    session, actor = get_session(), current_principal()
    run = services.get_run(session, actor, run_id)  # 404 for another producer's run
    form = VoidForm(prefix="void")
    preview: Chosen | None = None
    done: tuple[VoidResult, Chosen] | None = None
    if form.validate_on_submit() and not form.edit.data:
        chosen = chosen_stamps(session, run, form.sequences.data, form.reason.data)
        if isinstance(chosen, str):
            form.sequences.errors = [chosen]
        elif form.confirmed.data != "1":
            preview = chosen  # listed for the producer to confirm: nothing voided yet
        else:
            try:
                with session.begin_nested():
                    result = void_stamps(session, actor, run.id, chosen.order, utcnow())
                done, form = (result, chosen), VoidForm(prefix="void", formdata=None)
            except DomainError as refused:
                show_refusal(form, refused, names=VOID_FIELDS)
    return render_template(
        "portal/producer/void.html",
        run=run,
        form=form,
        preview=preview,
        done=done,
        shown=SHOWN,
        spans_text=spans_text,
    )
