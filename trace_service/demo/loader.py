"""Load a realistic Đắk Nông demo data set into an empty registry.

``load_demo`` seeds the administrative units, then adds about 80 producers, 100 products with
their e-commerce listings, raw-material areas, demo user accounts, OCOP evaluations and
certificates, traceability chains from plot to packed product for five certified products, and
one audit event. Every choice comes from ``random.Random(seed)`` (the certificates and the
chains from further streams seeded with the seed and ``today``), so two loads with the same
seed (and day) hold the same data; only the passwords (drawn from ``secrets``) and the trace
events' UUID URIs differ. Records dated before 1 Jul 2025 point at the pre-merger communes of
Đắk Nông, later ones at the Lâm Đồng communes that succeeded them.

Registry rows go in through the ORM models directly (no per-row audit events); evaluations,
certificates, lots and trace events go through the certificate and trace services, with their
rules and audit events. The session is only flushed: the caller commits.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.auth.models import User
from trace_service.auth.principal import Principal, Role, system_principal
from trace_service.auth.services import create_user, update_user
from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import (
    CERTIFIED_MIN_STAR,
    MAX_A,
    MAX_B,
    MAX_C,
    CouncilLevel,
    add_months,
    valid_until,
)
from trace_service.certificates.services import (
    issue_certificate,
    record_evaluation,
    revoke_certificate,
)
from trace_service.clock import VIETNAM, today_vn
from trace_service.demo import catalogue as cat
from trace_service.registry.enums import CertificationScheme, Platform, ProducerKind, UnitLevel
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)
from trace_service.registry.units import seed_units
from trace_service.registry.units_data import MERGER_DATE
from trace_service.registry.validators import gtin_check_digit
from trace_service.text import fold
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
T = TypeVar("T")

# Midnight of 1 Jul 2025 in Vietnam (UTC+7): records from then on use the new communes.
MERGER_AT = datetime(MERGER_DATE.year, MERGER_DATE.month, MERGER_DATE.day, tzinfo=UTC) - timedelta(
    hours=7
)
FIRST_AT = datetime(2019, 3, 1, tzinfo=UTC)
LAST_AT = datetime(2026, 10, 31, tzinfo=UTC)
LAT_RANGE = (11.75, 12.85)
LON_RANGE = (107.20, 108.10)
METRES_PER_DEGREE = 111_320.0

PRODUCTS_TOTAL = 100
KIND_SHARES = ((ProducerKind.COOPERATIVE, 0.34), (ProducerKind.ENTERPRISE, 0.28))
NEW_PRODUCERS = 8  # registered after the merger, in "ld.*" communes
MOVED_PRODUCERS = 3  # registered before, address updated to a new commune since
LISTED_SHARE = 0.74
SMALL_SPECIALTIES = frozenset({"herbal", "handicrafts", "tourism", "ornamental"})
TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
MOBILE_PREFIXES = (
    "090",
    "091",
    "094",
    "096",
    "097",
    "098",
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
)


@dataclass
class DemoReport:
    units: int
    producers: int
    products: int
    areas: int
    users: list[tuple[str, str, str]]  # (username, role, password)
    evaluations: int = 0
    certificates: int = 0
    lots: int = 0
    trace_events: int = 0


@dataclass
class _Places:
    """The seeded pre-merger communes, arranged for picking by district key."""

    communes: dict[str, list[AdministrativeUnit]]  # district key -> pre-merger communes


@dataclass
class _Plan:
    specialty: cat.Specialty
    kind: ProducerKind
    district_key: str
    old_commune: AdministrativeUnit
    created_at: datetime
    new: bool = False
    moved: bool = False


@dataclass
class _Made:
    producer: Producer
    plan: _Plan
    brand: str
    abbreviation: str  # for own standards: "HTXDM", "CNX", "HKDNVH"
    gtin_prefix: str | None = None
    next_item: int = 0
    shops: dict[Platform, int] = field(default_factory=dict)  # shop id on each platform


def load_demo(
    session: Session,
    *,
    seed: int = 2025,
    progress: Progress | None = None,
    today: date | None = None,
) -> DemoReport:
    """Fill an empty registry with demo data; do nothing if any producer exists.

    ``units`` in the report counts the administrative units this call created (0 when they
    were already there). OCOP certificates (issued 2021–2025) are arranged around ``today``
    (default: today in Vietnam) so that on that day some are valid, some expiring within 90
    days, some expired, one revoked and some superseded by a re-evaluation. The traceability
    chains are those of the last coffee season over by ``today`` (harvest Nov–Dec, packing and
    shipping until May of the next year): see ``_make_chains``.
    """
    today = today or today_vn()
    actor = system_principal("demo")
    before = session.scalar(select(func.count()).select_from(AdministrativeUnit)) or 0
    units = seed_units(session, actor)
    created_units = session.scalar(select(func.count()).select_from(AdministrativeUnit)) or 0
    created_units -= before
    if session.scalar(select(Producer.id).limit(1)) is not None:
        return DemoReport(units=created_units, producers=0, products=0, areas=0, users=[])

    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    places = _arrange(units)
    made = _make_producers(session, rng, places, _plan_producers(rng, places), progress)
    products, listings = _make_products(session, rng, made, progress)
    areas = _make_areas(session, rng, places, made, progress)
    session.flush()
    users = _make_users(session, actor, made, progress)
    # A separate stream, so the certificates never change the producers and products of a seed.
    cert_rng = random.Random(f"{seed}/certificates/{today.isoformat()}")  # noqa: S311
    evaluations, certificates = _make_certificates(
        session, actor, cert_rng, units, made, today, progress
    )
    trace_rng = random.Random(f"{seed}/trace/{today.isoformat()}")  # noqa: S311
    areas += _make_chains(session, actor, trace_rng, made, today, progress)
    lots = session.scalar(select(func.count()).select_from(Lot)) or 0
    trace_events = session.scalar(select(func.count()).select_from(TraceEvent)) or 0
    record_event(
        session,
        actor,
        Tag.DEMO_LOADED,
        "demo",
        None,
        {
            "seed": seed,
            "units": created_units,
            "producers": len(made),
            "products": products,
            "listings": listings,
            "areas": areas,
            "users": [u[0] for u in users],
            "today": today,
            "evaluations": evaluations,
            "certificates": certificates,
            "lots": lots,
            "trace_events": trace_events,
        },
    )
    session.flush()
    return DemoReport(
        units=created_units,
        producers=len(made),
        products=products,
        areas=areas,
        users=users,
        evaluations=evaluations,
        certificates=certificates,
        lots=lots,
        trace_events=trace_events,
    )


# -- places -----------------------------------------------------------------------------------


def _arrange(units: dict[str, AdministrativeUnit]) -> _Places:
    places = _Places(communes={})
    for key, unit in units.items():
        parts = key.split(".")
        if parts[0] == "dn" and len(parts) == 3:
            places.communes.setdefault(".".join(parts[:2]), []).append(unit)
    return places


def _short(name: str) -> str:
    for prefix in cat.UNIT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _current(unit: AdministrativeUnit, at: datetime) -> AdministrativeUnit:
    """The commune a record made at ``at`` names: the old one before the merger."""
    if at >= MERGER_AT and unit.successor is not None:
        return unit.successor
    return unit


def _address(
    rng: random.Random,
    old: AdministrativeUnit,
    unit: AdministrativeUnit,
    ethnic: bool,
    on_highway: bool,
) -> str:
    if unit.name.startswith(cat.URBAN_PREFIXES):
        if rng.random() < 0.5:
            street = f"Số {rng.randint(2, 480)} đường {rng.choice(cat.STREETS)}"
        else:
            street = rng.choice(cat.URBAN_QUARTERS)
    elif on_highway:
        street = f"Km {rng.randint(3, 60)}, {rng.choice(cat.HIGHWAYS)}, {rng.choice(cat.HAMLETS)}"
    else:
        street = rng.choice(cat.ETHNIC_HAMLETS if ethnic else cat.HAMLETS)
    if unit is old and old.parent is not None:
        return f"{street}, {unit.name}, {old.parent.name}, Tỉnh Đắk Nông"
    return f"{street}, {unit.name}, Tỉnh Lâm Đồng"


def _spot(rng: random.Random, unit: AdministrativeUnit, margin: float) -> tuple[float, float]:
    """A (lat, lon) near the commune centre (or its district's), kept inside the province."""
    district = unit.parent
    lat = unit.lat if unit.lat is not None or district is None else district.lat
    lon = unit.lon if unit.lon is not None or district is None else district.lon
    lat = (lat if lat is not None else 12.3) + rng.uniform(-0.02, 0.02)
    lon = (lon if lon is not None else 107.7) + rng.uniform(-0.02, 0.02)
    lat = min(max(lat, LAT_RANGE[0] + margin), LAT_RANGE[1] - margin)
    lon = min(max(lon, LON_RANGE[0] + margin), LON_RANGE[1] - margin)
    return lat, lon


# -- producers --------------------------------------------------------------------------------


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(int((end - start).total_seconds()), 1)
    return start + timedelta(seconds=rng.randrange(span))


def _plan_producers(rng: random.Random, places: _Places) -> list[_Plan]:
    specialties = [s for s in cat.SPECIALTIES for _ in range(s.producers)]
    total = len(specialties)
    kinds: list[ProducerKind] = []
    for kind, share in KIND_SHARES:
        kinds += [kind] * round(total * share)
    kinds += [ProducerKind.HOUSEHOLD] * (total - len(kinds))
    rng.shuffle(kinds)
    plans = []
    for specialty, kind in zip(specialties, kinds, strict=True):
        district_key = rng.choice(specialty.districts)
        plans.append(
            _Plan(
                specialty=specialty,
                kind=kind,
                district_key=district_key,
                old_commune=rng.choice(places.communes[district_key]),
                created_at=_between(rng, FIRST_AT, MERGER_AT - timedelta(days=10)),
            )
        )
    for plan in rng.sample(plans, NEW_PRODUCERS + MOVED_PRODUCERS)[:NEW_PRODUCERS]:
        plan.new = True
        plan.created_at = _between(rng, MERGER_AT + timedelta(days=14), LAST_AT)
    old_plans = [p for p in plans if not p.new]
    for plan in rng.sample(old_plans, MOVED_PRODUCERS):
        plan.moved = True
    plans.sort(key=lambda p: p.created_at)
    return plans


def _pick_unused(rng: random.Random, pool: Sequence[T], used: set[T]) -> T | None:
    free = [x for x in pool if x not in used]
    if not free:
        return None
    choice = rng.choice(free)
    used.add(choice)
    return choice


def _person(rng: random.Random, used: set[str]) -> str:
    names, weights = zip(*cat.FAMILY_NAMES, strict=True)
    while True:
        family = rng.choices(names, weights)[0]
        if rng.random() < 0.55:
            middle, given = rng.choice(cat.MIDDLE_NAMES_MALE), rng.choice(cat.GIVEN_NAMES_MALE)
            name = f"{family} {middle} {given}"
        else:
            name = (
                f"{family} {rng.choice(cat.MIDDLE_NAMES_FEMALE)} "
                f"{rng.choice(cat.GIVEN_NAMES_FEMALE)}"
            )
        if name not in used:
            used.add(name)
            return name


def _initials(text: str) -> str:
    return "".join(w[0] for w in fold(text).upper().replace("'", " ").split() if w[0].isalnum())


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def _tax_code(rng: random.Random, used: set[str]) -> str:
    """A 10-digit Vietnamese tax code with province prefix 64 and a valid mod-11 check digit."""
    while True:
        body = "64" + f"{rng.randrange(10**7):07d}"
        check = 10 - sum(int(d) * w for d, w in zip(body, TAX_WEIGHTS, strict=True)) % 11
        code = body + str(check)
        if check < 10 and code not in used:
            used.add(code)
            return code


def _phone(rng: random.Random, kind: ProducerKind) -> str:
    if kind is not ProducerKind.HOUSEHOLD and rng.random() < 0.4:
        return f"0261{rng.choice('36')}{rng.randrange(10**6):06d}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


class _Names:
    """Keeps producer names, brands, people and e-mail addresses unique."""

    def __init__(self) -> None:
        self.producers: set[str] = set()
        self.brands: set[str] = set()
        self.people: set[str] = set()
        self.emails: set[str] = set()
        self.tax_codes: set[str] = set()

    def email(self, local: str) -> str:
        candidate, n = f"{local}@gmail.com", 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@gmail.com"
        self.emails.add(candidate)
        return candidate


def _identity(
    rng: random.Random, names: _Names, plan: _Plan, place: str
) -> tuple[str, str, str, str, str | None]:
    """(name, brand, abbreviation, representative, email) of a planned producer."""
    spec = plan.specialty
    ethnic = spec.key in cat.ETHNIC_SPECIALTIES and rng.random() < 0.6
    person = (_pick_unused(rng, cat.ETHNIC_NAMES, names.people) if ethnic else None) or _person(
        rng, names.people
    )
    if plan.kind is ProducerKind.COOPERATIVE:
        patterns = list(cat.COOPERATIVE_PATTERNS)
        rng.shuffle(patterns)
        name = next(
            (
                n
                for n in (p.format(place=place, sector=spec.sector_vi) for p in patterns)
                if n not in names.producers
            ),
            "",
        )
        brand = (
            place
            if place not in names.brands
            else (_pick_unused(rng, cat.ENTERPRISE_BRANDS, names.brands) or place)
        )
        if not name:
            name = f"Hợp tác xã Nông nghiệp {brand} {place}"
        names.brands.add(brand)
        abbreviation = "HTX" + _initials(brand)
        email: str | None = names.email("htx" + _ascii(brand))
    elif plan.kind is ProducerKind.ENTERPRISE:
        brand = _pick_unused(rng, cat.ENTERPRISE_BRANDS, names.brands) or f"{place} Xanh"
        name = rng.choice(cat.ENTERPRISE_PATTERNS).format(brand=brand, sector=spec.sector_vi)
        abbreviation = _initials(brand)
        email = names.email(_ascii(brand) + rng.choice(("", "jsc", "company", "vn")))
    else:
        brand = _pick_unused(rng, cat.HOUSEHOLD_BRANDS, names.brands) or person.split()[-1]
        name = cat.HOUSEHOLD_PATTERN.format(person=person)
        abbreviation = "HKD" + _initials(person)
        email = (
            names.email(_ascii(person) + str(rng.randint(60, 99))) if rng.random() < 0.5 else None
        )
    names.producers.add(name)
    return name, brand, abbreviation, person, email


def _make_producers(
    session: Session,
    rng: random.Random,
    places: _Places,
    plans: list[_Plan],
    progress: Progress | None,
) -> list[_Made]:
    names = _Names()
    made: list[_Made] = []
    for index, plan in enumerate(plans, start=1):
        unit = plan.old_commune
        if (plan.new or plan.moved) and unit.successor is not None:
            unit = unit.successor
        name, brand, abbreviation, person, email = _identity(
            rng, names, plan, _short(plan.old_commune.name)
        )
        ethnic = plan.specialty.key in cat.ETHNIC_SPECIALTIES
        producer = Producer(
            kind=plan.kind,
            name=name,
            registration_code=_tax_code(rng, names.tax_codes),
            address=_address(
                rng,
                plan.old_commune,
                unit,
                ethnic,
                plan.kind is ProducerKind.ENTERPRISE and rng.random() < 0.35,
            ),
            commune=unit,
            representative=person,
            phone=_phone(rng, plan.kind),
            email=email,
            created_at=plan.created_at,
            updated_at=_between(rng, MERGER_AT, LAST_AT) if plan.moved else plan.created_at,
        )
        session.add(producer)
        made.append(_Made(producer=producer, plan=plan, brand=brand, abbreviation=abbreviation))
        if progress and (index % 10 == 0 or index == len(plans)):
            progress("producers", index, len(plans))
    session.flush()
    return made


# -- products ---------------------------------------------------------------------------------


def _gtin(rng: random.Random, maker: _Made, used_prefixes: set[str]) -> str:
    """A GTIN-13 under Vietnam's GS1 prefix 893: 8-digit company prefix, 4-digit item."""
    if maker.gtin_prefix is None:
        while maker.gtin_prefix is None or maker.gtin_prefix in used_prefixes:
            maker.gtin_prefix = "893" + f"{rng.randrange(10_000, 100_000)}"
        used_prefixes.add(maker.gtin_prefix)
        maker.next_item = rng.randint(1, 120)
    body = f"{maker.gtin_prefix}{maker.next_item:04d}"
    maker.next_item += rng.randint(1, 4)
    return body + str(gtin_check_digit(body))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _listings(rng: random.Random, maker: _Made, name: str) -> list[Listing]:
    platforms, weights = zip(*cat.PLATFORM_WEIGHTS, strict=True)
    wanted = rng.choices((1, 2, 3), (55, 30, 15))[0]
    chosen: list[Platform] = []
    while len(chosen) < wanted:
        platform = rng.choices(platforms, weights)[0]
        if platform not in chosen:
            chosen.append(platform)
    listings = []
    slug = _slug(name)
    for platform in chosen:
        shop = maker.shops.setdefault(platform, rng.randrange(100_000_000, 1_300_000_000))
        ids: dict[Platform, tuple[int, int]] = {
            Platform.SHOPEE: (shop, rng.randrange(10**10, 3 * 10**10)),
            Platform.LAZADA: (rng.randrange(10**9, 3 * 10**9), rng.randrange(10**10, 2 * 10**10)),
            Platform.TIKI: (rng.randrange(10**8, 3 * 10**8), 0),
            Platform.TIKTOK_SHOP: (
                0,
                rng.randrange(1_729_000_000_000_000_000, 1_732_000_000_000_000_000),
            ),
            Platform.POSTMART: (rng.randrange(100_000, 1_000_000), 0),
            Platform.VOSO: (rng.randrange(1_000_000, 9_000_000), 0),
        }
        a, b = ids[platform]
        url = cat.PLATFORM_URLS[platform].format(slug=slug, a=a, b=b)
        listings.append(Listing(platform=platform, url=url))
    return listings


def _product_counts(rng: random.Random, made: list[_Made]) -> list[int]:
    """One product each, the rest spread over cooperatives and enterprises (at most 3 each)."""
    counts = [1] * len(made)
    extra = max(PRODUCTS_TOTAL - len(made), 0)
    eligible = [
        i
        for i, m in enumerate(made)
        if m.plan.kind is not ProducerKind.HOUSEHOLD or rng.random() < 0.15
    ]
    while extra and eligible:
        i = rng.choice(eligible)
        counts[i] += 1
        extra -= 1
        if counts[i] >= min(3, len(made[i].plan.specialty.products)):
            eligible.remove(i)
    return counts


def _make_products(
    session: Session, rng: random.Random, made: list[_Made], progress: Progress | None
) -> tuple[int, int]:
    counts = _product_counts(rng, made)
    total, done, listed = sum(counts), 0, 0
    used_prefixes: set[str] = set()
    for maker, count in zip(made, counts, strict=True):
        producer = maker.producer
        place = _short(producer.commune.name)
        templates = rng.sample(maker.plan.specialty.products, count)
        dates = sorted(
            _between(
                rng, producer.created_at, min(producer.created_at + timedelta(days=540), LAST_AT)
            )
            for _ in templates
        )
        for number, (template, created) in enumerate(zip(templates, dates, strict=True), 1):
            name_vi = template.name_vi.format(brand=maker.brand, place=place)
            share = template.gtin_share * (0.8 if maker.plan.kind is ProducerKind.HOUSEHOLD else 1)
            gtin = _gtin(rng, maker, used_prefixes) if rng.random() < share else None
            own = f"TCCS {number:02d}:{created.year}/{maker.abbreviation}"
            product = Product(
                producer=producer,
                name_vi=name_vi,
                name_en=template.name_en.format(brand=maker.brand, place=place),
                product_group=template.group,
                gtin=gtin,
                gtin14=gtin.zfill(14) if gtin else None,
                description=template.description,
                standards=[own if s == cat.OWN_STANDARD else s for s in template.standards],
                shelf_life_days=template.shelf_life_days,
                created_at=created,
                updated_at=created,
            )
            if template.listed and rng.random() < LISTED_SHARE:
                product.listings = _listings(rng, maker, name_vi)
                listed += 1
            session.add(product)
            done += 1
            if progress and (done % 10 == 0 or done == total):
                progress("products", done, total)
    return total, listed


# -- raw-material areas -----------------------------------------------------------------------


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _ring_area_ha(ring: list[list[float]], lat: float) -> float:
    """Shoelace area of a small [lon, lat] ring, in hectares (local flat approximation)."""
    kx = METRES_PER_DEGREE * math.cos(math.radians(lat))
    ky = METRES_PER_DEGREE
    twice = sum(
        (a[0] * kx) * (b[1] * ky) - (b[0] * kx) * (a[1] * ky) for a, b in itertools.pairwise(ring)
    )
    return abs(twice) / 2 / 10_000


def _polygon(
    rng: random.Random, lat: float, lon: float, target_ha: float
) -> tuple[dict[str, Any], float]:
    corners = rng.randint(5, 8)
    start = rng.uniform(0, 2 * math.pi)
    shape = [
        (start + 2 * math.pi * (i + rng.uniform(-0.25, 0.25)) / corners, rng.uniform(0.8, 1.2))
        for i in range(corners)
    ]
    kx = METRES_PER_DEGREE * math.cos(math.radians(lat))
    radius = math.sqrt(target_ha * 10_000 / math.pi)

    def ring_for(r: float) -> list[list[float]]:
        ring = [
            [
                round(lon + r * k * math.cos(a) / kx, 6),
                round(lat + r * k * math.sin(a) / METRES_PER_DEGREE, 6),
            ]
            for a, k in shape
        ]
        return [*ring, list(ring[0])]

    ring = ring_for(radius)
    ring = ring_for(radius * math.sqrt(target_ha / _ring_area_ha(ring, lat)))
    return {"type": "Polygon", "coordinates": [ring]}, _ring_area_ha(ring, lat)


def _certifications(
    rng: random.Random, spec: cat.Specialty, kind: ProducerKind, created: datetime
) -> tuple[list[dict[str, Any]], datetime]:
    """Certificates of an area and when the area record was last updated for them.

    About two in three were renewed since the area was registered (so they are mostly still
    valid at the end of the demo period); the others are as first recorded, often expired.
    """
    touched = created
    chance = {ProducerKind.COOPERATIVE: 0.75, ProducerKind.ENTERPRISE: 0.6}.get(kind, 0.3)
    if not spec.certifications or rng.random() >= chance:
        return [], touched
    schemes: list[CertificationScheme] = []
    for _ in range(rng.choices((1, 2), (70, 30))[0]):
        scheme = rng.choice(spec.certifications)
        if scheme not in schemes:
            schemes.append(scheme)
    result = []
    for scheme in schemes:
        years = cat.CERTIFICATE_YEARS[scheme]
        renewed_from = max(created, LAST_AT - timedelta(days=365 * years - 30))
        if rng.random() < 0.65 and renewed_from < LAST_AT - timedelta(days=30):
            issued_at = _between(rng, renewed_from, LAST_AT - timedelta(days=30))
            touched = max(touched, issued_at)
        else:
            issued_at = _between(rng, max(created - timedelta(days=540), FIRST_AT), created)
        issued = issued_at.date()
        valid_until: date | None = issued.replace(year=issued.year + years, day=min(issued.day, 28))
        if rng.random() < 0.1:
            valid_until = None
        reference: str | None = cat.CERTIFICATE_REFERENCES[scheme].format(
            y=issued.year,
            **{f"n{k}": f"{rng.randrange(10**k):0{k}d}" for k in (2, 3, 4, 5, 6, 7, 11)},
        )
        if rng.random() < 0.15:
            reference = None
        result.append(
            {
                "scheme": scheme.value,
                "reference": reference,
                "valid_until": valid_until.isoformat() if valid_until else None,
            }
        )
    return result, touched


def _area_size(rng: random.Random, kind: ProducerKind, spec: cat.Specialty) -> float:
    small = spec.key in SMALL_SPECIALTIES
    if kind is ProducerKind.HOUSEHOLD:
        return rng.uniform(0.5, 3.0)
    if kind is ProducerKind.COOPERATIVE:
        return _log_uniform(rng, 10, 40 if small else 300)
    return _log_uniform(rng, 2, 20) if small else _log_uniform(rng, 5, 150)


def _make_areas(
    session: Session,
    rng: random.Random,
    places: _Places,
    made: list[_Made],
    progress: Progress | None,
) -> int:
    done = 0
    for index, maker in enumerate(made, start=1):
        producer, plan = maker.producer, maker.plan
        spec = plan.specialty
        household = plan.kind is ProducerKind.HOUSEHOLD
        count = rng.choice((1, 1, 2) if household else (1, 2, 2, 3))
        seen: dict[str, int] = {}
        for _ in range(count):
            old = plan.old_commune
            if not household and rng.random() < 0.3:
                old = rng.choice(places.communes[plan.district_key])
            created = _between(
                rng, producer.created_at, min(producer.created_at + timedelta(days=365), LAST_AT)
            )
            unit = _current(old, created)
            if plan.new and unit is old and old.successor is not None:
                unit = old.successor
            size = _area_size(rng, plan.kind, spec)
            if size <= 4:
                lat, lon = _spot(rng, old, 0.001)
                geometry: dict[str, Any] = {
                    "type": "Point",
                    "coordinates": [round(lon, 6), round(lat, 6)],
                }
            else:
                radius = 1.3 * math.sqrt(size * 10_000 / math.pi)  # metres, with the jitter
                margin = radius / (METRES_PER_DEGREE * math.cos(math.radians(LAT_RANGE[1])))
                lat, lon = _spot(rng, old, margin)
                geometry, size = _polygon(rng, lat, lon, size)
            if household:
                hamlet = rng.choice(
                    cat.ETHNIC_HAMLETS if spec.key in cat.ETHNIC_SPECIALTIES else cat.HAMLETS
                )
                name = spec.plot_name.format(hamlet=hamlet)
            else:
                name = spec.area_name.format(place=_short(unit.name))
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} – khu {'ABCDE'[seen[name] - 1]}"
            crops = list(rng.choice(spec.area_crops))
            certifications, touched = _certifications(rng, spec, plan.kind, created)
            session.add(
                RawMaterialArea(
                    producer=producer,
                    name=name,
                    commune=unit,
                    area_ha=Decimal(f"{size:.2f}").quantize(Decimal("0.0001")),
                    crops=crops,
                    certifications=certifications,
                    geometry=geometry,
                    created_at=created,
                    updated_at=touched,
                )
            )
            done += 1
        if progress and (index % 10 == 0 or index == len(made)):
            progress("areas", index, len(made))
    return done


