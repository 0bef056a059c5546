"""What label pages show beyond a stamp's own row, composed once per print run and day.

Everything a page shows except the stamp's own counters (``LabelState``) is the same for
every label of a run, and changes only when a certificate is revoked, replaced or edited, a
lot behind the run is recalled, an event is recorded or corrected, a name, address or area
is edited, or the day changes (a certificate's standing follows from its dates). So each
worker keeps the composed facts of a run for one Vietnam day, under the *page version*: a
number in ``page_versions`` that every such change sets to a fresh random value in its own
transaction (``after_flush`` below), and that each page view reads in the same query as its
label. A change is seen by every worker as soon as it commits; no page is served from
facts composed under another version, so a recall or revocation is never shown late.

Random, not incremented: a transaction rolled back after a change leaves the old number,
and whatever a worker composed under the rolled-back one is never matched again.

One version for all runs: these changes are rare beside page views (a few a day per
producer), and each costs one composition per run served again.

One composition, not one per worker: the worker that composes a run's facts keeps them in
``run_page_facts`` with the version and day they hold for (written with the view's count),
and every other worker and instance reads them there on a miss of its own cache
(``page_check``) instead of composing them again. A worker's cache then holds the runs it
serves most; a run it lost to others costs one indexed read and a JSON decode, not a trace.
At national size the runs being scanned outnumber any worker's cache
(``bench/national_size.py``: 4,400 runs sampled against 4,096 kept), and each composition
is ~5 times a cached view.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from flask import Flask
from sqlalchemy import Label, event, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, UOWTransaction

from trace_service.certificates.models import Certificate
from trace_service.labels.models import PrintRun, page_versions, run_page_facts
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.registry.photos import ProductPhoto
from trace_service.trace.models import EventLot, Lot, LotLink, Recall, TraceEvent

LABEL_PAGE = "label_page"
CAPACITY = 4096  # runs kept per worker (a few MB at most); the least recently used go first
EXTENSION = "ocop_label_page_cache"

# Records a page shows (or reads to compose what it shows): any change to one bumps.
WATCHED: tuple[type, ...] = (
    AdministrativeUnit,
    Certificate,
    EventLot,
    Listing,
    Lot,
    LotLink,
    Producer,
    Product,
    ProductPhoto,
    RawMaterialArea,
    Recall,
    TraceEvent,
)
# A print run's building bookkeeping is not shown; a new run was never cached. Its QR
# version is set after the run's first flush (from its first URL) and only printing uses
# it: were it counted, every order would make every worker compose every page again.
RUN_BOOKKEEPING = frozenset(
    {"status", "labels_drawn", "pages", "error", "lease_until", "files", "built_at", "qr_version"}
)


# Records of the layers above, and which of them a page shows (labels/page_facts.py).
_SHOWN_IF: dict[type, Callable[[Any], bool]] = {}


def watch(model: type, shown: Callable[[Any], bool] = lambda _instance: True) -> None:
    """Bump the page version on a change to a ``model`` record that a label page shows
    (``shown``): for records of the layers above (a passed field inspection of a lot)."""
    _SHOWN_IF[model] = shown


def version_column() -> Label[Any]:
    """The page version, as a column to select beside the label (NULL: no row, no cache)."""
    return (
        select(page_versions.c.version)
        .where(page_versions.c.name == LABEL_PAGE)
        .scalar_subquery()
        .label("page_version")
    )


def bump(session: Session) -> None:
    """A fresh page version, in the session's transaction (committed or rolled back with
    the change that asked for it)."""
    session.connection().execute(
        update(page_versions)
        .where(page_versions.c.name == LABEL_PAGE)
        .values(version=secrets.randbits(62))
    )


@dataclass(frozen=True)
class StoredFacts:
    """A run's facts as kept in ``run_page_facts``: good while version and day are current."""

    version: int
    day: date
    body: str  # labels/facts_codec.py


def store_facts(session: Session, run_id: int, stored: StoredFacts) -> None:
    """Keep a run's freshly composed facts for every worker, replacing older ones (one
    statement: atomic on its own, and within the view's write transaction on SQLite)."""
    values = {"version": stored.version, "day": stored.day, "body": stored.body}
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(run_page_facts).values(run_id=run_id, **values)
    session.connection().execute(
        statement.on_conflict_do_update(index_elements=["run_id"], set_=values)
    )


def _shown_change(session: Session, instance: Any) -> bool:
    if isinstance(instance, PrintRun):
        if instance in session.new:
            return False
        if instance in session.deleted:
            return True
        changed = {attr.key for attr in inspect(instance).attrs if attr.history.has_changes()}
        return bool(changed - RUN_BOOKKEEPING)
    shown = _SHOWN_IF.get(type(instance))
    if shown is not None and not shown(instance):
        return False
    # session.dirty holds any instance an attribute was set on, changed or not.
    return isinstance(instance, (*WATCHED, *_SHOWN_IF)) and (
        instance not in session.dirty or session.is_modified(instance)
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Bump the page version when this flush wrote anything a label page shows."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(_shown_change(session, instance) for instance in changed):
        bump(session)


# -- the per-worker cache ---------------------------------------------------------------------

T = TypeVar("T")


class RunKey(Protocol):
    """A print run as the cache knows it (a ``PrintRun`` or a reader's columns of it)."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class _Entry(Generic[T]):
    version: int
    day: date
    value: T


class RunCache(Generic[T]):
    """Composed facts by print run (its id and creation time: ids come round again after a
    rollback on SQLite), for one page version and one day; least recently used first out."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[int, datetime], _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: RunKey, version: int | None, day: date, compose: Callable[[], T]) -> T:
        if version is None:  # no version row: nothing could invalidate an entry
            return compose()
        key = (run.id, run.created_at)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version and entry.day == day:
                self._entries.move_to_end(key)
                return entry.value
        value = compose()  # outside the lock: a slow composition holds no other page
        with self._lock:
            self._entries[key] = _Entry(version, day, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def run_cache(app: Flask) -> RunCache[Any]:
    cache: RunCache[Any] | None = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions.setdefault(EXTENSION, RunCache())
    return cache
