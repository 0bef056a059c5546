"""Figures for the province office: certificates by status, star, district and group, and a
year's OCOP plan targets against what the registry shows.

Districts are counted through ``communes_of_district``: a producer registered in a commune
formed in 2025 counts in the district its commune's predecessors belonged to, the same rule
the ``district_id`` filters use. Statuses and "in force" are ``standing.py``'s, and what
an evaluation was entered for is ``rules.entered_for``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import CERTIFIED_STARS, Status, entered_for
from trace_service.certificates.standing import AsOf, in_force_clause, status_case
from trace_service.errors import NotFound
from trace_service.registry.enums import Platform, UnitLevel
from trace_service.registry.models import AdministrativeUnit, Listing, Producer, Product
from trace_service.registry.services import communes_of_district


@dataclass(frozen=True)
class Plan:
    source: str
    entered_3_star: int
    entered_4_star: int
    national_dossiers: int
    per_district: int
    listed_share_pct: int


# The province's yearly OCOP plans; add a year when its plan is issued.
PLANS = {
    2025: Plan(
        source="Kế hoạch 93/KH-UBND ngày 19/02/2025 của UBND tỉnh Đắk Nông",
        entered_3_star=30,
        entered_4_star=5,
        national_dossiers=1,
        per_district=4,
        listed_share_pct=100,
    )
}


def _districts(session: Session, start: date, end: date) -> list[tuple[int, str]]:
    """The district-level units that existed at some time between ``start`` and ``end``."""
    return [
        (unit_id, name)
        for unit_id, name in session.execute(
            select(AdministrativeUnit.id, AdministrativeUnit.name)
            .where(
                AdministrativeUnit.level == UnitLevel.DISTRICT,
                AdministrativeUnit.valid_from <= end,
                or_(AdministrativeUnit.valid_to.is_(None), AdministrativeUnit.valid_to >= start),
            )
            .order_by(AdministrativeUnit.name)
        )
    ]


def certificate_stats(session: Session, as_of: AsOf) -> dict[str, Any]:
    today = as_of.day
    status = status_case(today, as_of.window_days).label("status")
    standing = in_force_clause(today)

    def counts(stmt: Any) -> dict[Any, int]:
        return dict(session.execute(stmt).all())

    by_status = counts(select(status, func.count()).select_from(Certificate).group_by(status))
    by_star = counts(
        select(Certificate.star, func.count()).where(standing).group_by(Certificate.star)
    )
    by_group = counts(
        select(Product.product_group, func.count())
        .select_from(Certificate)
        .join(Product)
        .where(standing)
        .group_by(Product.product_group)
    )
    by_district = []
    for district_id, name in _districts(session, date.min, today):
        per_status = counts(
            select(status, func.count())
            .select_from(Certificate)
            .join(Product)
            .join(Producer)
            .where(Producer.commune_id.in_(communes_of_district(district_id)))
            .group_by(status)
        )
        by_district.append({"unit_id": district_id, "name": name, "by_status": per_status})
    return {
        "day": today,
        "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
        "standing_by_star": {str(s): by_star.get(s, 0) for s in sorted(CERTIFIED_STARS)},
        "standing_by_product_group": {str(k): v for k, v in by_group.items()},
        "by_unit": by_district,
    }


def _plan(year: int) -> Plan:
    plan = PLANS.get(year)
    if plan is None:
        raise NotFound(
            f"Không có kế hoạch OCOP cho năm {year}.",
            f"No OCOP plan is recorded for {year}; plans: {sorted(PLANS)}.",
        )
    return plan


def _entered(session: Session, start: date, end: date) -> dict[int, int]:
    """How many products were entered for each star between ``start`` and ``end``: rated
    by a council whose task was that star (``rules.entered_for``)."""
    products: dict[int, set[int]] = {}
    for product_id, level, day, total in session.execute(
        select(
            Evaluation.product_id,
            Evaluation.council_level,
            Evaluation.evaluated_on,
            Evaluation.total,
        ).where(Evaluation.evaluated_on.between(start, end))
    ):
        star = entered_for(level, day, total)
        if star is not None:
            products.setdefault(star, set()).add(product_id)
    return {star: len(ids) for star, ids in products.items()}


def _per_district(session: Session, plan: Plan, start: date, end: date) -> list[dict[str, Any]]:
    """Products certified in the year in each district against the plan's target."""
    certified_in_year = (
        select(func.count(distinct(Certificate.product_id)))
        .join(Product)
        .join(Producer)
        .where(Certificate.issue_date.between(start, end))
    )
    per_district = []
    for district_id, name in _districts(session, start, end):
        count = (
            session.scalar(
                certified_in_year.where(Producer.commune_id.in_(communes_of_district(district_id)))
            )
            or 0
        )
        per_district.append(
            {
                "unit_id": district_id,
                "name": name,
                "products_certified": count,
                "target": plan.per_district,
                "met": count >= plan.per_district,
            }
        )
    return per_district