# -- users ------------------------------------------------------------------------------------


def _make_users(
    session: Session, actor: Principal, made: list[_Made], progress: Progress | None
) -> list[tuple[str, str, str]]:
    wanted: list[tuple[str, Role, int | None, str]] = [
        ("admin", Role.ADMIN, None, "Văn phòng Điều phối OCOP tỉnh (demo)"),
        ("inspector", Role.INSPECTOR, None, "Cán bộ kiểm tra chất lượng (demo)"),
    ]
    for number, maker in enumerate(made[:3], start=1):
        wanted.append((f"producer{number}", Role.PRODUCER, maker.producer.id, maker.producer.name))
    users: list[tuple[str, str, str]] = []
    for index, (username, role, producer_id, display) in enumerate(wanted, start=1):
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password = secrets.token_urlsafe(12)
            create_user(
                session,
                actor,
                {
                    "username": username,
                    "role": role,
                    "producer_id": producer_id,
                    "display_name": display,
                    "password": password,
                },
            )
            users.append((username, role.value, password))
        if progress:
            progress("users", index, len(wanted))
    return users


def reset_demo_passwords(session: Session, actor: Principal) -> list[tuple[str, str, str]]:
    """New passwords for the demo accounts that still exist (those the demo load recorded
    in the audit log), for an installation whose saved credentials were lost."""
    loaded = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.tag == Tag.DEMO_LOADED.value)
        .order_by(AuditEvent.id)
        .limit(1)
    )
    names = list((loaded or {}).get("users", []))
    users = session.scalars(select(User).where(User.username.in_(names)).order_by(User.id))
    reset: list[tuple[str, str, str]] = []
    for user in users:
        password = secrets.token_urlsafe(12)
        update_user(session, actor, user, {"password": password})
        reset.append((user.username, user.role, password))
    return reset


