"""Benchmark: backward and forward trace through a 10-level genealogy, beside a one-row lookup.

For each backend it builds a fresh, migrated database holding one producer, one product, four
raw-material areas and a coffee genealogy of 10 levels and ~1,000 lots (``random.Random(42)``,
so every run builds the same data): level 0 is 20 harvest lots (area 1 harvests 5 of them and
feeds every lot of level 9), each next level is made by transformation events that take 1-3
lots of the level above (neighbours in the level, so lots mix as a co-operative blends them)
and make 1-3 lots (a split, a merge or both), and level 9 is 400 packed lots of 250 pieces:
100,000 pieces. Each packed lot has one ready print run of 250 labels, under one certificate of
the product: 400 runs, 100,000 labels with unique serials (``serials.new_serials``, random, so
the serials differ from run to run) and 64 random bytes standing in for each Ed25519 signature
(the trace never reads them). Then, per repetition, each in a new ``Session`` (empty identity
map), timed from opening the session to closing it:

* the reference: ``session.get(Lot, id)`` of the packed lot below (one row by primary key);
* the label lookup: ``select(Label).where(Label.serial == serial)`` of one of that lot's
  labels (one row by the unique serial index, as a scan's verification starts);
* backward: ``session.get(Lot, id)`` of the packed lot with the most ancestors, then
  ``services.backward_trace(session, lot)`` (the recursive ancestors query, then the lots,
  events, corrections, areas, recalls and print runs queries);
* forward: ``services.area_trace(session, 1)`` (the harvests at area 1 and everything made
  from them, down to the 100,000 pieces and their 400 print runs of 100,000 labels).

Run from the repository root::

    .venv/bin/python bench/trace_bench.py [--backend sqlite|postgresql|both] [--repeat 11]
        [--explain]

PostgreSQL needs OCOP_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
a fresh database is created on that server and dropped afterwards. ``--explain`` prints the
query plans of the trace statements to stderr. A human table goes to stderr; the last line of
stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from bench import common
from bench.common import log, settle, timed
from tests.databases import POSTGRES_ENV, fresh_database
from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import valid_until
from trace_service.db import make_engine
from trace_service.labels import serials
from trace_service.labels.models import Label, PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.registry.models import (
    AdministrativeUnit,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.trace import services
from trace_service.trace.models import EventLot, Lot, LotLink, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.units import Unit

BACKWARD_BAR_S = 0.050
FORWARD_BAR_S = 2.0
# Lots per level: 20 harvest lots at the top, 400 packed lots at the bottom; 1,000 in all.
LEVELS = (20, 30, 40, 50, 60, 70, 90, 120, 120, 400)
PROCESSES = (
    None,  # harvest
    "drying",
    "hulling",
    "sorting",
    "roasting",
    "blending",
    "grinding",
    "sorting",
    "blending",
    "packing",
)
PIECES = 100_000
PIECE_KG = Decimal("0.25")
AREAS = 4
AREA = 1  # the area the forward trace starts from; it feeds every packed lot
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
HARVEST_DAY = date(2025, 10, 1)
CERTIFIED = date(2024, 6, 15)  # the product's certificate: valid through 2027-06-15
CHUNK = 10_000  # label rows per INSERT


# --- databases ---------------------------------------------------------------------------


# --- data ----------------------------------------------------------------------------------


class Genealogy:
    """The shape of the data, built in Python before any row is written: lots by level and
    the events that made them (inputs and outputs as lot ids)."""

    def __init__(self, rng: random.Random) -> None:
        self.levels: list[list[int]] = []
        self.area_of: dict[int, int] = {}  # harvest lot -> area
        self.events: list[tuple[int, list[int], list[int]]] = []  # (level, inputs, outputs)
        next_id = 1
        for level, size in enumerate(LEVELS):
            lots = list(range(next_id, next_id + size))
            next_id += size
            self.levels.append(lots)
            if level == 0:
                for i, lot in enumerate(lots):
                    self.area_of[lot] = i % AREAS + 1
                    self.events.append((0, [], [lot]))
                continue
            above = self.levels[level - 1]
            j = 0
            while j < size:
                packing = level == len(LEVELS) - 1
                made = rng.choice((2, 3, 4, 4, 5)) if packing else rng.choice((1, 1, 2, 3))
                made = min(made, size - j)
                taken = rng.choice((1, 1, 2)) if packing else rng.choice((1, 2, 2, 3))
                centre = (j + made / 2) * len(above) / size + rng.uniform(-1.5, 1.5)
                first = max(0, min(len(above) - taken, round(centre - taken / 2)))
                self.events.append((level, above[first : first + taken], lots[j : j + made]))
                j += made
        self._reach_every_packed_lot_from(AREA)

    def _reach_every_packed_lot_from(self, area: int) -> None:
        """Where an event takes nothing that area ``area`` fed, swap its last input for the
        nearest lot of the level above that it did feed (so the forward trace reaches all)."""
        fed = {lot for lot, a in self.area_of.items() if a == area}
        for level, inputs, outputs in self.events:
            if level == 0:
                continue
            if not fed.intersection(inputs):
                above = self.levels[level - 1]
                nearest = min(
                    (lot for lot in above if lot in fed and lot not in inputs),
                    key=lambda lot: abs(lot - inputs[-1]),
                )
                inputs[-1] = nearest
            fed.update(outputs)

    def parents(self) -> dict[int, list[int]]:
        parents: dict[int, list[int]] = {}
        for _, inputs, outputs in self.events:
            for child in outputs:
                parents.setdefault(child, []).extend(inputs)
        return parents

    def ancestors(self, lot: int) -> set[int]:
        parents, seen, todo = self.parents(), {lot}, [lot]
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def descendants_of_area(self, area: int) -> set[int]:
        found = {lot for lot, a in self.area_of.items() if a == area}
        for _, inputs, outputs in self.events:  # events are in level order
            if found.intersection(inputs):
                found.update(outputs)
        return found


def populate(engine: Engine, genealogy: Genealogy, rng: random.Random) -> dict[int, str]:
    """Bulk-insert the registry rows, the genealogy and the labels in one transaction (Core
    inserts). Returns one serial of each packed lot's run, by lot id."""
    search = {"search_key": ""}
    units = [
        {"id": 1, "code": "67", "name": "Tỉnh Đắk Nông", "level": "province", "parent_id": None},
        {"id": 2, "code": "663", "name": "Huyện Đắk Mil", "level": "district", "parent_id": 1},
        {"id": 3, "code": "24649", "name": "Thị trấn Đắk Mil", "level": "commune", "parent_id": 2},
    ]
    for unit in units:
        unit.update(search, valid_from=date(2004, 1, 1))
    producer = {
        "id": 1,
        "kind": "cooperative",
        "name": "HTX Nông nghiệp Đắk Mil",
        "registration_code": "6400000001",
        "address": "Thôn 1, thị trấn Đắk Mil",
        "commune_id": 3,
        "representative": "Nguyễn Văn A",
        "email": None,
        "created_at": CREATED,
        "updated_at": CREATED,
        **search,
    }
    product = {
        "id": 1,
        "producer_id": 1,
        "name_vi": "Cà phê bột Đắk Mil 250 g",
        "product_group": "beverages",
        "images": [],
        "standards": [],
        "created_at": CREATED,
        "updated_at": CREATED,
        **search,
    }
    areas = [
        {
            "id": a,
            "producer_id": 1,
            "name": f"Vùng cà phê {a}",
            "commune_id": 3,
            "area_ha": Decimal("12.5"),
            "crops": ["Cà phê vối"],
            "crops_key": "|ca phe voi|",
            "certifications": [],
            "geometry": None,
            "created_at": CREATED,
            "updated_at": CREATED,
            **search,
        }
        for a in range(1, AREAS + 1)
    ]

    packed = genealogy.levels[-1]
    per_packed = PIECES // len(packed)
    lots: dict[int, dict[str, Any]] = {}
    for level, ids in enumerate(genealogy.levels):
        for lot in ids:
            is_packed = level == len(LEVELS) - 1
            lots[lot] = {
                "id": lot,
                "code": f"DM-L{level}-{lot:05d}",
                "producer_id": 1,
                "product_id": 1 if is_packed else None,
                "material": "cà phê bột đóng gói" if is_packed else f"cà phê ({level})",
                "quantity": (
                    Decimal(per_packed) if is_packed else Decimal(rng.randrange(500, 5000))
                ),
                "unit": Unit.PIECE if is_packed else Unit.KG,
                "unit_weight_kg": PIECE_KG if is_packed else None,
                "created_at": CREATED,
            }
    uses: dict[int, int] = {}
    for _, inputs, _ in genealogy.events:
        for lot in inputs:
            uses[lot] = uses.get(lot, 0) + 1

    events, event_lots, links = [], [], []
    for event_id, (level, inputs, outputs) in enumerate(genealogy.events, start=1):
        when = datetime(2025, 10, 10, tzinfo=UTC) + timedelta(days=3 * level, minutes=event_id)
        harvest = level == 0
        events.append(
            {
                "id": event_id,
                "uri": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "kind": (
                    EventKind.HARVEST
                    if harvest
                    else EventKind.PACKING
                    if PROCESSES[level] == "packing"
                    else EventKind.TRANSFORMATION
                ),
                "process": PROCESSES[level],
                "event_time": when,
                "time_zone": "+07:00",
                "producer_id": 1,
                "area_id": genealogy.area_of[outputs[0]] if harvest else None,
                "location": None if harvest else "Xưởng HTX Đắk Mil",
                "harvest_start": HARVEST_DAY if harvest else None,
                "harvest_end": HARVEST_DAY + timedelta(days=5) if harvest else None,
                "details": {},
                "corrects_event_id": None,
                "reason": None,
                "recorded_by": None,
                "recorded_at": when,
            }
        )
        for lot in inputs:
            row = lots[lot]
            amount = (row["quantity"] / uses[lot]).quantize(Decimal("0.001"))
            event_lots.append(
                {
                    "event_id": event_id,
                    "lot_id": lot,
                    "role": services.INPUT,
                    "quantity": amount,
                    "unit": row["unit"],
                }
            )
        for lot in outputs:
            row = lots[lot]
            event_lots.append(
                {
                    "event_id": event_id,
                    "lot_id": lot,
                    "role": services.OUTPUT,
                    "quantity": row["quantity"],
                    "unit": row["unit"],
                }
            )
            links.extend(
                {"parent_lot_id": parent, "child_lot_id": lot, "event_id": event_id}
                for parent in inputs
            )

    certificate = {
        "id": 1,
        "number": "OCOP-67-0000001",
        "decision_number": "1234/QĐ-UBND",
        "decision_date": CERTIFIED,
        "issuing_unit_id": 1,
        "issuing_authority": "UBND tỉnh Đắk Nông",
        "product_id": 1,
        "product_name": product["name_vi"],
        "evaluation_id": None,
        "star": 4,
        "issue_date": CERTIFIED,
        "valid_until": valid_until(CERTIFIED),
        "revoked_on": None,
        "revocation_decision": None,
        "revocation_reason": None,
        "superseded_by_id": None,
        "superseded_on": None,
        "created_at": CREATED,
    }
    packing_event = {
        lot: event_id
        for event_id, (level, _, outputs) in enumerate(genealogy.events, start=1)
        if level == len(LEVELS) - 1
        for lot in outputs
    }
    runs, labels, sample = [], [], {}
    issued = iter(serials.new_serials(PIECES))  # distinct among all 100,000
    for run_id, lot in enumerate(packed, start=1):
        runs.append(
            {
                "id": run_id,
                "producer_id": 1,
                "product_id": 1,
                "lot_id": lot,
                "packing_event_id": packing_event[lot],
                "certificate_id": 1,
                "star": certificate["star"],
                "valid_until": certificate["valid_until"],
                "gtin": None,
                "lot_code": lots[lot]["code"],
                "quantity": per_packed,
                "kid": "bench-key-1",  # 11 base64url characters
                "base_url": "HTTPS://TEM.OCOP.EXAMPLE.VN",
                "payload_version": 1,
                "qr_version": 8,
                "scratch": False,
                "idempotency_key": None,
                "request_digest": f"{rng.getrandbits(256):064x}",
                "status": RunStatus.READY,
                "labels_drawn": per_packed,
                "pages": -(-per_packed // 18),
                "error": None,
                "lease_until": None,
                "files": {},
                "created_by": None,
                "created_at": CREATED,
                "built_at": CREATED,
            }
        )
        for seq in range(1, per_packed + 1):
            serial = next(issued)
            labels.append(
                {
                    "run_id": run_id,
                    "seq": seq,
                    "serial": serial,
                    "signature": rng.randbytes(64),  # random: no signing in the benchmark
                    "scratch_hash": None,
                }
            )
            if seq == per_packed // 2:
                sample[lot] = serial

    with engine.begin() as connection:
        connection.execute(insert(AdministrativeUnit.__table__), units)
        connection.execute(insert(Producer.__table__), [producer])
        connection.execute(insert(Product.__table__), [product])
        connection.execute(insert(RawMaterialArea.__table__), areas)
        connection.execute(insert(Lot.__table__), list(lots.values()))
        connection.execute(insert(TraceEvent.__table__), events)
        connection.execute(insert(EventLot.__table__), event_lots)
        connection.execute(insert(LotLink.__table__), links)
        connection.execute(insert(Certificate.__table__), [certificate])
        connection.execute(insert(PrintRun.__table__), runs)
        for start in range(0, len(labels), CHUNK):
            connection.execute(insert(Label.__table__), labels[start : start + CHUNK])
    return sample


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__tablename__: len(connection.execute(select(model.id)).all())
            for model in (Lot, TraceEvent, EventLot, LotLink, PrintRun, Label)
        }


