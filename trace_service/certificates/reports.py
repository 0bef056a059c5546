"""Figures for the province office: certificates by status, star, district and group, and a
year's OCOP plan targets against what the registry shows.

Districts are counted through ``communes_of_district``: a producer registered in a commune
formed in 2025 counts in the district its commune's predecessors belonged to, the same rule
the ``district_id`` filters use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import RULE_CHANGE_1489, CouncilLevel, Status
from trace_service.certificates.services import standing_filter, status_filter
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


def certificate_stats(session: Session, today: date, window_days: int) -> dict[str, Any]:
    status = case(*((status_filter(s, today, window_days), s.value) for s in Status)).label(
        "status"
    )
    standing = standing_filter(today)

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
        "standing_by_star": {str(s): by_star.get(s, 0) for s in (3, 4, 5)},
        "standing_by_product_group": {str(k): v for k, v in by_group.items()},
        "by_unit": by_district,
    }


def plan_report(session: Session, year: int, today: date) -> dict[str, Any]:
    """The plan's targets beside actual figures. "Entered for 3★" counts products rated by a
    council whose task was 3★: a district council before 6 Jul 2025, a province council
    from then on when the total was under 70; "entered for 4★" counts province ratings
    before 6 Jul 2025 (province councils then rated for 4★ only) and those with 70 or more
    after; national dossiers are central ratings."""
    plan = PLANS.get(year)
    if plan is None:
        raise NotFound(
            f"Không có kế hoạch OCOP cho năm {year}.",
            f"No OCOP plan is recorded for {year}; plans: {sorted(PLANS)}.",
        )
    start, end = date(year, 1, 1), date(year, 12, 31)
    before_1489 = Evaluation.evaluated_on < RULE_CHANGE_1489
    province = Evaluation.council_level == CouncilLevel.PROVINCE

    def products_evaluated(condition: Any) -> int:
        return (
            session.scalar(
                select(func.count(distinct(Evaluation.product_id))).where(
                    Evaluation.evaluated_on.between(start, end), condition
                )
            )
            or 0
        )

    entered_3 = products_evaluated(
        or_(
            and_(Evaluation.council_level == CouncilLevel.DISTRICT, before_1489),
            and_(province, ~before_1489, Evaluation.total < 70),
        )
    )
    entered_4 = products_evaluated(and_(province, or_(before_1489, Evaluation.total >= 70)))
    national = products_evaluated(Evaluation.council_level == CouncilLevel.CENTRAL)

    certified_in_year = (
        select(func.count(distinct(Certificate.product_id)))
        .join(Product)
        .join(Producer)
        .where(Certificate.issue_date.between(start, end))
    )
    per_district = []
    for district_id, name in _districts(session, start, end):
        count = session.scalar(
            certified_in_year.where(Producer.commune_id.in_(communes_of_district(district_id)))
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

    certified = select(Certificate.product_id).where(standing_filter(today)).distinct()
    certified_count = session.scalar(select(func.count()).select_from(certified.subquery())) or 0

    def share_listed(condition: Any) -> float | None:
        if not certified_count:
            return None
        listed = session.scalar(
            select(func.count(distinct(Listing.product_id))).where(
                Listing.product_id.in_(certified), condition
            )
        )
        return round(100 * (listed or 0) / certified_count, 1)

    def target(key: str, vi: str, en: str, goal: float, actual: float | None) -> dict[str, Any]:
        met = actual is not None and actual >= goal
        return {
            "key": key,
            "label": vi,
            "label_en": en,
            "target": goal,
            "actual": actual,
            "met": met,
        }

    return {
        "year": year,
        "source": plan.source,
        "targets": [
            target(
                "entered_3_star",
                "Sản phẩm dự thi OCOP 3 sao",
                "Products entered for 3★",
                plan.entered_3_star,
                entered_3,
            ),
            target(
                "entered_4_star",
                "Sản phẩm dự thi OCOP 4 sao cấp tỉnh",
                "Products entered for 4★ (province)",
                plan.entered_4_star,
                entered_4,
            ),
            target(
                "national_dossiers",
                "Hồ sơ đánh giá cấp quốc gia (5 sao)",
                "National (5★) dossiers",
                plan.national_dossiers,
                national,
            ),
            target(
                "ecommerce_share_pct",
                "Tỷ lệ sản phẩm OCOP có trên sàn thương mại điện tử (%)",
                "Certified products on an e-commerce platform (%)",
                plan.listed_share_pct,
                share_listed(Listing.platform != Platform.PROVINCE_OCOP_SITE),
            ),
            target(
                "ocop_site_share_pct",
                "Tỷ lệ sản phẩm OCOP trên website OCOP của tỉnh (%)",
                "Certified products on the provincial OCOP website (%)",
                plan.listed_share_pct,
                share_listed(Listing.platform == Platform.PROVINCE_OCOP_SITE),
            ),
        ],
        "per_district": per_district,
        "certified_products": certified_count,
        "day": today,
    }