# -- OCOP evaluations and certificates --------------------------------------------------------

CERT_FIRST = date(2021, 1, 4)  # first working day of 2021
CERT_LAST = date(2025, 12, 31)
# Districts and the Đắk Nông province council rated until early June 2025; Lâm Đồng councils
# (Decision 1489/QĐ-TTg) from mid-July. Nothing is rated in between.
OLD_COUNCILS_LAST = date(2025, 6, 9)
LD_COUNCILS_FIRST = date(2025, 7, 14)
CERTIFIED_PRODUCTS = 85
RENEWED = 18  # certified in 2021–2022, re-evaluated about 36 months later
EXPIRED = 12  # expired before ``today`` and not re-evaluated
EXPIRING = 7  # valid_until 12–84 days after ``today``
BELOW_THREE = 3  # rated 2★: an evaluation, no certificate
FAILED_MANDATORY = 1
FOUR_STAR_SHARE = 0.10
# Decisions a People's Committee signs per day, to number them plausibly through the year.
DECISIONS_PER_DAY = {"district": (1.2, 3.0), "dn": (5.5, 7.5), "ld": (9.0, 12.0)}
LAG_DAYS = (3, 5, 7, 7, 8, 10, 10, 12, 14, 14, 16, 18, 21)


@dataclass(eq=False)
class _Round:
    """One council evaluation of a product and, when it earns 3★+, its certificate."""

    product: Product
    maker: _Made
    evaluated_on: date
    issue_date: date  # with decision_date, unused when the round earns no certificate
    decision_date: date
    star: int = 3  # 2 = below 3★; ignored when a mandatory criterion failed
    mandatory_met: bool = True
    notes: str | None = None
    previous: _Round | None = None  # the round whose certificate this one renews
    revoked_on: date | None = None
    level: CouncilLevel = CouncilLevel.DISTRICT
    council: AdministrativeUnit = field(init=False)
    authority: str = ""
    number: str = ""
    decision_number: str = ""
    reference: str = ""
    certificate: Certificate | None = None

    @property
    def certified(self) -> bool:
        return self.mandatory_met and self.star >= CERTIFIED_MIN_STAR


