"""The code under a stamp's scratch-off layer, checked from the stamp's page.

A photocopied stamp copies its QR, never a code that was still covered: the first correct
entry answers "genuine, first check" and records when; any later correct entry answers "this
code was already checked on DATE" (amber: a second buyer of the "same" stamp learns it was
sold before). Only the code's hash is stored (``labels.serials.scratch_hash``).

Wrong entries are counted on the stamp and rate-limited per client, so the 50-bit code cannot
be guessed: ``WRONG_PER_CLIENT`` wrong codes a client an hour, and at most
``TRIES_PER_CLIENT`` checks an hour, right or wrong. Past ``WRONG_PER_LABEL`` wrong codes on one
stamp in an hour, further wrong ones answer 429; a right code is always answered, so no one can
lock the buyer out of their own stamp by sending wrong codes first.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from trace_service.labels import serials
from trace_service.labels.models import Label
from trace_service.labels.page_check import PageLabel
from trace_service.labels.states import locked_state
from trace_service.ratelimit import Rate, RateLimits, too_many_requests

WRONG_PER_LABEL = Rate(5, 3600)
WRONG_PER_CLIENT = Rate(10, 3600)
TRIES_PER_CLIENT = Rate(30, 3600)
CODE_LENGTH = 10
MAX_TYPED = 20  # the box's maxlength
_SEPARATORS = re.compile(r"[\s\-.]+")
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})


@dataclass(frozen=True)
class ScratchAnswer:
    answer: str  # first | reused | wrong | malformed | limited
    first_on: datetime | None = None  # when the code was first checked (for "reused")
    typed: str = ""  # as typed, shown again in the box when it is to be typed again
    length: int = 0  # the characters of a malformed code, as read (separators left out)
    wait: tuple[str, str] = ("", "")  # how long to wait when limited, Vietnamese and English


def normalise_code(text: str) -> str | None:
    """The code as typed, in canonical form (case, spaces, hyphens and look-alikes
    tolerated), or None when it cannot be one."""
    code = _SEPARATORS.sub("", text or "").upper().translate(_ALIASES)
    if len(code) != CODE_LENGTH or any(ch not in serials.ALPHABET for ch in code):
        return None
    return code


def _right(label: Label | PageLabel, code: str | None) -> bool:
    if code is None or label.scratch_hash is None:
        return False
    return hmac.compare_digest(serials.scratch_hash(label.serial, code), label.scratch_hash)


def _check_client_limits(limits: RateLimits, client: str) -> None:
    """429 before any comparison when the client has had too many tries."""
    if not limits.test(WRONG_PER_CLIENT, "scratch-wrong-client", client):
        raise too_many_requests(
            limits.retry_after(WRONG_PER_CLIENT, "scratch-wrong-client", client)
        )
    if not limits.hit(TRIES_PER_CLIENT, "scratch-tries", client):
        raise too_many_requests(limits.retry_after(TRIES_PER_CLIENT, "scratch-tries", client))


def check_scratch(
    session: Session,
    label: Label | PageLabel,
    typed: str,
    client: str,
    limits: RateLimits,
    now: datetime,
) -> ScratchAnswer:
    """Check ``typed`` against ``label``'s scratch code for the client ``client``."""
    _check_client_limits(limits, client)
    code = normalise_code(typed)
    if code is None:
        # Not 10 letters of the alphabet: a slip of the finger, never a guess at the code, so
        # it is said as such (review user16b) and not counted as a wrong code.
        length = len(_SEPARATORS.sub("", typed or ""))
        return ScratchAnswer("malformed", typed=typed[:MAX_TYPED], length=length)
    state = locked_state(session, label)
    if _right(label, code):
        if state.scratch_checked_at is None:
            state.scratch_checked_at = now
            session.flush()
            return ScratchAnswer("first", now)
        return ScratchAnswer("reused", state.scratch_checked_at)
    state.scratch_failures += 1
    limits.hit(WRONG_PER_CLIENT, "scratch-wrong-client", client)
    session.flush()
    if not limits.hit(WRONG_PER_LABEL, "scratch-wrong-label", label.serial):
        raise too_many_requests(
            limits.retry_after(WRONG_PER_LABEL, "scratch-wrong-label", label.serial)
        )
    return ScratchAnswer("wrong", typed=typed[:MAX_TYPED])
