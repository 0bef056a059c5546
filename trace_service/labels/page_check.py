"""The label page's check of a scanned URL: the same judgement as the verify API's
(``verify_response.verify_scanned``), on the page's own read path.

Per view: the URL parsed, one signature verified, one query for the label with its run, its
state and the page version, and the run's facts from the worker's cache (composed again only
when the page version or the day changed: labels/page_cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from trace_service.labels import payload
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.page_cache import RunCache, version_column
from trace_service.labels.page_facts import RunFacts, run_facts
from trace_service.labels.services import claims_for
from trace_service.labels.verify import MESSAGES, StampState, as_printed
from trace_service.signing.keystore import KeyStore, Verdict


@dataclass(frozen=True)
class Found:
    """A label as one query reads it: with its run and state loaded, and the page version."""

    label: Label
    version: int | None


# Built once: a view only binds the serial.
_READ = (
    select(Label, version_column())
    .where(Label.serial == bindparam("serial"))
    .options(joinedload(Label.run, innerjoin=True), joinedload(Label.state))
)


def read_label(session: Session, serial: str) -> Found | None:
    row = session.execute(_READ, {"serial": serial}).first()
    return Found(row[0], row[1]) if row is not None else None


@dataclass(frozen=True)
class PageCheck(StampState):
    """What a page view learnt: the verdict on the signature and record (a key of
    ``verify.MESSAGES``), and for a stamp of ours its row, run and the run's facts."""

    verdict: str
    claims: payload.LabelClaims | None = None
    label: Label | None = None
    run: PrintRun | None = None
    facts: RunFacts | None = None

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
        claims, signature = payload.parse_label_url(as_printed(url))
    except payload.MalformedLabelUrl:
        return PageCheck("malformed")
    verdict = store.verify(claims.kid, claims.message(), signature)
    if verdict is Verdict.INVALID:
        return PageCheck("invalid_signature", claims)
    if verdict is Verdict.UNKNOWN_KEY:
        return PageCheck("unknown_key", claims)
    if found is None or found.label.serial != claims.serial:
        found = read_label(session, claims.serial)
    label = found.label if found is not None else None
    if (
        found is None
        or label is None
        or label.signature != signature
        or claims_for(label.run, label.serial) != claims
    ):
        return PageCheck("not_issued", claims)
    run = label.run
    facts = cache.get(
        run, found.version, today, lambda: run_facts(session, run, today, window_days)
    )
    word = "compromised_key" if verdict is Verdict.COMPROMISED_KEY else "genuine"
    return PageCheck(word, claims, label, run, facts)