def _vn_date(at: datetime) -> date:
    return today_vn(at if at.tzinfo else at.replace(tzinfo=UTC))


def _some_day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def _round_dates(
    rng: random.Random, earliest: date, lo: date, hi: date
) -> tuple[date, date, date] | None:
    """(evaluated_on, decision_date, issue_date) on working days, issued within [lo, hi].

    Old councils (districts, Đắk Nông) rate until early June 2025 and their certificates are
    issued before the merger; Lâm Đồng councils rate from mid-July 2025.
    """
    lo, hi = max(lo, CERT_FIRST, earliest + timedelta(days=3)), min(hi, CERT_LAST)
    if lo > hi:
        return None
    for _ in range(80):
        issue = _some_day(rng, lo, hi)
        evaluated = issue - timedelta(days=rng.choice(LAG_DAYS))
        if issue.weekday() >= 5 or evaluated.weekday() >= 5 or evaluated < earliest:
            continue
        if OLD_COUNCILS_LAST < evaluated < LD_COUNCILS_FIRST:
            continue
        if evaluated <= OLD_COUNCILS_LAST and issue >= MERGER_DATE:
            continue
        decision = issue
        if rng.random() < 0.2:
            decision = max(evaluated, issue - timedelta(days=rng.randint(1, 4)))
            if decision.weekday() >= 5:
                decision = issue
        return evaluated, decision, issue
    return None


class _Planner:
    """Chooses which product gets which certificate history, relative to ``today``."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.last = min(today, CERT_LAST)
        base = add_months(today, -36)  # a certificate issued on ``base`` expires on ``today``
        self.expiring = (base + timedelta(days=12), base + timedelta(days=84))
        self.valid = (base + timedelta(days=95), self.last)
        self.expired = (CERT_FIRST, min(base - timedelta(days=10), self.last))

    def single(self, product: Product, maker: _Made, window: tuple[date, date]) -> list[_Round]:
        dates = _round_dates(self.rng, self._earliest(product), *window)
        if dates is None:
            return []
        evaluated, decision, issue = dates
        return [_Round(product, maker, evaluated, issue, decision)]

    def renewed(
        self, product: Product, maker: _Made, first_window: tuple[date, date]
    ) -> list[_Round]:
        """A 2021–2022 certificate, re-evaluated around its expiry into a still valid one."""
        for _ in range(30):
            first = self.single(product, maker, first_window)
            if not first:
                return []
            expiry = valid_until(first[0].issue_date)
            window = (
                max(expiry - timedelta(days=60), self.valid[0]),
                min(expiry + timedelta(days=30), self.valid[1]),
            )
            dates = _round_dates(self.rng, expiry - timedelta(days=90), *window)
            if dates is not None:
                evaluated, decision, issue = dates
                return [
                    *first,
                    _Round(product, maker, evaluated, issue, decision, previous=first[0]),
                ]
        return []

    def revoked(self, product: Product, maker: _Made) -> list[_Round]:
        """A certificate revoked three to seven months after issue, before ``today``."""
        for _ in range(30):
            rounds = self.single(
                product, maker, (date(2022, 7, 1), self.last - timedelta(days=120))
            )
            if not rounds:
                return []
            revoked = rounds[0].issue_date + timedelta(days=self.rng.randint(90, 210))
            if revoked <= self.today and revoked.weekday() < 5:
                rounds[0].revoked_on = revoked
                return rounds
        return []

    def not_certified(self, product: Product, maker: _Made, star: int | None) -> list[_Round]:
        rounds = self.single(product, maker, (CERT_FIRST, self.last))
        for r in rounds:
            r.star, r.mandatory_met = star or CERTIFIED_MIN_STAR, star is not None
        return rounds

    def _earliest(self, product: Product) -> date:
        """A product is rated two weeks after it is registered at the soonest, never before 2021."""
        return max(_vn_date(product.created_at) + timedelta(days=14), date(2021, 1, 1))


def _first_four_star(candidates: list[tuple[Product, _Made]]) -> tuple[Product, _Made] | None:
    """Đắk Nông's first 4★ was "Cà phê bột Đắk Đam" (Đắk Mil): the demo's is a ground coffee of a
    Đắk Mil producer if there is one, else its oldest coffee product."""

    def rank(item: tuple[Product, _Made]) -> tuple[int, datetime]:
        product, maker = item
        in_dak_mil = maker.plan.district_key == "dn.dakmil" and not maker.plan.new
        return (
            (0 if in_dak_mil else 2) + (0 if product.name_vi.startswith("Cà phê bột") else 1),
            product.created_at,
        )

    coffee = [c for c in candidates if c[1].plan.specialty.key == "coffee"]
    return min(coffee, key=rank) if coffee else None


def _plan_rounds(
    rng: random.Random, today: date, items: list[tuple[Product, _Made]]
) -> list[_Round]:
    planner = _Planner(rng, today)
    rounds: list[_Round] = []
    free = list(items)
    rng.shuffle(free)

    def assign(count: int, plan: Callable[[Product, _Made], list[_Round]]) -> None:
        for item in list(free):
            if count <= 0:
                return
            made_rounds = plan(*item)
            if made_rounds:
                rounds.extend(made_rounds)
                free.remove(item)
                count -= 1

    first4 = _first_four_star(items)
    first4_on: date | None = None
    if first4 is not None:
        free.remove(first4)
        history = planner.renewed(*first4, (CERT_FIRST, date(2021, 10, 31))) or planner.single(
            *first4, planner.valid
        )
        if history:
            first4_on = history[0].evaluated_on
            if first4_on < MERGER_DATE:
                history[0].notes = cat.FIRST_FOUR_STAR_NOTE
            rounds.extend(history)
    assign(RENEWED - 1, lambda p, m: planner.renewed(p, m, (CERT_FIRST, date(2022, 12, 31))))
    assign(1, planner.revoked)
    assign(EXPIRED, lambda p, m: planner.single(p, m, planner.expired))
    assign(EXPIRING, lambda p, m: planner.single(p, m, planner.expiring))
    assign(BELOW_THREE, lambda p, m: planner.not_certified(p, m, 2))
    assign(FAILED_MANDATORY, lambda p, m: planner.not_certified(p, m, None))
    certified = len({id(r.product) for r in rounds if r.certified})
    assign(CERTIFIED_PRODUCTS - certified, lambda p, m: planner.single(p, m, planner.valid))
    _choose_four_stars(rng, rounds, first4, first4_on)
    return rounds


def _choose_four_stars(
    rng: random.Random,
    rounds: list[_Round],
    first4: tuple[Product, _Made] | None,
    first4_on: date | None,
) -> None:
    """About one certificate in ten is 4★, none rated before the province's first 4★."""
    certified = [r for r in rounds if r.certified]
    wanted = round(FOUR_STAR_SHARE * len(certified))
    if first4 is None or first4_on is None:
        return
    by_product: dict[int, list[_Round]] = {}
    for r in certified:
        by_product.setdefault(id(r.product), []).append(r)
    for r in by_product.get(id(first4[0]), []):
        r.star = 4
        wanted -= 1
    weights = {ProducerKind.COOPERATIVE: 3, ProducerKind.ENTERPRISE: 4, ProducerKind.HOUSEHOLD: 1}
    pool = [
        rs for key, rs in by_product.items() if key != id(first4[0]) and rs[0].revoked_on is None
    ]
    while wanted > 0 and pool:
        rs = rng.choices(pool, [weights[rs[0].maker.plan.kind] for rs in pool])[0]
        pool.remove(rs)
        for r in reversed(rs):  # newest first: a partial pick is an upgrade, not a downgrade
            if r.evaluated_on > first4_on and wanted > 0:
                r.star = 4
                wanted -= 1
                if r.previous is not None and r.previous.star == 3:
                    r.notes = cat.UPGRADE_NOTE


