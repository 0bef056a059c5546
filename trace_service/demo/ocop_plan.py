"""The demo's OCOP history as it stands on the day of loading, worked out from ``ocop.csv``
and ``councils.toml`` without the database: each evaluation's dates, council and minutes,
each certificate's issuer, number and decision, each revocation's decision.

Dates in ``ocop.csv`` count days from the Monday of the week of loading, so every load finds
the same mix of valid, expiring, expired, revoked and superseded certificates, on working
days. Councils and issuers follow from the dates (``councils.toml``); document numbers rise
through each year in date order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from trace_service.certificates.rules import CouncilLevel, star_for
from trace_service.demo.files import days_from, optional, read_csv, read_toml
from trace_service.registry.units_data import UNITS

UNIT = {seed["key"]: seed for seed in UNITS}
PRODUCERS_DISTRICT = "district"  # in councils.toml: the producer's pre-merger district
# A round no council could take on its own dates moves by whole weeks, nearest first.
WEEK_SHIFTS = tuple(sorted(range(-8, 9), key=lambda w: (abs(w), w)))


@dataclass(frozen=True)
class Council:
    level: CouncilLevel
    unit: str  # a unit key, or PRODUCERS_DISTRICT
    issuer: str
    stars: frozenset[int]
    first: date | None
    last: date | None
    prefix: str
    decisions_per_day: float

    def sits(self, day: date, star: int) -> bool:
        return (
            star in self.stars
            and (self.first is None or self.first <= day)
            and (self.last is None or day <= self.last)
        )


@dataclass(frozen=True)
class Dates:
    """A round's days: its evaluation's and, for a certificate, its decision's, issue's and
    revocation's."""

    evaluated: date
    decided: date | None
    issued: date | None
    revoked: date | None

    @classmethod
    def read(cls, row: dict[str, str], anchor: date) -> Dates:
        issued = days_from(anchor, row["issued"])
        return cls(
            evaluated=anchor + timedelta(days=int(row["evaluated"])),
            decided=days_from(anchor, row["decided"]) or issued,
            issued=issued,
            revoked=days_from(anchor, row["revoked"]),
        )

    def every(self) -> list[date]:
        days = (self.evaluated, self.decided, self.issued, self.revoked)
        return [d for d in days if d is not None]


@dataclass
class Round:
    """One evaluation and, when it earned 3★ or more, its certificate (and revocation)."""

    product: str
    scores: tuple[int, int, int]
    mandatory_met: bool
    evaluated_on: date
    decision_date: date | None
    issue_date: date | None
    revoked_on: date | None
    notes: str | None
    revocation_reason: str | None
    district: str  # the producer's pre-merger district
    council: Council
    reference: str = ""  # the council's minutes
    number: str = ""
    decision_number: str = ""
    revoker: str = ""  # unit key of who revoked, and its decision
    revocation_decision: str = ""

    @property
    def star(self) -> int | None:
        return star_for(sum(self.scores), self.mandatory_met)

    @property
    def dates(self) -> list[date]:
        days = (self.evaluated_on, self.decision_date, self.issue_date, self.revoked_on)
        return [d for d in days if d is not None]

    def unit(self, role: str) -> str:
        """Unit key of its council's ``unit`` or ``issuer``."""
        return unit_of(self.council, role, self.district)


def plan_rounds(day: date) -> list[Round]:
    """Every round of ``ocop.csv`` placed around ``day``, councils assigned, documents
    numbered; in the order they happened."""
    monday = day - timedelta(days=day.weekday())
    councils = read_councils()
    districts = product_districts()
    rounds = [
        _place(row, monday, day, councils, districts[row["product"]])
        for row in read_csv("ocop.csv")
    ]
    rounds.sort(key=lambda r: (r.evaluated_on, r.product))
    _assign_revokers(rounds, councils)
    _number_certificates(rounds)
    _number_minutes(rounds)
    _number_decisions(rounds, councils)
    _fill_notes(rounds)
    return rounds


def read_councils() -> list[Council]:
    rows: list[dict[str, Any]] = read_toml("councils.toml")["council"]
    return [
        Council(
            level=CouncilLevel(row["level"]),
            unit=row["unit"],
            issuer=row["issuer"],
            stars=frozenset(row["stars"]),
            first=row.get("from"),
            last=row.get("until"),
            prefix=row["prefix"],
            decisions_per_day=row["decisions_per_day"],
        )
        for row in rows
    ]


def product_districts() -> dict[str, str]:
    """Each product's producer's district before the merger (the district council's)."""
    communes = {row["name"]: row["commune"] for row in read_csv("producers.csv")}
    return {
        row["name_vi"]: pre_merger_district(communes[row["producer"]])
        for row in read_csv("products.csv")
    }


def pre_merger_district(commune: str) -> str:
    """The district of an old commune, or of the first old commune a new one took over."""
    if UNIT[commune]["valid_to"] is None:
        commune = next(key for key, seed in UNIT.items() if seed["successor"] == commune)
    parent = UNIT[commune]["parent"]
    if parent is None:
        raise ValueError(f"{commune} is not a commune")
    return parent


def unit_of(council: Council, role: str, district: str) -> str:
    key: str = getattr(council, role)
    return district if key == PRODUCERS_DISTRICT else key


def exists(key: str, day: date) -> bool:
    seed = UNIT[key]
    return seed["valid_from"] <= day and (seed["valid_to"] is None or day <= seed["valid_to"])


