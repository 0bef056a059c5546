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
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from trace_service.audit.services import record_event
from trace_service.auth.scoping import check_owned, scoped
from trace_service.db import begin_write
from trace_service.errors import Conflict, NotFound
from trace_service.labels import serials
from trace_service.labels.models import Label, LabelState, PrintRun, label_scans
from trace_service.labels.page_check import PageLabel, PageState
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


@lru_cache(maxsize=4)
def _month_salt(secret: str, month: str) -> bytes:
    return hmac.new(secret.encode(), f"ocop-scan-salt/{month}".encode(), hashlib.sha256).digest()


def client_hash(secret: str, client_key: str, now: datetime) -> str:
    """The client's address, hashed with this month's salt (derived, never stored; kept in
    memory for the month's views, not derived again for each)."""
    salt = _month_salt(secret, f"{now:%Y-%m}")
    return hmac.new(salt, client_key.encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=1024)  # phones of a market send a few hundred distinct User-Agents
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


@dataclass(frozen=True)
class Counts:
    """The stamp's scan counters as a view leaves them (``LabelState``'s columns)."""

    scan_count: int
    counted_views: int
    first_scanned_at: datetime | None
    last_scanned_at: datetime | None
    recent_clients: list[list[str]]
    flagged_at: datetime | None
    flag_reason: str | None
    # The office's last clearing (``clear_flag``): read by the rule, written back unchanged.
    flag_cleared_at: datetime | None = None
    cleared_views: int = 0

    @classmethod
    def of(cls, state: LabelState | PageState | None) -> Counts:
        if state is None:
            return cls(0, 0, None, None, [], None, None)
        return cls(
            state.scan_count,
            state.counted_views,
            state.first_scanned_at,
            state.last_scanned_at,
            list(state.recent_clients or []),
            state.flagged_at,
            state.flag_reason,
            state.flag_cleared_at,
            state.cleared_views or 0,
        )

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def counted(before: Counts, seen: Seen, rule: CopyRule, now: datetime) -> Counts:
    """The counters after one counted view, flagged if the stamp now looks copied (pure)."""
    last = dict(before.recent_clients).get(seen.client_hash)
    repeat = last is not None and now - datetime.fromisoformat(last) < REPEAT_WINDOW
    clients = [pair for pair in before.recent_clients if pair[0] != seen.client_hash]
    recent = [*clients, [seen.client_hash, now.isoformat()]][-rule.kept :]
    after = replace(
        before,
        scan_count=before.scan_count + 1,
        counted_views=before.counted_views + (0 if repeat else 1),
        first_scanned_at=before.first_scanned_at or now,
        last_scanned_at=now,
        recent_clients=recent,
    )
    if after.flagged_at is not None:
        return after  # flagged until the office clears it (``clear_flag``), not by itself
    since = now - rule.window
    if after.flag_cleared_at is not None:
        # After the office cleared a flag, only what came after counts: the same evidence
        # must not flag the stamp again at its next view.
        since = max(since, after.flag_cleared_at)
    in_window = sum(1 for _, at in recent if datetime.fromisoformat(at) >= since)
    if after.counted_views - after.cleared_views > rule.max_scans:
        return replace(after, flagged_at=now, flag_reason="scans")
    if in_window > rule.max_clients:
        return replace(after, flagged_at=now, flag_reason="clients")
    return after


# Built once: a page view only binds its values (no statement to build, its cache key known).
_STATES = cast(Table, LabelState.__table__)
_LOG = insert(label_scans)
# Every counted view adds one to scan_count, and a clearing sets flag_cleared_at: both
# unchanged, nothing was counted or cleared since the state was read.
_COUNT = (
    update(_STATES)
    .where(
        _STATES.c.label_id == bindparam("b_label_id"),
        _STATES.c.scan_count == bindparam("b_scan_count"),
        _STATES.c.flag_cleared_at.is_not_distinct_from(bindparam("b_cleared_at")),
    )
    .execution_options(preserve_rowcount=True)
)
# A first view's row; RETURNING says whether it was written (an INSERT's rowcount is not
# kept by every driver: -1 on PostgreSQL here, which would count the view twice).
_FIRST = {
    "postgresql": postgresql.insert(_STATES).on_conflict_do_nothing().returning(_STATES.c.label_id),
    "sqlite": sqlite.insert(_STATES).on_conflict_do_nothing().returning(_STATES.c.label_id),
}


# PostgreSQL: a view's counters and its log row in one statement (a data-modifying WITH runs
# whole, atomic on its own: no transaction, one round trip). It answers how many state rows
# it counted: 0 when another view changed the counters since they were read.
_COUNTED = [f.name for f in fields(Counts)]
_NEW_COUNTS = {name: bindparam(f"c_{name}", type_=_STATES.c[name].type) for name in _COUNTED}
_LOGGED = (
    insert(label_scans)
    .values({c.name: bindparam(f"l_{c.name}", type_=c.type) for c in label_scans.c})
    .cte("logged")
)
_PG_COUNT = (
    update(_STATES)
    .where(
        _STATES.c.label_id == bindparam("b_label_id"),
        _STATES.c.scan_count == bindparam("b_scan_count"),
        _STATES.c.flag_cleared_at.is_not_distinct_from(bindparam("b_cleared_at")),
    )
    .values(_NEW_COUNTS)
    .returning(_STATES.c.label_id)
    .cte("counted")
)
_PG_FIRST = (
    postgresql.insert(_STATES)
    .values({"label_id": bindparam("b_label_id"), "scratch_failures": 0, **_NEW_COUNTS})
    .on_conflict_do_nothing()
    .returning(_STATES.c.label_id)
    .cte("counted")
)
# The view's commit does not wait for the WAL to reach the disk (``synchronous_commit`` off
# for this statement's own transaction alone): a page view is counted without the worker
# sitting idle through a flush. What a crash of the database server (not of ours) can cost is
# the views of its last fraction of a second (``wal_writer_delay`` × 3 at most), the counters
# and their log rows together: never half a view, and never anything else (audit events,
# orders, scratch-code checks commit as usual).
_ASYNC_COMMIT = select(func.set_config("synchronous_commit", "off", True).label("setting")).cte(
    "async_commit"
)
_PG_VIEW = {
    first: select(func.count()).select_from(cte.join(_ASYNC_COMMIT, true())).add_cte(_LOGGED)
    for first, cte in ((False, _PG_COUNT), (True, _PG_FIRST))
}


