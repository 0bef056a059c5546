"""Counting views of a stamp's page, and flagging a stamp that looks copied.

Each view of a stamp of ours is appended to the scan log ``label_scans`` (time, a salted
hash of the client's address, a coarse device class, scanned or typed: nothing else about
the person) and counted beside the stamp (``LabelState``): the count, the first and last
view, and the last few distinct clients with their times. The page reads that one row, so
its work never grows with the number of scans.

The salt changes every month and is never stored: an HMAC of the service's secret key and
the month. A hash cannot be tied back to an address without the key, nor across months.

A stamp is flagged as possibly copied (until the office clears the flag with a reason,
``clear_flag``: the counts stay, the rule starts again from that moment) when it was viewed
more than ``LABEL_COPY_MAX_SCANS`` times, or by more than ``LABEL_COPY_MAX_CLIENTS``
distinct clients within ``LABEL_COPY_WINDOW_HOURS`` (counted among the last ``MAX_CLIENTS +
1`` clients kept). Towards the first rule a client's reloads within ``REPEAT_WINDOW`` count
once, and a page loaded by another site (an image or a frame: ``Sec-Fetch-Dest`` not
``document``) or by a robot is logged but not counted at all: no one checked a stamp, and no
visitor should be able to make a genuine stamp look copied by reloading or embedding its
page.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.auth.scoping import check_owned, scoped
from trace_service.errors import Conflict, NotFound
from trace_service.labels import serials
from trace_service.labels.models import Label, LabelState, PrintRun, label_scans
from trace_service.labels.states import locked_state
from trace_service.labels.tags import LabelTag
from trace_service.principal import Principal

REPEAT_WINDOW = timedelta(minutes=10)  # a client's reloads within it are one view for the rule
_BOT = re.compile(r"bot|crawl|spider|slurp|preview|curl|wget|python|http", re.IGNORECASE)
_TABLET = re.compile(r"ipad|tablet|kindle|silk|android(?!.*mobile)", re.IGNORECASE)
_PHONE = re.compile(r"mobi|iphone|ipod|android|windows phone|zalo", re.IGNORECASE)


@dataclass(frozen=True)
class CopyRule:
    """When a stamp counts as possibly copied (settings ``LABEL_COPY_*``)."""

    max_scans: int
    max_clients: int
    window: timedelta

    @classmethod
    def from_config(cls, config: Any) -> CopyRule:
        return cls(
            config["LABEL_COPY_MAX_SCANS"],
            config["LABEL_COPY_MAX_CLIENTS"],
            timedelta(hours=config["LABEL_COPY_WINDOW_HOURS"]),
        )

    @property
    def kept(self) -> int:
        """Distinct clients kept per stamp: enough to see one too many in the window."""
        return self.max_clients + 1


@dataclass(frozen=True)
class Seen:
    """One view of a page, as little as the log keeps of it."""

    client_hash: str
    device: str  # phone | tablet | desktop | bot | other
    source: str  # scan | typed
    counted: bool = True  # False: loaded by another page (an image, a frame), not opened


def client_hash(secret: str, client_key: str, now: datetime) -> str:
    """The client's address, hashed with this month's salt (derived, never stored)."""
    salt = hmac.new(secret.encode(), f"ocop-scan-salt/{now:%Y-%m}".encode(), hashlib.sha256)
    return hmac.new(salt.digest(), client_key.encode(), hashlib.sha256).hexdigest()[:32]


def device_class(user_agent: str) -> str:
    if not user_agent:
        return "other"
    if _BOT.search(user_agent):
        return "bot"
    if _TABLET.search(user_agent):
        return "tablet"
    if _PHONE.search(user_agent):
        return "phone"
    return "desktop"


def source_of(src: str | None, referrer: str | None, host: str) -> str:
    """``typed`` when the visitor came from the lookup page (``?src=typed``, or a referrer
    that is this site's home page), else ``scan``."""
    if src in ("typed", "scan"):
        return src
    home = (f"http://{host}/", f"https://{host}/")
    return "typed" if referrer and referrer.split("?")[0] in home else "scan"


def _recent(state: LabelState, seen: Seen, now: datetime, kept: int) -> list[list[str]]:
    clients = [pair for pair in state.recent_clients or [] if pair[0] != seen.client_hash]
    return [*clients, [seen.client_hash, now.isoformat()]][-kept:]


def _flag(state: LabelState, rule: CopyRule, now: datetime) -> None:
    if state.flagged_at is not None:
        return  # flagged until the office clears it (``clear_flag``), not by itself
    since = now - rule.window
    if state.flag_cleared_at is not None:
        # After the office cleared a flag, only what came after counts: the same evidence
        # must not flag the stamp again at its next view.
        since = max(since, state.flag_cleared_at)
    recent = sum(1 for _, at in state.recent_clients if datetime.fromisoformat(at) >= since)
    if state.counted_views - (state.cleared_views or 0) > rule.max_scans:
        state.flagged_at, state.flag_reason = now, "scans"
    elif recent > rule.max_clients:
        state.flagged_at, state.flag_reason = now, "clients"


def _log(session: Session, label: Label, seen: Seen, now: datetime) -> None:
    session.execute(
        insert(label_scans).values(
            label_id=label.id,
            scanned_at=now,
            client_hash=seen.client_hash,
            device=seen.device,
            source=seen.source,
        )
    )


def record_scan(
    session: Session, label: Label, seen: Seen, rule: CopyRule, now: datetime
) -> LabelState | None:
    """Count one view of ``label``'s page, log it, and flag the stamp if it looks copied.
    A robot's view (a chat app previewing a shared link, a crawler) is logged but not
    counted: it is no one checking a stamp, and must not make a genuine stamp look copied."""
    if seen.device == "bot" or not seen.counted:
        _log(session, label, seen, now)
        return label.state
    state = locked_state(session, label)
    state.scan_count += 1
    last = dict(state.recent_clients or []).get(seen.client_hash)
    if last is None or now - datetime.fromisoformat(last) >= REPEAT_WINDOW:
        state.counted_views += 1
    state.first_scanned_at = state.first_scanned_at or now
    state.last_scanned_at = now
    state.recent_clients = _recent(state, seen, now, rule.kept)
    _flag(state, rule, now)
    _log(session, label, seen, now)
    session.flush()
    return state


def flagged_query(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    """Stamps flagged as possibly copied, newest flag first (a producer sees its own),
    narrowed by product, run and the day range of the flag."""
    stmt = (
        select(Label)
        .join(LabelState, LabelState.label_id == Label.id)
        .join(PrintRun, PrintRun.id == Label.run_id)
        .where(LabelState.flagged_at.is_not(None))
        .order_by(LabelState.flagged_at.desc(), Label.id)
    )
    stmt = scoped(stmt, actor, Label)
    if args.get("product_id") is not None:
        stmt = stmt.where(PrintRun.product_id == args["product_id"])
    if args.get("run_id") is not None:
        stmt = stmt.where(Label.run_id == args["run_id"])
    if args.get("flagged_from") is not None:
        stmt = stmt.where(LabelState.flagged_at >= args["flagged_from"])
    if args.get("flagged_before") is not None:
        stmt = stmt.where(LabelState.flagged_at < args["flagged_before"])
    if args.get("reason") is not None:
        stmt = stmt.where(LabelState.flag_reason == args["reason"])
    return stmt


def clear_flag(session: Session, actor: Principal, code: str, reason: str, now: datetime) -> Label:
    """The office's finding that a flagged stamp is not a copy (a shop showing it to many
    customers, a test): its page goes back to its own verdict, its counts stay, and the copy
    rule counts again from now. Audited with the flag it cleared."""
    serial = serials.normalise_typed(code)
    label = session.scalar(select(Label).where(Label.serial == serial)) if serial else None
    label = check_owned(
        actor, label, lambda: NotFound("Không tìm thấy tem.", "No label has this code.")
    )
    state = locked_state(session, label)
    if state.flagged_at is None:
        raise Conflict(
            "Tem này không bị đánh dấu nghi sao chép.", "This stamp is not flagged as copied."
        )
    cleared: dict[str, object] = {"flagged_at": state.flagged_at.isoformat()}
    cleared["flag_reason"] = state.flag_reason
    state.flagged_at, state.flag_reason = None, None
    state.flag_cleared_at, state.flag_cleared_by = now, actor.user_id
    state.flag_clear_reason, state.cleared_views = reason, state.counted_views
    session.flush()
    details = {"serial": label.serial, "reason": reason, **cleared}
    details |= {"scan_count": state.scan_count, "counted_views": state.counted_views}
    record_event(session, actor, LabelTag.FLAG_CLEARED, "label", label.id, details)
    return label
