"""What a label page shows of a genuine stamp's product: producer, certificate, packing and
the chain from each raw-material area through processing to packing (no quantities: volumes
are the producer's business). The same for every label of a run: composed once per run and
day (``RunFacts``) and kept by each worker (labels/page_cache.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from trace_service.certificates.rules import Status
from trace_service.certificates.standing import status_of
from trace_service.clock import today_vn
from trace_service.labels import serials
from trace_service.labels.models import PrintRun, print_runs_on
from trace_service.registry.models import RawMaterialArea
from trace_service.registry.photos import PhotoRef, photo_ref
from trace_service.registry.units import Address, address_on, current_unit
from trace_service.trace.models import TraceEvent
from trace_service.trace.rules import PACKING, PROCESSES, EventKind

if TYPE_CHECKING:  # page_check composes these facts: no import at run time
    from trace_service.labels.page_check import PageLabel
from trace_service.trace.services import Trace, backward_trace

# A passed check of one stamp vouches for its lot, not for the item in the shopper's hand.
CHECKED = ("Lô hàng đã được kiểm tra tại điểm bán", "This lot was checked by a market inspector")
PROCESSING = ("Chế biến", "Processing")


@dataclass(frozen=True)
class Step:
    kind: str  # area | process | packing | inspection
    day: date
    name: tuple[str, str]  # (vi, en)
    place: str | None = None  # the commune, for an area
    hectares: Decimal | None = None
    map_url: str | None = None  # a plain link to the coordinates on a map site


def _centre(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """A point to link to: the Point itself, or the mean of a polygon's outer ring."""
    if not geometry:
        return None
    coordinates = geometry.get("coordinates")
    kind = geometry.get("type")
    try:
        if kind == "Point":
            return float(coordinates[1]), float(coordinates[0])  # type: ignore[index]
        ring = coordinates[0] if kind == "Polygon" else coordinates[0][0]  # type: ignore[index]
        points = ring[:-1] or ring
        return (
            sum(float(p[1]) for p in points) / len(points),
            sum(float(p[0]) for p in points) / len(points),
        )
    except (TypeError, IndexError, ValueError, ZeroDivisionError):
        return None


def map_link(geometry: dict[str, Any] | None) -> str | None:
    centre = _centre(geometry)
    if centre is None:
        return None
    lat, lon = centre
    query = urlencode({"mlat": f"{lat:.5f}", "mlon": f"{lon:.5f}"})
    return f"https://www.openstreetmap.org/?{query}#map=15/{lat:.5f}/{lon:.5f}"


def _day(event: TraceEvent) -> date:
    return today_vn(event.event_time)


def commune_of(area: RawMaterialArea, today: date) -> str | None:
    """An area's commune as the public pages name it, as it is today (the facts are composed
    per day): one merged away on 1 Jul 2025 is named by the commune that took its place."""
    return current_unit(area.commune, today).name if area.commune else None


def _area_step(event: TraceEvent, area: RawMaterialArea, today: date) -> Step:
    return Step(
        "area",
        event.harvest_end or _day(event),
        (area.name, area.name),
        place=commune_of(area, today),
        hectares=area.area_ha,
        map_url=map_link(area.geometry),
    )


def chain_of(trace: Trace, lot_id: int, today: date, since: datetime) -> list[Step]:
    """The lot's history in order: harvests at each area, processing steps, packing, and
    when the lot's stamps were checked in the field from ``since`` (the run's making) on."""
    areas = {area.id: area for area in trace.areas}
    corrected = {e.corrects_event_id for e in trace.events if e.corrects_event_id}
    steps: list[Step] = []
    for event in trace.events:
        if event.id in corrected or event.kind == EventKind.CORRECTION:
            continue
        if event.kind == EventKind.HARVEST and event.area_id in areas:
            steps.append(_area_step(event, areas[event.area_id], today))
        elif event.kind == EventKind.TRANSFORMATION:
            name = PROCESSES.get(event.process or "", PROCESSING)
            steps.append(Step("process", _day(event), name))
        elif event.kind == EventKind.PACKING:
            steps.append(Step("packing", _day(event), PACKING))
    steps += _passed_inspections(trace, lot_id, since)
    return steps


