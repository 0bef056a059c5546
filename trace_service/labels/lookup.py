"""The site's front door: "Kiểm tra tem OCOP", for someone whose phone cannot scan.

The shopper types the code printed under the QR ("7K3M9-QXA2B-CDEF4"); lower case, spaces,
hyphens (en and em dashes and the like too) and the look-alike letters O/0 and I/L/1 are read
as the stamp meant them, and the check character turns a typo into "no such code" before any
lookup (``serials``). A known code is sent (303) to the label's own signed URL, rebuilt from
what was issued, so the label page checks it exactly as if the QR had been scanned;
``src=typed`` tells that page the view came from typing (the signature check reads only ``S``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers.response import Response

from trace_service.db import get_session
from trace_service.labels import payload, serials
from trace_service.labels.models import Label
from trace_service.labels.services import claims_for
from trace_service.ratelimit import Rate, check_client_limit

lookup = Blueprint("label_lookup", __name__, template_folder="templates")

# A person types a code in seconds; more than this from one address is a script guessing.
LOOKUP_RATE = Rate(30, 60)
TYPED_MARK = "src=typed"
_LONGEST_INPUT = 64  # a 15-character code with generous spacing; longer is not a code
# As serials.py reads a typed code (its own tables are private to it).
_SEPARATORS = re.compile(f"[\\s{re.escape(serials.DASHES)}]+")
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


@dataclass(frozen=True)
class Lookup:
    """What a typed code turned out to be: ``found`` with the label's path and query,
    ``unknown`` (well formed, never issued), or what is wrong with its writing, so the
    answer can say how to fix it: ``too_short`` / ``too_long`` (``count`` characters read),
    ``bad_chars`` (``chars``: characters no stamp prints) or ``check`` (15 good characters
    whose check character does not match: a typo or two swapped characters)."""

    outcome: str
    serial: str | None = None
    target: str | None = None
    count: int = 0
    chars: str = ""


def _as_read(typed: str) -> str:
    """The code as a stamp would print it: separators dropped, upper case, look-alikes read
    as ``serials.normalise_typed`` reads them."""
    return _SEPARATORS.sub("", typed).upper().translate(_LOOK_ALIKES)


def _what_is_wrong(typed: str) -> Lookup:
    read = _as_read(typed)
    odd = "".join(dict.fromkeys(ch for ch in read if ch not in serials.ALPHABET))
    if odd:
        return Lookup("bad_chars", chars=odd[:10])
    if len(read) < serials.LENGTH:
        return Lookup("too_short", count=len(read))
    if len(read) > serials.LENGTH:
        return Lookup("too_long", count=len(read))
    return Lookup("check", count=len(read))


def find_typed(session: Session, typed: str) -> Lookup:
    """The label a person's typed code names, if it was issued."""
    serial = serials.normalise_typed(typed[:_LONGEST_INPUT])
    if serial is None:
        return _what_is_wrong(typed[:_LONGEST_INPUT])
    label = session.scalar(
        select(Label).options(joinedload(Label.run)).where(Label.serial == serial)
    )
    if label is None:
        return Lookup("unknown", serial)
    return Lookup("found", serial, f"{signed_path(label)}&{TYPED_MARK}")


def signed_path(label: Label) -> str:
    """The path and query of the label's printed URL, rebuilt from what was issued.

    Links and redirects go to this host's own copy of it (the run's printed host may be
    another name of this service, or not reachable from here); the page rebuilds the printed
    URL from the run's base before it checks the signature.
    """
    url = payload.label_url(claims_for(label.run, label.serial), label.signature)
    return url[len(label.run.base_url) :]


@lookup.get("/")
def front_door() -> Response | tuple[str, int]:
    """The lookup form, or the answer to a code typed into it (``?ma=``)."""
    typed = request.args.get("ma")
    if typed is None or not typed.strip():
        return render_template("labels/lookup.html", typed="", answer=None), 200
    check_client_limit("label_lookup", LOOKUP_RATE)
    answer = find_typed(get_session(), typed)
    if answer.outcome == "found" and answer.target:
        return redirect(answer.target, code=303)
    # 200 as the portal's refused forms: an answer to a person's question, not a missing
    # resource (and a browser logs every 4xx page as a console error).
    code = serials.grouped(answer.serial) if answer.serial else typed.strip()[:_LONGEST_INPUT]
    html = render_template(
        "labels/lookup.html", typed=typed, answer=answer, code=code, verdict="unknown_code"
    )
    return html, 200