@dataclass(frozen=True)
class _Listed:
    """Shares of the products certified on a day that are listed on some platforms."""

    session: Session
    certified: Any  # SELECT of the product ids in force
    count: int

    @classmethod
    def on(cls, session: Session, today: date) -> _Listed:
        certified = select(Certificate.product_id).where(in_force_clause(today)).distinct()
        count = session.scalar(select(func.count()).select_from(certified.subquery())) or 0
        return cls(session, certified, count)

    def share(self, condition: Any) -> float | None:
        if not self.count:
            return None
        listed = self.session.scalar(
            select(func.count(distinct(Listing.product_id))).where(
                Listing.product_id.in_(self.certified), condition
            )
        )
        return round(100 * (listed or 0) / self.count, 1)


def _target(key: str, vi: str, en: str, goal: float, actual: float | None) -> dict[str, Any]:
    return {
        "key": key,
        "label": vi,
        "label_en": en,
        "target": goal,
        "actual": actual,
        "met": actual is not None and actual >= goal,
    }


def _targets(plan: Plan, entered: dict[int, int], listed: _Listed) -> list[dict[str, Any]]:
    return [
        _target(
            "entered_3_star",
            "Sản phẩm dự thi OCOP 3 sao",
            "Products entered for 3★",
            plan.entered_3_star,
            entered.get(3, 0),
        ),
        _target(
            "entered_4_star",
            "Sản phẩm dự thi OCOP 4 sao cấp tỉnh",
            "Products entered for 4★ (province)",
            plan.entered_4_star,
            entered.get(4, 0),
        ),
        _target(
            "national_dossiers",
            "Hồ sơ đánh giá cấp quốc gia (5 sao)",
            "National (5★) dossiers",
            plan.national_dossiers,
            entered.get(5, 0),
        ),
        _target(
            "ecommerce_share_pct",
            "Tỷ lệ sản phẩm OCOP có trên sàn thương mại điện tử (%)",
            "Certified products on an e-commerce platform (%)",
            plan.listed_share_pct,
            listed.share(Listing.platform != Platform.PROVINCE_OCOP_SITE),
        ),
        _target(
            "ocop_site_share_pct",
            "Tỷ lệ sản phẩm OCOP trên website OCOP của tỉnh (%)",
            "Certified products on the provincial OCOP website (%)",
            plan.listed_share_pct,
            listed.share(Listing.platform == Platform.PROVINCE_OCOP_SITE),
        ),
    ]


def plan_report(session: Session, year: int, today: date) -> dict[str, Any]:
    """The plan's targets beside actual figures. "Entered for 3★" counts products rated by a
    council whose task was 3★: a district council before 6 Jul 2025, a province council
    from then on when the total was below the 4★ band; "entered for 4★" counts province
    ratings before 6 Jul 2025 (province councils then rated for 4★ only) and those in the
    4★ band or above after; national dossiers are central ratings (``rules.entered_for``)."""
    plan = _plan(year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    listed = _Listed.on(session, today)
    return {
        "year": year,
        "source": plan.source,
        "targets": _targets(plan, _entered(session, start, end), listed),
        "per_district": _per_district(session, plan, start, end),
        "certified_products": listed.count,
        "day": today,
    }