def _passed_inspections(trace: Trace, lot_id: int, since: datetime) -> list[Step]:
    """Field inspections of this lot's stamps that passed (the inspectors' layer adds them
    to every trace): the public chain says when, never what the inspector wrote. A failed or
    doubtful check is not shown as "checked" (it would read as reassurance); the office's
    decision on it (a revocation, a recall) is what the page shows. Only checks from
    ``since`` on: one before a run was printed was of another run's stamps, and a new
    stamp's page would say it was checked before it existed."""
    steps = []
    for inspection in trace.parts.get("inspections", ()):
        if inspection["lot_id"] != lot_id or inspection["result"] != "passed":
            continue
        try:
            checked_at = datetime.fromisoformat(inspection["checked_at"])
            day = today_vn(checked_at)
        except (OverflowError, ValueError):  # recorded before times were range-checked
            continue
        if checked_at.tzinfo is not None and checked_at >= since:
            steps.append(Step("inspection", day, CHECKED))
    return steps


def packed_on(run: PrintRun) -> date | None:
    event = run.packing_event
    return _day(event) if event is not None else None


@dataclass(frozen=True)
class CertificateFacts:
    """The certificate as the page shows it (a copy: cached facts hold no database rows)."""

    number: str
    issuing_authority: str
    decision_number: str
    decision_date: date
    issue_date: date
    valid_until: date
    revoked_on: date | None
    superseded_on: date | None


@dataclass(frozen=True)
class RecallFacts:
    reason: str
    decision: str | None
    recalled_at: datetime


@dataclass(frozen=True)
class RunFacts:
    """What every label of a run shows on a given day, whatever happened to the stamp itself:
    composed once per run, day and page version (labels/page_cache.py)."""

    product: str  # the certified (Vietnamese) name
    product_en: str | None  # the product's English name, if the producer gave one
    producer: str
    address: Address  # as it reads on the facts' day, with the recorded one if merged away
    phone: str | None
    star: int
    lot: str
    certificate: CertificateFacts
    certificate_status: Status  # on the day the facts were composed for
    packed_on: date | None
    chain: tuple[Step, ...]
    recalls: tuple[RecallFacts, ...]  # of the lot or of anything it was made from
    photo: PhotoRef | None  # the product's photo, if the producer or the office gave one
    # The run's card as drawn, by language (labels/public.py): made with the facts, so it
    # goes with them when the page version or the day changes.
    drawn: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def recalled_since(self) -> date | None:
        # The day in Vietnam: a recall at 00:00 +07:00 is stored as 17:00 UTC the day before.
        return min((today_vn(r.recalled_at) for r in self.recalls), default=None)


def run_facts(session: Session, run: PrintRun, today: date, window_days: int) -> RunFacts:
    """Compose the run's facts from the records (the cold path: a trace and a few rows)."""
    certificate, producer = run.certificate, run.producer
    # The print runs on the lot grow with every order, and a page shows none of them.
    trace = backward_trace(session, run.lot, skip_parts=(print_runs_on,))
    return RunFacts(
        product=certificate.product_name,
        product_en=run.product.name_en or None,
        producer=producer.name,
        address=address_on(producer.address, producer.commune, today),
        phone=producer.phone,
        star=run.star,
        lot=run.lot_code,
        certificate=CertificateFacts(
            certificate.number,
            certificate.issuing_authority,
            certificate.decision_number,
            certificate.decision_date,
            certificate.issue_date,
            certificate.valid_until,
            certificate.revoked_on,
            certificate.superseded_on,
        ),
        certificate_status=status_of(certificate, today, window_days),
        packed_on=packed_on(run),
        chain=tuple(chain_of(trace, run.lot_id, today, run.created_at)),
        recalls=tuple(
            RecallFacts(r.reason, r.decision, r.recalled_at)
            for r in sorted(trace.recalls, key=lambda r: (r.recalled_at, r.id))
        ),
        photo=photo_ref(session, run.product_id),
    )


def page_facts(facts: RunFacts | None, label: PageLabel | None) -> dict[str, Any]:
    """Everything the page shows below the verdict; empty when the stamp is not ours."""
    if facts is None or label is None:
        return {}
    shown = {f.name: getattr(facts, f.name) for f in fields(facts) if f.name != "drawn"}
    return shown | {"code": serials.grouped(label.serial)}