def _scores(rng: random.Random, r: _Round) -> tuple[int, int, int]:
    """Parts A (≤ 40), B (≤ 25), C (≤ 35) adding up to a total in the round's star band."""
    if not r.mandatory_met:
        total = rng.randint(52, 66)
    else:
        total = {
            2: lambda: rng.randint(36, 49),
            3: lambda: round(rng.triangular(50, 69, 61)),
            4: lambda: round(rng.triangular(70, 88, 74)),
        }[r.star]()
    a = min(max(round(total * rng.uniform(0.37, 0.45)), total - MAX_B - MAX_C, 0), MAX_A, total)
    rest = total - a
    b = min(max(round(rest * rng.uniform(0.36, 0.46)), rest - MAX_C, 0), MAX_B, rest)
    return a, b, rest - b


def _council(
    r: _Round, units: dict[str, AdministrativeUnit]
) -> tuple[CouncilLevel, AdministrativeUnit]:
    """The council that rated ``r``: the producer's district (3★ and below) or Đắk Nông (4★)
    before the merger, Lâm Đồng after Decision 1489."""
    if r.evaluated_on >= LD_COUNCILS_FIRST:
        return CouncilLevel.PROVINCE, units["ld"]
    if r.star == 4 and r.mandatory_met:
        return CouncilLevel.PROVINCE, units["dn"]
    district = r.maker.plan.old_commune.parent
    return CouncilLevel.DISTRICT, district if district is not None else units["dn"]


def _authority(unit: AdministrativeUnit) -> str:
    """A People's Committee as printed on a certificate: "UBND huyện Đắk Mil", "UBND tỉnh …"."""
    return f"UBND {unit.name[0].lower()}{unit.name[1:]}"


def _number_documents(
    rng: random.Random, rounds: list[_Round], units: dict[str, AdministrativeUnit]
) -> dict[tuple[str, date], str]:
    """Certificate numbers, minutes of council sessions and decision numbers, each rising
    through the year; a People's Committee recognises the products it decides on one day in
    one decision (also used for the revocation)."""
    certified = sorted(
        (r for r in rounds if r.certified),
        key=lambda r: (r.issue_date, r.evaluated_on, r.product.name_vi),
    )
    serial: dict[tuple[str, int], int] = {}
    for r in certified:
        prefix = "DNO" if r.issue_date < MERGER_DATE else "LDG"
        key = (prefix, r.issue_date.year)
        serial[key] = serial.get(key, rng.randint(0, 4) if prefix == "DNO" else rng.randint(40, 90))
        serial[key] += rng.choice((1, 1, 1, 2, 3))
        r.number = f"{prefix}-{r.issue_date.year}-{serial[key]:04d}"

    sessions: dict[tuple[int, date], int] = {}
    counts: dict[tuple[int, int], int] = {}
    for r in sorted(rounds, key=lambda r: (r.evaluated_on, r.product.name_vi)):
        session_key = (id(r.council), r.evaluated_on)
        if session_key not in sessions:
            year_key = (id(r.council), r.evaluated_on.year)
            counts[year_key] = counts.get(year_key, 0) + rng.randint(1, 2)
            sessions[session_key] = counts[year_key]
        level = "tỉnh" if r.council.level is UnitLevel.PROVINCE else "huyện"
        r.reference = (
            f"Biên bản số {sessions[session_key]:02d}/BB-HĐOCOP ngày "
            f"{r.evaluated_on:%d/%m/%Y} của Hội đồng OCOP cấp {level} ({_short(r.council.name)})"
        )

    decisions: set[tuple[str, date]] = set()
    for r in certified:
        decisions.add((r.authority, r.decision_date))
        if r.revoked_on is not None:
            decisions.add((_revoking_authority(r, r.revoked_on), r.revoked_on))
    rates: dict[str, float] = {}
    numbers: dict[tuple[str, date], str] = {}
    last: dict[tuple[str, int], int] = {}
    for authority, day in sorted(decisions, key=lambda d: (d[1], d[0])):
        kind = {_authority(units["dn"]): "dn", _authority(units["ld"]): "ld"}.get(
            authority, "district"
        )
        rate = rates.setdefault(authority, rng.uniform(*DECISIONS_PER_DAY[kind]))
        key = (authority, day.year)
        n = max(last.get(key, 0) + 1, int(day.timetuple().tm_yday * rate) + rng.randint(0, 9))
        last[key] = n
        numbers[(authority, day)] = f"{n}/QĐ-UBND"
    for r in certified:
        r.decision_number = numbers[(r.authority, r.decision_date)]
    return numbers


def _revoking_authority(r: _Round, revoked_on: date) -> str:
    """The issuer revokes; after the merger only Lâm Đồng can."""
    return r.authority if revoked_on < MERGER_DATE else "UBND tỉnh Lâm Đồng"


def _make_certificates(
    session: Session,
    actor: Principal,
    rng: random.Random,
    units: dict[str, AdministrativeUnit],
    made: list[_Made],
    today: date,
    progress: Progress | None,
) -> tuple[int, int]:
    """OCOP evaluations and certificates of 2021–2025, through the certificate services so that
    superseding and audit events happen as in real use. Returns (evaluations, certificates)."""
    makers = {id(m.producer): m for m in made}
    products = session.scalars(select(Product).order_by(Product.id)).all()
    items = [(p, makers[id(p.producer)]) for p in products if id(p.producer) in makers]
    rounds = _plan_rounds(rng, today, items)
    for r in rounds:
        r.level, r.council = _council(r, units)
        r.authority = _authority(r.council)
    numbers = _number_documents(rng, rounds, units)
    for r in rounds:
        if r.previous is not None and r.notes is None:
            r.notes = cat.RENEWAL_NOTE.format(number=r.previous.number)

    # Replay the history in date order: evaluations, then the certificates and revocations.
    timeline: list[tuple[date, int, int, _Round]] = []
    for index, r in enumerate(rounds):
        timeline.append((r.evaluated_on, 0, index, r))
        if r.certified:
            timeline.append((r.issue_date, 1, index, r))
        if r.revoked_on is not None:
            timeline.append((r.revoked_on, 2, index, r))
    timeline.sort(key=lambda t: t[:3])
    evaluations: dict[int, Evaluation] = {}
    certificates = 0
    for step, (_, kind, index, r) in enumerate(timeline, start=1):
        if kind == 0:
            evaluations[index] = _evaluate(session, actor, rng, r, today)
        elif kind == 1:
            r.certificate = issue_certificate(
                session,
                actor,
                {
                    "evaluation_id": evaluations[index].id,
                    "number": r.number,
                    "decision_number": r.decision_number,
                    "decision_date": r.decision_date,
                    "issue_date": r.issue_date,
                    "issuing_unit_id": r.council.id,
                    "issuing_authority": r.authority,
                },
                today,
            )
            certificates += 1
        elif r.certificate is not None and r.revoked_on is not None:
            revoke_certificate(
                session,
                actor,
                r.certificate,
                {
                    "revoked_on": r.revoked_on,
                    "decision": numbers[(_revoking_authority(r, r.revoked_on), r.revoked_on)],
                    "reason": rng.choice(cat.REVOCATION_REASONS),
                },
                today,
            )
        if progress and (step % 20 == 0 or step == len(timeline)):
            progress("certificates", step, len(timeline))
    return len(evaluations), certificates