def authority(key: str) -> str:
    """A People's Committee as printed on its documents: "UBND huyện Đắk Mil"."""
    name = UNIT[key]["name"]
    return f"UBND {name[0].lower()}{name[1:]}"


def short_name(key: str) -> str:
    name = UNIT[key]["name"]
    for prefix in ("Thành phố ", "Huyện ", "Tỉnh "):
        name = name.removeprefix(prefix)
    return name


def _place(
    row: dict[str, str], monday: date, day: date, councils: list[Council], district: str
) -> Round:
    """The round on its own dates if a council could take it, else moved by whole weeks."""
    scores = (int(row["score_a"]), int(row["score_b"]), int(row["score_c"]))
    star = star_for(sum(scores), True) or 0  # what its points earn, whatever its criteria
    for weeks in WEEK_SHIFTS:
        dates = Dates.read(row, monday + timedelta(weeks=weeks))
        council = _council_for(dates, star, district, councils, day)
        if council is not None:
            return Round(
                product=row["product"],
                scores=scores,
                mandatory_met=row["mandatory_met"] == "yes",
                evaluated_on=dates.evaluated,
                decision_date=dates.decided,
                issue_date=dates.issued,
                revoked_on=dates.revoked,
                notes=optional(row["notes"]),
                revocation_reason=optional(row["revocation_reason"]),
                district=district,
                council=council,
            )
    raise ValueError(f"ocop.csv: no council could rate {row['product']!r} near {monday}")


def _council_for(
    dates: Dates, star: int, district: str, councils: list[Council], day: date
) -> Council | None:
    """The council that rates a round of ``star`` on ``dates``, if its unit exists that
    day, its issuer when the certificate is decided and issued, and nothing is after ``day``."""
    if max(dates.every()) > day:
        return None
    council = next((c for c in councils if c.sits(dates.evaluated, star)), None)
    if council is None or not exists(unit_of(council, "unit", district), dates.evaluated):
        return None
    issuer = unit_of(council, "issuer", district)
    issued = [d for d in (dates.decided, dates.issued) if d is not None]
    return council if all(exists(issuer, d) for d in issued) else None


def _assign_revokers(rounds: list[Round], councils: list[Council]) -> None:
    """The issuer revokes while it exists; after it, the newest council's issuer for the star."""
    for r in rounds:
        if r.revoked_on is None:
            continue
        r.revoker = r.unit("issuer")
        if not exists(r.revoker, r.revoked_on):
            newest = [c for c in councils if r.star in c.stars][-1]
            r.revoker = unit_of(newest, "issuer", r.district)


def _number_certificates(rounds: list[Round]) -> None:
    """DNO-2024-0031: the issuer's prefix, the year, a serial rising through the year."""
    serials: Counter[tuple[str, int]] = Counter()
    certified = [(r.issue_date, r.evaluated_on, r.product, r) for r in rounds if r.issue_date]
    for issued, _, _, r in sorted(certified, key=lambda item: item[:3]):
        key = (r.council.prefix, issued.year)
        serials[key] += 1
        r.number = f"{key[0]}-{key[1]}-{serials[key]:04d}"


def _number_minutes(rounds: list[Round]) -> None:
    """One session of a council a day, its minutes numbered through the year."""
    sessions: dict[tuple[str, date], int] = {}
    per_year: Counter[tuple[str, int]] = Counter()
    for r in rounds:  # in date order
        unit, day = r.unit("unit"), r.evaluated_on
        if (unit, day) not in sessions:
            per_year[(unit, day.year)] += 1
            sessions[(unit, day)] = per_year[(unit, day.year)]
        level = "tỉnh" if UNIT[unit]["level"] == "province" else "huyện"
        r.reference = (
            f"Biên bản số {sessions[(unit, day)]:02d}/BB-HĐOCOP ngày {day:%d/%m/%Y} "
            f"của Hội đồng OCOP cấp {level} ({short_name(unit)})"
        )


def _number_decisions(rounds: list[Round], councils: list[Council]) -> None:
    """A People's Committee decides on all it recognises (or revokes) in a day in one
    decision, numbered as its decisions run through the year: about ``decisions_per_day``."""
    rates = {r.unit("issuer"): r.council.decisions_per_day for r in rounds}
    wanted = {(r.unit("issuer"), r.decision_date) for r in rounds if r.decision_date}
    wanted |= {(r.revoker, r.revoked_on) for r in rounds if r.revoked_on}
    numbers: dict[tuple[str, date], str] = {}
    last: Counter[tuple[str, int]] = Counter()
    for unit, day in sorted(wanted, key=lambda w: (w[1], w[0])):
        rate = rates.get(unit, councils[-1].decisions_per_day)
        n = max(last[(unit, day.year)] + 1, int(day.timetuple().tm_yday * rate))
        last[(unit, day.year)] = n
        numbers[(unit, day)] = f"{n}/QĐ-UBND"
    for r in rounds:
        if r.decision_date is not None:
            r.decision_number = numbers[(r.unit("issuer"), r.decision_date)]
        if r.revoked_on is not None:
            r.revocation_decision = numbers[(r.revoker, r.revoked_on)]


def _fill_notes(rounds: list[Round]) -> None:
    """ "{previous}" in a note is the number of the product's certificate before this one."""
    latest: dict[str, str] = {}
    for r in sorted(rounds, key=lambda r: r.issue_date or r.evaluated_on):
        if r.notes and "{previous}" in r.notes:
            r.notes = r.notes.replace("{previous}", latest[r.product])
        if r.number:
            latest[r.product] = r.number