# --- the measured steps --------------------------------------------------------------------


def reference(engine: Engine, lot_id: int) -> Lot:
    with Session(engine) as session:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        return lot


def label_lookup(engine: Engine, serial: str) -> Label:
    with Session(engine) as session:
        return session.scalars(select(Label).where(Label.serial == serial)).one()


def backward(engine: Engine, lot_id: int) -> services.Trace:
    with Session(engine) as session:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        return services.backward_trace(session, lot)


def forward(engine: Engine, area_id: int) -> services.Trace:
    with Session(engine) as session:
        return services.area_trace(session, area_id)


def explain(engine: Engine, lot_id: int, area_id: int, serial: str) -> None:
    """Print the plans of the statements the traces run (the lots, events and print runs
    queries carry the recursive CTE; the others are small IN lists) and of the label lookup."""
    dialect = engine.dialect.name
    prefix = "EXPLAIN (ANALYZE, BUFFERS)" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    statements: dict[str, Any] = {"label lookup": select(Label).where(Label.serial == serial)}
    for name, lot_ids in (
        ("backward", services.ancestors(lot_id)),
        ("forward", services.lots_from_area(area_id)),
    ):
        statements[f"{name} lots"] = select(Lot).where(Lot.id.in_(lot_ids)).order_by(Lot.id)
        statements[f"{name} events"] = (
            select(TraceEvent)
            .where(TraceEvent.id.in_(select(EventLot.event_id).where(EventLot.lot_id.in_(lot_ids))))
            .order_by(TraceEvent.event_time, TraceEvent.id)
        )
        statements[f"{name} print runs"] = (
            select(PrintRun).where(PrintRun.lot_id.in_(lot_ids)).order_by(PrintRun.id)
        )
    with engine.connect() as connection:
        for name, stmt in statements.items():
            compiled = stmt.compile(dialect=engine.dialect)  # bound, with the casts it runs
            params: Any = compiled.params
            if engine.dialect.positional:
                params = tuple(params[key] for key in compiled.positiontup or ())
            log(f"--- {dialect}: {name}")
            for row in connection.exec_driver_sql(f"{prefix} {compiled}", params):
                log("  " + " | ".join(str(cell) for cell in row))