def _evaluate(
    session: Session, actor: Principal, rng: random.Random, r: _Round, today: date
) -> Evaluation:
    a, b, c = _scores(rng, r)
    total = a + b + c
    notes = r.notes
    if not r.mandatory_met:
        notes = rng.choice(cat.FAILED_MANDATORY_NOTES).format(total=total)
    elif r.star < CERTIFIED_MIN_STAR:
        notes = rng.choice(cat.BELOW_THREE_NOTES).format(total=total)
    return record_evaluation(
        session,
        actor,
        r.product,
        {
            "council_level": r.level,
            "council_unit_id": r.council.id,
            "evaluated_on": r.evaluated_on,
            "score_a": a,
            "score_b": b,
            "score_c": c,
            "mandatory_met": r.mandatory_met,
            "reference": r.reference,
            "notes": notes,
        },
        today,
    )


# -- traceability chains ----------------------------------------------------------------------

# Upper-case stages in lot codes: "DM-2025-TH-01" is the first harvest lot of the Đắk Mil
# coffee chain of the 2025 season.
HARVESTED, DRIED, HULLED, SORTED, ROASTED, GROUND, PACKED = (
    "TH",  # thu hoạch
    "SAY",  # phơi, sấy
    "XAT",  # xay xát, tách vỏ
    "PL",  # phân loại
    "RANG",
    "XAY",  # xay bột
    "DG",  # đóng gói
)
PACKET_KG = Decimal("0.5")
COFFEE_BAG_KG = Decimal("0.25")
# A 500 ml bottle of honey: pieces need the weight of one, and honey weighs about 1.4 kg a
# litre, so a bottle holds 0.7 kg. The bulk honey is counted in litres (as beekeepers sell
# it), so the packing's yield check is skipped (no common measure), but the bottles still
# convert to kg for EPCIS and the EUDR export.
HONEY_BOTTLE_L = Decimal("0.5")
HONEY_BOTTLE_KG = Decimal("0.7")


class _Chain:
    """One product's chain, recorded through the trace services as the producer would: each
    event after the one before (in Vietnam's time), lot codes numbered per stage."""

    def __init__(
        self, session: Session, actor: Principal, maker: _Made, prefix: str, year: int
    ) -> None:
        self.session = session
        self.actor = actor
        self.maker = maker
        self.prefix = f"{prefix}-{year}"
        self.numbers: dict[str, int] = {}
        self.last: datetime | None = None

    def place(self, template: str) -> str:
        return template.format(brand=self.maker.brand)

    def code(self, stage: str) -> str:
        self.numbers[stage] = self.numbers.get(stage, 0) + 1
        return f"{self.prefix}-{stage}-{self.numbers[stage]:02d}"

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=VIETNAM)
        if self.last is not None and moment <= self.last:
            raise ValueError(f"{self.prefix}: {moment.isoformat()} is not after {self.last}")
        self.last = moment
        return moment

    @staticmethod
    def _made(event: TraceEvent) -> Lot:
        return next(link.lot for link in event.lots if link.role == "output")

    def harvest(
        self,
        area: RawMaterialArea,
        material: str,
        quantity: Decimal,
        window: tuple[date, date],
        when: datetime,
        details: dict[str, Any],
        unit: Unit = Unit.KG,
    ) -> Lot:
        event = record_harvest(
            self.session,
            self.actor,
            {
                "area_id": area.id,
                "harvest_start": window[0],
                "harvest_end": window[1],
                "event_time": when,
                "details": details,
                "lot": {
                    "code": self.code(HARVESTED),
                    "material": material,
                    "quantity": quantity,
                    "unit": unit,
                },
            },
        )
        return self._made(event)

    def transform(
        self,
        process: str,
        inputs: list[tuple[Lot, Decimal]],
        stage: str,
        material: str,
        quantity: Decimal,
        when: datetime,
        location: str,
        details: dict[str, Any] | None = None,
    ) -> Lot:
        event = record_transformation(
            self.session,
            self.actor,
            {
                "process": process,
                "event_time": when,
                "location": location,
                "details": details or {},
                "inputs": [{"lot_id": lot.id, "quantity": amount} for lot, amount in inputs],
                "outputs": [
                    {
                        "code": self.code(stage),
                        "material": material,
                        "quantity": quantity,
                        "unit": "kg",
                    }
                ],
            },
        )
        return self._made(event)

    def pack(
        self,
        bulk: Lot,
        amount: Decimal,
        product: Product,
        pieces: int,
        unit_weight_kg: Decimal,
        material: str,
        when: datetime,
    ) -> Lot:
        event = record_packing(
            self.session,
            self.actor,
            {
                "event_time": when,
                "location": self.place(cat.TRACE_WORKSHOP),
                "inputs": [{"lot_id": bulk.id, "quantity": amount}],
                "outputs": [
                    {
                        "code": self.code(PACKED),
                        "material": material,
                        "quantity": pieces,
                        "unit": Unit.PIECE,
                        "unit_weight_kg": unit_weight_kg,
                        "product_id": product.id,
                    }
                ],
            },
        )
        return self._made(event)

    def observe(
        self,
        kind: EventKind,
        lot: Lot,
        when: datetime,
        location: str,
        details: dict[str, Any],
        quantity: Decimal | int | None = None,
    ) -> TraceEvent:
        return record_observation(
            self.session,
            self.actor,
            {
                "kind": kind,
                "event_time": when,
                "location": location,
                "details": details,
                "lots": [{"lot_id": lot.id, "quantity": quantity}],
            },
        )


def _part(rng: random.Random, amount: Decimal, low: float, high: float) -> Decimal:
    """A share of ``amount`` between ``low`` and ``high``, in whole kg (or litres) rounded down."""
    share = Decimal(f"{rng.uniform(low, high):.4f}")
    return (amount * share).quantize(Decimal(1), rounding=ROUND_FLOOR)


def _season(today: date) -> int:
    """The coffee season (harvest Nov–Dec of that year) whose chains, running to May of the
    next year, were over before ``today``."""
    return today.year - 1 if today >= date(today.year, 7, 1) else today.year - 2


_ChainMaker = Callable[[Session, Principal, random.Random, tuple[Product, _Made, str], int], int]


@dataclass(frozen=True)
class _Want:
    """Which product a chain is for: a specialty's products by name, best first."""

    specialty: str
    names: tuple[str, ...]  # product names start with these (the template minus the brand)
    first: date  # the chain's first event: producer and product were registered before it
    packed: date  # certified on this day, if any such product is
    district: str | None = None  # of a producer of this district, if any


def _choose(
    items: list[tuple[Product, _Made]],
    certified: Callable[[Product, date], bool],
    want: _Want,
) -> tuple[Product, _Made, str] | None:
    """The best product for ``want``, and the name it matched: one certified on the packing
    day before all else, then one of a producer of ``want.district``, then by the order of
    ``want.names``, then the first registered."""
    first = datetime(want.first.year, want.first.month, want.first.day, tzinfo=VIETNAM)
    pool = []
    for product, maker in items:
        name = next((n for n in want.names if product.name_vi.startswith(n)), None)
        if (
            name is None
            or maker.plan.specialty.key != want.specialty
            or _aware(product.created_at) >= first
            or _aware(maker.producer.created_at) >= first
        ):
            continue
        rank = (
            not certified(product, want.packed),
            want.district is not None and maker.plan.district_key != want.district,
            want.names.index(name),
            product.id,
        )
        pool.append((rank, product, maker, name))
    if not pool:
        return None
    _, product, maker, name = min(pool, key=lambda p: p[0])
    return product, maker, name


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _areas_of(session: Session, producer: Producer) -> list[RawMaterialArea]:
    return list(
        session.scalars(
            select(RawMaterialArea)
            .where(RawMaterialArea.producer_id == producer.id)
            .order_by(RawMaterialArea.id)
        )
    )


