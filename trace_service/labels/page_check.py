"""The label page's check of a scanned URL: the same judgement as the verify API's
(``verify_response.verify_scanned``), on the page's own read path.

Per view: the URL parsed, one signature verified, one query for the label with its run, its
state and the page version, and the run's facts from the worker's cache; else as another
worker kept them (one more query), else composed (only when the page version or the day
changed: labels/page_cache.py) and then kept by the caller (``PageCheck.to_store``).

The query is plain Core on the session's connection, read into small dataclasses: loading
ORM objects for a label, its run and its state cost a page view more than its signature.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from trace_service.labels import facts_codec, payload
from trace_service.labels.models import Label, LabelState, PrintRun, run_page_facts
from trace_service.labels.page_cache import RunCache, StoredFacts, version_column
from trace_service.labels.page_facts import RunFacts, run_facts
from trace_service.labels.services import claims_for
from trace_service.labels.verify import MESSAGES, StampState, parse_scanned
from trace_service.signing.keystore import KeyStore, Verdict


@dataclass(frozen=True)
class RunClaims:
    """What a print run states on each of its stamps (``PrintRun``'s names), and what keys
    its cached facts: fixed when the run is ordered."""

    id: int
    created_at: datetime
    base_url: str
    gtin: str | None
    product_id: int
    lot_code: str
    star: int
    certificate_id: int
    valid_until: date
    kid: str


@dataclass
class PageState:
    """A stamp's counters and marks (``LabelState``'s names) as the page reads and writes
    them."""

    scan_count: int = 0
    counted_views: int = 0
    first_scanned_at: datetime | None = None
    last_scanned_at: datetime | None = None
    recent_clients: list[Any] | None = None
    flagged_at: datetime | None = None
    flag_reason: str | None = None
    flag_cleared_at: datetime | None = None
    cleared_views: int = 0
    voided_at: datetime | None = None


@dataclass
class PageLabel:
    """A stamp as the page reads it (``Label``'s names): ``state`` is None until its first
    view or void."""

    id: int
    serial: str
    signature: bytes
    scratch_hash: bytes | None
    run: RunClaims
    state: PageState | LabelState | None  # a LabelState once read under its row lock


@dataclass(frozen=True)
class Found:
    """A label as one query reads it, with its run's claims, its state and the page
    version."""

    label: PageLabel
    version: int | None


_RUN = PrintRun.__table__.c
_STATE = LabelState.__table__.c
_LABEL = Label.__table__.c
_KEPT = run_page_facts.c
_RUN_COLUMNS = [f.name for f in fields(RunClaims)]
_STATE_COLUMNS = [f.name for f in fields(PageState)]
# Built once: a view only binds the serial.
_READ = (
    select(
        _LABEL.id,
        _LABEL.serial,
        _LABEL.signature,
        _LABEL.scratch_hash,
        *(_RUN[name].label(f"run_{name}") for name in _RUN_COLUMNS),
        _STATE.label_id.label("state_label_id"),
        *(_STATE[name].label(f"state_{name}") for name in _STATE_COLUMNS),
        version_column(),
    )
    .select_from(
        Label.__table__.join(PrintRun.__table__, _RUN.id == _LABEL.run_id).outerjoin(
            LabelState.__table__, _STATE.label_id == _LABEL.id
        )
    )
    .where(_LABEL.serial == bindparam("serial"))
)


def _found(row: Any) -> Found:  # a row of _READ
    values = row._mapping
    run = RunClaims(**{name: values[f"run_{name}"] for name in _RUN_COLUMNS})
    state = None
    if values["state_label_id"] is not None:
        state = PageState(**{name: values[f"state_{name}"] for name in _STATE_COLUMNS})
    label = PageLabel(row.id, row.serial, row.signature, row.scratch_hash, run, state)
    return Found(label, row.page_version)


def read_label(connection: Connection, serial: str) -> Found | None:
    row = connection.execute(_READ, {"serial": serial}).first()
    return _found(row) if row is not None else None


# Read only when this worker's cache misses: the views it serves from its cache pay nothing.
_READ_KEPT = select(_KEPT.version, _KEPT.day, _KEPT.body).where(_KEPT.run_id == bindparam("run"))


def _kept(session: Session, run_id: int, version: int, today: date) -> RunFacts | None:
    row = session.connection().execute(_READ_KEPT, {"run": run_id}).first()
    if row is None or (row.version, row.day) != (version, today):
        return None
    return facts_codec.loads(row.body)


@dataclass(frozen=True)
class PageCheck(StampState):
    """What a page view learnt: the verdict on the signature and record (a key of
    ``verify.MESSAGES``), and for a stamp of ours its row, run and the run's facts."""

    verdict: str
    claims: payload.LabelClaims | None = None
    label: PageLabel | None = None
    run: RunClaims | None = None
    facts: RunFacts | None = None
    to_store: StoredFacts | None = None  # facts composed by this view, for other workers

    @property
    def message(self) -> tuple[str, str]:
        return MESSAGES[self.verdict]


def check_page(
    session: Session,
    store: KeyStore,
    url: str,
    today: date,
    window_days: int,
    cache: RunCache[Any],
    found: Found | None = None,
) -> PageCheck:
    """The verdict on a scanned URL; never raises for what a scan can contain. ``found``:
    the label the caller read by the URL's serial, if any."""
    try:
        claims, signature = parse_scanned(url)
    except payload.MalformedLabelUrl:
        return PageCheck("malformed")
    verdict = store.verify(claims.kid, claims.message(), signature)
    if verdict is Verdict.INVALID:
        return PageCheck("invalid_signature", claims)
    if verdict is Verdict.UNKNOWN_KEY:
        return PageCheck("unknown_key", claims)
    if found is None or found.label.serial != claims.serial:
        found = read_label(session.connection(), claims.serial)
    label = found.label if found is not None else None
    if (
        found is None
        or label is None
        or label.signature != signature
        or claims_for(label.run, label.serial) != claims
    ):
        return PageCheck("not_issued", claims)
    facts, to_store = _run_facts(session, found, today, window_days, cache)
    word = "compromised_key" if verdict is Verdict.COMPROMISED_KEY else "genuine"
    return PageCheck(word, claims, label, label.run, facts, to_store)


def _run_facts(
    session: Session, found: Found, today: date, window_days: int, cache: RunCache[Any]
) -> tuple[RunFacts, StoredFacts | None]:
    """The run's facts: this worker's, else as another worker kept them for this version
    and day, else composed from the records (and returned to be kept, beside them)."""
    run, version = found.label.run, found.version
    composed: list[StoredFacts] = []

    def compose() -> RunFacts:
        kept = _kept(session, run.id, version, today) if version is not None else None
        if kept is not None:
            return kept
        facts = run_facts(session, session.get_one(PrintRun, run.id), today, window_days)
        if version is not None:
            composed.append(StoredFacts(version, today, facts_codec.dumps(facts)))
        return facts

    facts = cache.get(run, version, today, compose)
    return facts, composed[0] if composed else None