def measure(
    backend: str, genealogy: Genealogy, repeat: int, tmp_dir: Path, show_plans: bool
) -> dict[str, Any]:
    bottom = max(genealogy.levels[-1], key=lambda lot: (len(genealogy.ancestors(lot)), -lot))
    with fresh_database(backend, tmp_dir) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            load_s, sample = timed(lambda: populate(engine, genealogy, random.Random(7)))
            serial = sample[bottom]
            settle(engine)
            rows = counts(engine)
            # Warm-up (statement compilation, caches, the pool's connection), untimed.
            reference(engine, bottom)
            label = label_lookup(engine, serial)
            back = backward(engine, bottom)
            ahead = forward(engine, AREA)
            references, lookups, backwards, forwards = [], [], [], []
            for _ in range(repeat):
                references.append(timed(lambda: reference(engine, bottom))[0])
                lookups.append(timed(lambda: label_lookup(engine, serial))[0])
                backwards.append(timed(lambda: backward(engine, bottom))[0])
                forwards.append(timed(lambda: forward(engine, AREA))[0])
            if show_plans:
                explain(engine, bottom, AREA, serial)
        finally:
            engine.dispose()

    expected_back = genealogy.ancestors(bottom)
    expected_ahead = genealogy.descendants_of_area(AREA)
    if {lot.id for lot in back.lots} != expected_back:
        raise RuntimeError("backward trace returned other lots than the genealogy holds")
    if {lot.id for lot in ahead.lots} != expected_ahead:
        raise RuntimeError("forward trace returned other lots than the genealogy holds")
    packed = [lot for lot in ahead.lots if lot.unit is Unit.PIECE]
    per_run = PIECES // len(genealogy.levels[-1])
    # The print runs and labels a trace carries are what labels adds to it (trace/hooks.py).
    back_runs, ahead_runs = back.parts["print_runs"], ahead.parts["print_runs"]
    if [run.lot_id for run in back_runs] != [bottom] or back.parts["labels"] != per_run:
        raise RuntimeError("backward trace did not report the packed lot's one print run")
    if label.serial != serial or label.run_id != back_runs[0].id:
        raise RuntimeError("the label lookup found another label than the one looked up")
    if len(ahead_runs) != len(genealogy.levels[-1]) or ahead.parts["labels"] != PIECES:
        raise RuntimeError(
            f"forward trace reported {len(ahead_runs)} print runs and {ahead.parts['labels']} "
            f"labels, not {len(genealogy.levels[-1])} and {PIECES}"
        )
    return {
        "lots": rows["lots"],
        "events": rows["trace_events"],
        "links": rows["lot_links"],
        "print_runs": rows["print_runs"],
        "labels": rows["labels"],
        "load_s": load_s,
        "reference_s": statistics.median(references),
        "label_lookup_s": statistics.median(lookups),
        "backward_s": statistics.median(backwards),
        "backward_min_s": min(backwards),
        "backward_max_s": max(backwards),
        "forward_s": statistics.median(forwards),
        "forward_min_s": min(forwards),
        "forward_max_s": max(forwards),
        "backward_lots": len(back.lots),
        "backward_events": len(back.events),
        "backward_areas": len(back.areas),
        "backward_print_runs": len(back_runs),
        "backward_labels": back.parts["labels"],
        "forward_lots": len(ahead.lots),
        "forward_events": len(ahead.events),
        "forward_packed_lots": len(packed),
        "forward_pieces": int(sum(lot.quantity for lot in packed)),
        "forward_print_runs": len(ahead_runs),
        "forward_labels": ahead.parts["labels"],
    }