def _member_plots(
    session: Session, rng: random.Random, maker: _Made, count: int, created: datetime
) -> list[RawMaterialArea]:
    """Plots of member households (hộ liên kết) a producer buys cherry from: points of
    1.2–2.9 ha near its commune, registered before the season."""
    plan = maker.plan
    unit = _current(plan.old_commune, created)
    if (plan.new or plan.moved) and plan.old_commune.successor is not None:
        unit = plan.old_commune.successor
    plots = []
    for hamlet in rng.sample(cat.HAMLETS, count):
        lat, lon = _spot(rng, plan.old_commune, 0.001)
        plot = RawMaterialArea(
            producer=maker.producer,
            name=f"{plan.specialty.plot_name.format(hamlet=hamlet)} (hộ liên kết)",
            commune=unit,
            area_ha=Decimal(f"{rng.uniform(1.2, 2.9):.2f}").quantize(Decimal("0.0001")),
            crops=[cat.ROBUSTA],
            certifications=[],
            geometry={"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            created_at=created,
            updated_at=created,
        )
        session.add(plot)
        plots.append(plot)
    session.flush()
    return plots


def _make_chains(
    session: Session,
    actor: Principal,
    rng: random.Random,
    made: list[_Made],
    today: date,
    progress: Progress | None,
) -> int:
    """Full chains from plot to packed product for one product of each of five kinds, through
    the trace services (with their rules and audit events): Đắk Mil coffee from three plots to
    250 g bags, black pepper, honey (recalled), macadamia and cashew. Returns how many
    raw-material areas it added (member plots, when the coffee producer has fewer than three).
    """
    season = _season(today)
    s, n = season, season + 1
    makers = {id(m.producer): m for m in made}
    items = [
        (p, makers[id(p.producer)])
        for p in session.scalars(select(Product).order_by(Product.id))
        if id(p.producer) in makers
    ]
    by_product: dict[int, list[Certificate]] = {}
    for cert in session.scalars(select(Certificate).order_by(Certificate.id)):
        by_product.setdefault(cert.product_id, []).append(cert)

    def certified(product: Product, day: date) -> bool:
        return any(
            c.revoked_on is None and c.issue_date <= day <= c.valid_until
            for c in by_product.get(product.id, [])
        )

    plans: list[tuple[_ChainMaker, _Want, int]] = [
        (
            _coffee_chain,
            # Đắk Mil's, as the province's specialty Robusta is, if it can be.
            _Want(
                "coffee",
                ("Cà phê Robusta đặc sản", "Cà phê bột nguyên chất"),
                date(s, 8, 1),
                date(n, 1, 22),
                district="dn.dakmil",
            ),
            s,
        ),
        (_pepper_chain, _Want("pepper", ("Hồ tiêu đen",), date(n, 2, 1), date(n, 3, 20)), n),
        (
            _honey_chain,
            _Want(
                "honey",
                ("Mật ong hoa cà phê", "Mật ong hoa điều", "Mật ong rừng"),
                date(n, 2, 1),
                date(n, 3, 25),
            ),
            n,
        ),
        (
            _macadamia_chain,
            _Want(
                "macadamia",
                ("Hạt mắc ca sấy nứt vỏ", "Nhân mắc ca sấy"),
                date(s, 8, 1),
                date(s, 10, 22),
            ),
            s,
        ),
        (
            _cashew_chain,
            _Want(
                "cashew",
                ("Hạt điều rang củi", "Hạt điều rang muối"),
                date(n, 2, 1),
                date(n, 4, 10),
            ),
            n,
        ),
    ]
    steps = []
    for chain, want, year in plans:
        chosen = _choose(items, certified, want)
        if chosen is not None:
            steps.append((chain, chosen, year))
    added = 0
    for index, (chain, chosen, year) in enumerate(steps, start=1):
        added += chain(session, actor, rng, chosen, year)
        if progress:
            progress("traceability", index, len(steps))
    return added


def _coffee_chain(
    session: Session,
    actor: Principal,
    rng: random.Random,
    chosen: tuple[Product, _Made, str],
    s: int,
) -> int:
    """Specialty Robusta of the season ``s``: ripe cherry hand-picked on three plots in
    November–December, dried on raised beds, hulled, part of the green bean roasted and
    ground, packed in 250 g bags, inspected, shipped to the province's OCOP shop."""
    product, maker, _ = chosen
    n = s + 1
    prefix = "DM" if maker.plan.district_key == "dn.dakmil" else "CF"
    chain = _Chain(session, actor, maker, prefix, s)
    areas = _areas_of(session, maker.producer)[:3]
    added = 3 - len(areas)
    if added:
        created = datetime(s, 8, rng.randint(4, 28), 9, 30, tzinfo=VIETNAM)
        areas += _member_plots(session, rng, maker, added, created)
    windows = (
        (date(s, 11, 3), date(s, 11, 21), date(s, 11, 22)),
        (date(s, 11, 10), date(s, 12, 1), date(s, 12, 2)),
        (date(s, 11, 20), date(s, 12, 12), date(s, 12, 13)),
    )
    cherry = []
    for area, (start, end, day) in zip(areas, windows, strict=True):
        cherry.append(
            chain.harvest(
                area,
                "Quả cà phê vối tươi",
                Decimal(rng.randrange(42, 78) * 100),
                (start, end),
                chain.at(day, 17, 30),
                {"picking": "hái chọn, quả chín trên 95%", "variety": "Robusta (cà phê vối)"},
            )
        )
    total = sum((lot.quantity for lot in cherry), Decimal(0))
    dried = chain.transform(
        "drying",
        [(lot, lot.quantity) for lot in cherry],
        DRIED,
        "Cà phê quả khô",
        _part(rng, total, 0.44, 0.48),
        chain.at(date(s, 12, 29), 10),
        chain.place(cat.TRACE_DRYING_YARD),
        {"method": "phơi trên giàn trong nhà kính", "moisture_pct": 12.5},
    )
    green = chain.transform(
        "hulling",
        [(dried, dried.quantity)],
        HULLED,
        "Cà phê nhân xô",
        _part(rng, dried.quantity, 0.50, 0.54),
        chain.at(date(n, 1, 8), 9),
        chain.place(cat.TRACE_WORKSHOP),
    )
    # Only part of the green bean is roasted here; the rest is sold as green coffee.
    for_roasting = min(green.quantity, Decimal(rng.randrange(11, 15) * 100))
    roasted = chain.transform(
        "roasting",
        [(green, for_roasting)],
        ROASTED,
        "Cà phê rang",
        _part(rng, for_roasting, 0.82, 0.86),
        chain.at(date(n, 1, 20), 14),
        chain.place(cat.TRACE_WORKSHOP),
        {"roast": "rang mộc, mức vừa (medium)", "additives": "không tẩm ướp hương liệu"},
    )
    ground = chain.transform(
        "grinding",
        [(roasted, roasted.quantity)],
        GROUND,
        "Cà phê bột",
        _part(rng, roasted.quantity, 0.985, 0.995),
        chain.at(date(n, 1, 21), 9, 30),
        chain.place(cat.TRACE_WORKSHOP),
    )
    # A few bags' worth is lost in the packing machine.
    bags = int(ground.quantity / COFFEE_BAG_KG) - rng.randint(6, 20)
    packed = chain.pack(
        ground,
        ground.quantity,
        product,
        bags,
        COFFEE_BAG_KG,
        f"{product.name_vi} – túi 250 g",
        chain.at(date(n, 1, 22), 15),
    )
    chain.observe(
        EventKind.INSPECTION,
        packed,
        chain.at(date(n, 2, 3), 10),
        chain.place(cat.TRACE_WAREHOUSE),
        {
            "result": "đạt",
            "inspector": cat.TRACE_INSPECTOR,
            "standard": "TCVN 5251:2015",
            "samples": 3,
            "moisture_pct": round(rng.uniform(3.2, 4.4), 1),
            "limit_moisture_pct": 5.0,
            "label": "nhãn hàng hóa đúng Nghị định 43/2017/NĐ-CP, có mã QR truy xuất",
        },
    )
    shipped = min(packed.quantity, Decimal(rng.randrange(10, 15) * 100))
    chain.observe(
        EventKind.SHIPPING,
        packed,
        chain.at(date(n, 2, 10), 8),
        chain.place(cat.TRACE_WAREHOUSE),
        {"destination": cat.TRACE_SHOP},
        shipped,
    )
    chain.observe(
        EventKind.RECEIVING,
        packed,
        chain.at(date(n, 2, 11), 14),
        cat.TRACE_SHOP,
        {"source": chain.place(cat.TRACE_WAREHOUSE)},
        shipped,
    )
    return added


def _pepper_chain(
    session: Session,
    actor: Principal,
    rng: random.Random,
    chosen: tuple[Product, _Made, str],
    n: int,
) -> int:
    """Black pepper harvested in February–March of ``n``, sun-dried, sieved to 550 g/l,
    packed in 500 g pouches; a shipment recorded with a wrong count is corrected."""
    product, maker, _ = chosen
    chain = _Chain(session, actor, maker, "HT", n)
    area = _areas_of(session, maker.producer)[0]
    fresh = chain.harvest(
        area,
        "Hạt tiêu tươi",
        Decimal(rng.randrange(70, 96) * 100),
        (date(n, 2, 2), date(n, 2, 26)),
        chain.at(date(n, 2, 27), 16),
        {"picking": "hái cả chùm khi có quả chín trên chùm"},
    )
    dried = chain.transform(
        "drying",
        [(fresh, fresh.quantity)],
        DRIED,
        "Hạt tiêu đen khô",
        _part(rng, fresh.quantity, 0.34, 0.38),
        chain.at(date(n, 3, 12), 10),
        chain.place(cat.TRACE_DRYING_YARD),
        {"method": "tuốt hạt, phơi sân xi măng 7 nắng", "moisture_pct": 12.5},
    )
    sieved = chain.transform(
        "sorting",
        [(dried, dried.quantity)],
        SORTED,
        "Hạt tiêu đen khô sàng 550 g/l",
        _part(rng, dried.quantity, 0.94, 0.97),
        chain.at(date(n, 3, 16), 9),
        chain.place(cat.TRACE_WORKSHOP),
        {"density_g_per_l": 550, "foreign_matter_pct": 0.5},
    )
    pouches = min(rng.randrange(1500, 2000), int(sieved.quantity / PACKET_KG))
    packed = chain.pack(
        sieved,
        pouches * PACKET_KG,
        product,
        pouches,
        PACKET_KG,
        f"{product.name_vi} – túi 500 g",
        chain.at(date(n, 3, 20), 15),
    )
    right = rng.randrange(12, 15) * 100  # 1200, 1300 or 1400
    wrong = int(f"{str(right)[1]}{str(right)[0]}00")  # 2100, 3100, 4100: two digits swapped
    day = date(n, 3, 27)
    wrong_event = chain.observe(
        EventKind.SHIPPING,
        packed,
        chain.at(day, 9),
        chain.place(cat.TRACE_WAREHOUSE),
        {"destination": cat.TRACE_MARKET},
        wrong,
    )
    record_correction(
        session,
        actor,
        {
            "corrects_event_id": wrong_event.id,
            "event_time": chain.at(day, 16),
            "reason": cat.TRACE_SHIPPING_CORRECTION.format(
                place=cat.TRACE_MARKET.split(",")[0],
                day=f"{day:%d/%m/%Y}",
                right=f"{right:,}".replace(",", "."),
                wrong=f"{wrong:,}".replace(",", "."),
            ),
        },
    )
    chain.observe(
        EventKind.SHIPPING,
        packed,
        chain.at(day, 16, 5),
        chain.place(cat.TRACE_WAREHOUSE),
        {"destination": cat.TRACE_MARKET, "note": "ghi lại đúng số lượng sau đính chính"},
        right,
    )
    return 0


def _honey_chain(
    session: Session,
    actor: Principal,
    rng: random.Random,
    chosen: tuple[Product, _Made, str],
    n: int,
) -> int:
    """Honey of the flowering season of ``n`` (February–March), in litres, bottled in 500 ml
    bottles; a market sample fails on moisture and the harvest lot is recalled."""
    product, maker, material = chosen
    chain = _Chain(session, actor, maker, "MO", n)
    area = _areas_of(session, maker.producer)[0]
    hives = rng.randrange(120, 200)
    litres = Decimal(round(hives * rng.uniform(2.4, 3.0)))
    harvest = chain.harvest(
        area,
        material,
        litres,
        (date(n, 2, 24), date(n, 3, 18)),
        chain.at(date(n, 3, 19), 17),
        {"hives": hives, "method": "quay mật bằng máy ly tâm, lọc qua 3 lớp lưới"},
        Unit.LITRE,
    )
    bottles = int(harvest.quantity / HONEY_BOTTLE_L) - rng.randint(4, 12)  # filtering loss
    packed = chain.pack(
        harvest,
        harvest.quantity,
        product,
        bottles,
        HONEY_BOTTLE_KG,
        f"{product.name_vi} – chai 500 ml",
        chain.at(date(n, 3, 25), 15),
    )
    shipped = min(packed.quantity, Decimal(rng.randrange(150, 300)))
    chain.observe(
        EventKind.SHIPPING,
        packed,
        chain.at(date(n, 4, 2), 8),
        chain.place(cat.TRACE_WAREHOUSE),
        {"destination": cat.TRACE_SHOP},
        shipped,
    )
    moisture = round(rng.uniform(21.2, 22.4), 1)
    report = f"KQ-{n}-{rng.randrange(300, 900):04d}"
    chain.observe(
        EventKind.SAMPLING,
        packed,
        chain.at(date(n, 4, 20), 10),
        cat.TRACE_SHOP,
        {
            "result": "không đạt",
            "sampled_by": cat.TRACE_INSPECTOR,
            "laboratory": cat.TRACE_LAB,
            "report": report,
            "standard": "TCVN 12605:2019",
            "moisture_pct": moisture,
            "limit_moisture_pct": 20.0,
        },
        2,
    )
    recall_lot(
        session,
        actor,
        harvest,
        {
            "recalled_at": chain.at(date(n, 5, 4), 9),
            "decision": f"{rng.randrange(20, 90)}/TB-CCQLCL",
            "reason": cat.TRACE_HONEY_RECALL.format(
                moisture=f"{moisture}".replace(".", ","), report=report
            ),
        },
    )
    return 0


def _macadamia_chain(
    session: Session,
    actor: Principal,
    rng: random.Random,
    chosen: tuple[Product, _Made, str],
    s: int,
) -> int:
    """Macadamia picked in August–September of ``s``, husked and dried (cracked for the
    in-shell product, shelled for kernels), packed in 500 g bags."""
    product, maker, name = chosen
    chain = _Chain(session, actor, maker, "MC", s)
    area = _areas_of(session, maker.producer)[0]
    fresh = chain.harvest(
        area,
        "Quả mắc ca tươi (còn vỏ xanh)",
        Decimal(rng.randrange(50, 81) * 100),
        (date(s, 8, 25), date(s, 9, 20)),
        chain.at(date(s, 9, 21), 17),
        {"picking": "nhặt quả rụng và rung cây khi quả già"},
    )
    kernels = name.startswith("Nhân")
    dried = chain.transform(
        "drying",
        [(fresh, fresh.quantity)],
        DRIED,
        "Hạt mắc ca khô" if kernels else "Hạt mắc ca sấy nứt vỏ",
        _part(rng, fresh.quantity, 0.40, 0.44),
        chain.at(date(s, 10, 14), 10),
        chain.place(cat.TRACE_WORKSHOP),
        {"method": "tách vỏ xanh, phơi 2 tuần, sấy 38–45 °C", "moisture_pct": 1.5},
    )
    bulk = dried
    if kernels:
        bulk = chain.transform(
            "hulling",
            [(dried, dried.quantity)],
            HULLED,
            "Nhân mắc ca",
            _part(rng, dried.quantity, 0.30, 0.33),
            chain.at(date(s, 10, 18), 9),
            chain.place(cat.TRACE_WORKSHOP),
        )
    bags = min(rng.randrange(1200, 1600), int(bulk.quantity / PACKET_KG))
    chain.pack(
        bulk,
        bags * PACKET_KG,
        product,
        bags,
        PACKET_KG,
        f"{product.name_vi} – túi 500 g",
        chain.at(date(s, 10, 22), 15),
    )
    return 0


def _cashew_chain(
    session: Session,
    actor: Principal,
    rng: random.Random,
    chosen: tuple[Product, _Made, str],
    n: int,
) -> int:
    """Raw cashew nuts of the March harvest of ``n``, graded, then roasted over wood in the
    shell and shelled ("rang củi") or shelled and salt-roasted ("rang muối"), in 500 g jars."""
    product, maker, name = chosen
    chain = _Chain(session, actor, maker, "HD", n)
    area = _areas_of(session, maker.producer)[0]
    raw = chain.harvest(
        area,
        "Hạt điều thô",
        Decimal(rng.randrange(30, 61) * 100),
        (date(n, 2, 25), date(n, 3, 25)),
        chain.at(date(n, 3, 26), 17),
        {"picking": "nhặt hạt rụng, tách khỏi trái, phơi 2–3 nắng"},
    )
    graded = chain.transform(
        "sorting",
        [(raw, raw.quantity)],
        SORTED,
        "Hạt điều thô loại 1 (cỡ 160–180 hạt/kg)",
        _part(rng, raw.quantity, 0.92, 0.96),
        chain.at(date(n, 4, 3), 9),
        chain.place(cat.TRACE_WORKSHOP),
    )
    workshop = chain.place(cat.TRACE_WORKSHOP)
    if name == "Hạt điều rang củi":
        in_shell = chain.transform(
            "roasting",
            [(graded, graded.quantity)],
            ROASTED,
            "Hạt điều rang củi nguyên vỏ",
            _part(rng, graded.quantity, 0.80, 0.86),
            chain.at(date(n, 4, 6), 14),
            workshop,
            {"fuel": "củi cà phê, củi điều"},
        )
        bulk = chain.transform(
            "hulling",
            [(in_shell, in_shell.quantity)],
            HULLED,
            "Hạt điều rang củi còn vỏ lụa",
            _part(rng, in_shell.quantity, 0.30, 0.33),
            chain.at(date(n, 4, 8), 9),
            workshop,
        )
    else:
        kernels = chain.transform(
            "hulling",
            [(graded, graded.quantity)],
            HULLED,
            "Nhân điều còn vỏ lụa",
            _part(rng, graded.quantity, 0.26, 0.29),
            chain.at(date(n, 4, 6), 14),
            workshop,
        )
        bulk = chain.transform(
            "roasting",
            [(kernels, kernels.quantity)],
            ROASTED,
            "Hạt điều rang muối",
            _part(rng, kernels.quantity, 0.86, 0.89),
            chain.at(date(n, 4, 8), 9),
            workshop,
            {"salt": "muối hạt Sa Huỳnh"},
        )
    jars = min(rng.randrange(600, 900), int(bulk.quantity / PACKET_KG))
    chain.pack(
        bulk,
        jars * PACKET_KG,
        product,
        jars,
        PACKET_KG,
        f"{product.name_vi} – hũ 500 g",
        chain.at(date(n, 4, 10), 15),
    )
    return 0
