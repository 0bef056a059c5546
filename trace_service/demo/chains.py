"""The demo's traceability chains (``chains.toml``), recorded step by step through the trace
services, as the producer (or the inspector) would, with their rules and audit events.

The chains are those of the last crop year (1 July to 30 June) over by the day of loading;
the data gives each step's month, day and time, and the crop year gives the year."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from trace_service.clock import VIETNAM
from trace_service.demo.files import read_toml
from trace_service.demo.registry import Registry
from trace_service.principal import Principal
from trace_service.registry.models import Product
from trace_service.trace.models import Lot, TraceEvent
from trace_service.trace.rules import EventKind
from trace_service.trace.services import (
    recall_lot,
    record_correction,
    record_harvest,
    record_observation,
    record_packing,
    record_transformation,
)
from trace_service.trace.units import Unit

Progress = Callable[[str, int, int], None]
Step = dict[str, Any]
OBSERVATIONS = {EventKind.INSPECTION, EventKind.SHIPPING, EventKind.RECEIVING, EventKind.SAMPLING}


def crop_year(day: date) -> int:
    """The first year of the last crop year (1 July – 30 June) over by ``day``."""
    return day.year - 1 if day >= date(day.year, 7, 1) else day.year - 2


def moment(text: str, first_year: int) -> datetime:
    """ "11-22 17:30" in the crop year that starts in ``first_year`` (Vietnam time)."""
    on = day_of(text[:5], first_year)
    hour, minute = (int(part) for part in text[6:].split(":"))
    return datetime(on.year, on.month, on.day, hour, minute, tzinfo=VIETNAM)


def day_of(text: str, first_year: int) -> date:
    """ "11-22": July–December in ``first_year``, January–June in the year after."""
    month, day = (int(part) for part in text.split("-"))
    return date(first_year if month >= 7 else first_year + 1, month, day)


@dataclass
class Chain:
    """One chain being recorded: its product, the lots made so far by their short codes
    ("TH-01") and the steps that carry an ``id``."""

    session: Session
    actor: Principal
    registry: Registry
    product: Product
    prefix: str  # "DM-2025"
    first_year: int
    lots: dict[str, Lot] = field(default_factory=dict)
    events: dict[str, TraceEvent] = field(default_factory=dict)

    def at(self, step: Step) -> datetime:
        return moment(step["at"], self.first_year)

    def text(self, value: Any, step: Step) -> Any:
        """``value`` with "{year}" in its texts replaced by the year of ``step``."""
        if isinstance(value, dict):
            return {key: self.text(item, step) for key, item in value.items()}
        if isinstance(value, str):
            return value.replace("{year}", str(self.at(step).year))
        return value

    def inputs(self, step: Step) -> list[dict[str, Any]]:
        """A lot's short code takes all of it; [code, quantity] takes part."""
        wanted = [item if isinstance(item, list) else [item, None] for item in step["inputs"]]
        return [
            {"lot_id": self.lots[code].id, "quantity": _amount(amount, self.lots[code])}
            for code, amount in wanted
        ]

    def output(self, step: Step, unit: Unit) -> dict[str, Any]:
        return {
            "code": f"{self.prefix}-{step['lot']}",
            "material": step["material"],
            "quantity": Decimal(str(step["quantity"])),
            "unit": unit,
        }

    def made(self, step: Step, event: TraceEvent) -> None:
        """Keep the lot a step made, and the step if it has an ``id``."""
        if step["step"] in ("harvest", "transformation", "packing"):
            self.lots[step["lot"]] = next(x.lot for x in event.lots if x.role == "output")
        if "id" in step:
            self.events[step["id"]] = event


def _amount(amount: float | None, lot: Lot) -> Decimal:
    return lot.quantity if amount is None else Decimal(str(amount))


def record_chains(
    session: Session,
    actor: Principal,
    registry: Registry,
    today: date,
    progress: Progress | None,
) -> None:
    chains: list[dict[str, Any]] = read_toml("chains.toml")["chain"]
    first_year = crop_year(today)
    for done, data in enumerate(chains, start=1):
        first = moment(data["step"][0]["at"], first_year)
        chain = Chain(
            session,
            actor,
            registry,
            registry.products[data["product"]],
            prefix=f"{data['prefix']}-{first.year}",
            first_year=first_year,
        )
        for step in data["step"]:
            event = _record(chain, step)
            if event is not None:
                chain.made(step, event)
        if progress:
            progress("traceability", done, len(chains))


def _record(chain: Chain, step: Step) -> TraceEvent | None:
    kind = step["step"]
    if kind in OBSERVATIONS:
        return _observe(chain, step)
    recorders: dict[str, Callable[[Chain, Step], TraceEvent | None]] = {
        "harvest": _harvest,
        "transformation": _transform,
        "packing": _pack,
        "correction": _correct,
        "recall": _recall,
    }
    return recorders[kind](chain, step)


def _harvest(chain: Chain, step: Step) -> TraceEvent:
    area = chain.registry.areas[(chain.product.producer.name, step["area"])]
    start, end = (day_of(text, chain.first_year) for text in step["picked"])
    data = {
        "area_id": area.id,
        "harvest_start": start,
        "harvest_end": end,
        "event_time": chain.at(step),
        "details": chain.text(step.get("details", {}), step),
        "lot": chain.output(step, Unit(step["unit"])),
    }
    return record_harvest(chain.session, chain.actor, data)


def _transform(chain: Chain, step: Step) -> TraceEvent:
    data = {
        "process": step["process"],
        "event_time": chain.at(step),
        "location": step["location"],
        "details": chain.text(step.get("details", {}), step),
        "inputs": chain.inputs(step),
        "outputs": [chain.output(step, Unit.KG)],
    }
    return record_transformation(chain.session, chain.actor, data)


def _pack(chain: Chain, step: Step) -> TraceEvent:
    packed = chain.output(step, Unit.PIECE)
    packed["unit_weight_kg"] = Decimal(str(step["unit_weight_kg"]))
    packed["product_id"] = chain.product.id
    data = {
        "event_time": chain.at(step),
        "location": step["location"],
        "inputs": chain.inputs(step),
        "outputs": [packed],
    }
    return record_packing(chain.session, chain.actor, data)


def _observe(chain: Chain, step: Step) -> TraceEvent:
    quantity = step.get("quantity")
    data = {
        "kind": EventKind(step["step"]),
        "event_time": chain.at(step),
        "location": step["location"],
        "details": chain.text(step.get("details", {}), step),
        "lots": [
            {
                "lot_id": chain.lots[step["lot"]].id,
                "quantity": None if quantity is None else Decimal(str(quantity)),
            }
        ],
    }
    return record_observation(chain.session, chain.actor, data)


def _correct(chain: Chain, step: Step) -> TraceEvent:
    data = {
        "corrects_event_id": chain.events[step["corrects"]].id,
        "event_time": chain.at(step),
        "reason": chain.text(step["reason"], step),
    }
    return record_correction(chain.session, chain.actor, data)


def _recall(chain: Chain, step: Step) -> None:
    data = {
        "recalled_at": chain.at(step),
        "decision": step["decision"],
        "reason": chain.text(step["reason"], step),
    }
    recall_lot(chain.session, chain.actor, chain.lots[step["lot"]], data)