def _count_and_log(
    session: Session, label: PageLabel, seen: Seen, before: Counts, after: Counts, now: datetime
) -> bool:
    """PostgreSQL: log the view and write its counters if no other view changed them since
    the page read them, in one statement; whether the counters were written."""
    values = {f"c_{name}": value for name, value in after.values().items()}
    values |= {"b_label_id": label.id, "b_scan_count": before.scan_count}
    values |= {"b_cleared_at": before.flag_cleared_at}
    values |= {"l_label_id": label.id, "l_scanned_at": now, "l_client_hash": seen.client_hash}
    values |= {"l_device": seen.device, "l_source": seen.source}
    statement = _PG_VIEW[label.state is None]
    return bool(session.connection().execute(statement, values).scalar_one())


def record_view(
    session: Session, label: PageLabel, seen: Seen, rule: CopyRule, now: datetime
) -> None:
    """Count and log one view of a label page with the fewest round trips. PostgreSQL: one
    statement, outside any transaction when the page's session runs so
    (``db.statements_stand_alone``); only when another view changed the counters meanwhile,
    a transaction counts again under the row's lock. SQLite (no data-modifying WITH): the
    write's transaction, taken IMMEDIATE, with ``record_scan``'s two statements."""
    if session.get_bind().dialect.name != "postgresql":
        begin_write(session)
        record_scan(session, label, seen, rule, now)
        return
    if seen.device == "bot" or not seen.counted:
        _log(session, label, seen, now)  # one statement, atomic on its own
        return
    before = Counts.of(label.state)
    after = counted(before, seen, rule, now)
    if _count_and_log(session, label, seen, before, after, now):
        _show(label, after)
        return
    begin_write(session)  # logged already; counted again under the row's lock
    state = locked_state(session, label)
    for key, value in counted(Counts.of(state), seen, rule, now).values().items():
        setattr(state, key, value)
    session.flush()


def _log(session: Session, label: Label | PageLabel, seen: Seen, now: datetime) -> None:
    session.connection().execute(
        _LOG,
        {
            "label_id": label.id,
            "scanned_at": now,
            "client_hash": seen.client_hash,
            "device": seen.device,
            "source": seen.source,
        },
    )


def _write_if_unchanged(
    session: Session, label: Label | PageLabel, before: Counts, after: Counts
) -> bool:
    """One statement: the new counters, if no other view changed them since ``label``'s
    state was read (else False). SQLite's page views already hold the write lock (the
    page's session begins IMMEDIATE): there, it always holds."""
    connection = session.connection()
    if label.state is None:
        first = {"label_id": label.id, "scratch_failures": 0, **after.values()}
        statement = _FIRST["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
        return connection.execute(statement, first).first() is not None
    values = after.values() | {
        "b_label_id": label.id,
        "b_scan_count": before.scan_count,
        "b_cleared_at": before.flag_cleared_at,
    }
    return connection.execute(_COUNT, values).rowcount == 1


def _show(label: Label | PageLabel, counts: Counts) -> LabelState | PageState:
    """The counters as written, on the label the page renders (without reading them back)."""
    if isinstance(label, PageLabel):
        voided_at = label.state.voided_at if label.state is not None else None
        label.state = PageState(**counts.values(), voided_at=voided_at)
        return label.state
    state = label.state
    if state is None:
        state = LabelState(label_id=label.id, scratch_failures=0)
        set_committed_value(label, "state", state)
    for key, value in counts.values().items():
        set_committed_value(state, key, value)
    return state


def record_scan(
    session: Session, label: Label | PageLabel, seen: Seen, rule: CopyRule, now: datetime
) -> LabelState | PageState | None:
    """Count one view of ``label``'s page, log it, and flag the stamp if it looks copied.
    A robot's view (a chat app previewing a shared link, a crawler) is logged but not
    counted: it is no one checking a stamp, and must not make a genuine stamp look copied.

    The page read the state with the label: the counters are written in one statement when
    no other view changed them meanwhile, else again under the row's lock."""
    if seen.device == "bot" or not seen.counted:
        _log(session, label, seen, now)
        return label.state
    before = Counts.of(label.state)
    after = counted(before, seen, rule, now)
    if _write_if_unchanged(session, label, before, after):
        state = _show(label, after)
    else:
        state = locked_state(session, label)
        for key, value in counted(Counts.of(state), seen, rule, now).values().items():
            setattr(state, key, value)
        session.flush()
    _log(session, label, seen, now)
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