# --- reporting -----------------------------------------------------------------------------


def print_table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    columns = (
        ("backend", None),
        ("lots", "lots"),
        ("reference s", "reference_s"),
        ("label s", "label_lookup_s"),
        ("backward s", "backward_s"),
        ("ratio", "backward_ratio"),
        ("b. lots", "backward_lots"),
        ("b. events", "backward_events"),
        ("forward s", "forward_s"),
        ("ratio", "forward_ratio"),
        ("f. lots", "forward_lots"),
        ("f. events", "forward_events"),
        ("pieces", "forward_pieces"),
        ("f. runs", "forward_print_runs"),
        ("f. labels", "forward_labels"),
        ("load s", "load_s"),
    )
    common.print_table(columns, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--explain", action="store_true", help="print query plans to stderr")
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get(POSTGRES_ENV):
        log(
            f"skipping PostgreSQL: set {POSTGRES_ENV}, "
            "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        backends.remove("postgresql")

    genealogy = Genealogy(random.Random(42))
    result: dict[str, Any] = {}
    rows: list[tuple[str, dict[str, Any]]] = []
    backward_ok = forward_ok = bool(backends)
    with tempfile.TemporaryDirectory(prefix="ocop-bench-") as tmp:
        for backend in backends:
            log(f"{backend}: {sum(LEVELS)} lots in {len(LEVELS)} levels, {args.repeat} reps …")
            f = measure(backend, genealogy, args.repeat, Path(tmp), args.explain)
            f["backward_ratio"] = f["backward_s"] / f["reference_s"]
            f["forward_ratio"] = f["forward_s"] / f["reference_s"]
            rows.append((backend, f))
            backward_ok = backward_ok and f["backward_s"] <= BACKWARD_BAR_S
            forward_ok = forward_ok and f["forward_s"] <= FORWARD_BAR_S
            result.update(
                {
                    f"{backend}_lots": f["lots"],
                    f"{backend}_events": f["events"],
                    f"{backend}_links": f["links"],
                    f"{backend}_print_runs": f["print_runs"],
                    f"{backend}_labels": f["labels"],
                    f"{backend}_reference_ms": round(f["reference_s"] * 1000, 3),
                    f"{backend}_label_lookup_ms": round(f["label_lookup_s"] * 1000, 3),
                    f"{backend}_backward_ms": round(f["backward_s"] * 1000, 2),
                    f"{backend}_backward_ratio": round(f["backward_ratio"], 1),
                    f"{backend}_backward_lots": f["backward_lots"],
                    f"{backend}_backward_events": f["backward_events"],
                    f"{backend}_backward_areas": f["backward_areas"],
                    f"{backend}_backward_print_runs": f["backward_print_runs"],
                    f"{backend}_backward_labels": f["backward_labels"],
                    f"{backend}_forward_ms": round(f["forward_s"] * 1000, 2),
                    f"{backend}_forward_ratio": round(f["forward_ratio"], 1),
                    f"{backend}_forward_lots": f["forward_lots"],
                    f"{backend}_forward_events": f["forward_events"],
                    f"{backend}_forward_packed_lots": f["forward_packed_lots"],
                    f"{backend}_forward_pieces": f["forward_pieces"],
                    f"{backend}_forward_print_runs": f["forward_print_runs"],
                    f"{backend}_forward_labels": f["forward_labels"],
                }
            )
    if not backends:
        log("no backend to measure")
    print_table(rows)
    result["backward_within_50_ms"] = backward_ok
    result["forward_within_2_s"] = forward_ok
    if "postgresql" not in backends and args.backend != "sqlite":
        result["postgresql_skipped"] = True
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
