"""Figures for the province office: certificates by status, star, district and group, and a
year's OCOP plan targets against the records the plan counts (dossiers with their dates,
dated listings), each figure saying how it was counted.

Districts are counted through ``communes_of_district``: a producer registered in a commune
formed in 2025 counts in the district its commune's predecessors belonged to, the same rule
the ``district_id`` filters use. Statuses and "in force" are ``standing.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, Dossier, Evaluation
from trace_service.certificates.rules import CERTIFIED_STARS, Status
from trace_service.certificates.standing import AsOf, in_force_clause, status_case
from trace_service.clock import vn_date
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
    # The calendar, as (month, day) in the plan's year: 3★ ratings by, dossiers to the
    # province by, provincial decisions and national dossiers by.
    rated: tuple[int, int] = (9, 10)
    submitted: tuple[int, int] = (9, 15)
    national: tuple[int, int] = (10, 15)

    def rated_by(self, year: int) -> date:
        return date(year, *self.rated)

    def submitted_by(self, year: int) -> date:
        return date(year, *self.submitted)

    def national_by(self, year: int) -> date:
        return date(year, *self.national)


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


# Where a listing counts as "on an e-commerce platform" (sàn giao dịch thương mại điện tử):
# marketplaces where shoppers order and pay. A Facebook page, a Zalo shop, the producer's own
# site or the province's OCOP website are sales channels, not platforms.
ECOMMERCE_PLATFORMS = frozenset(
    {
        Platform.SHOPEE,
        Platform.LAZADA,
        Platform.TIKI,
        Platform.TIKTOK_SHOP,
        Platform.SENDO,
        Platform.POSTMART,
        Platform.VOSO,
    }
)


@dataclass(frozen=True)
class _Listed:
    """Shares of the products certified on a day that were listed, by that day, on some
    platforms; listings without a date are not counted, and are said so."""

    session: Session
    certified: Any  # SELECT of the product ids in force
    count: int
    day: date

    @classmethod
    def on(cls, session: Session, today: date) -> _Listed:
        certified = select(Certificate.product_id).where(in_force_clause(today)).distinct()
        count = session.scalar(select(func.count()).select_from(certified.subquery())) or 0
        return cls(session, certified, count, today)

    def _products(self, platforms: Any, *conditions: Any) -> int:
        return (
            self.session.scalar(
                select(func.count(distinct(Listing.product_id))).where(
                    Listing.product_id.in_(self.certified), platforms, *conditions
                )
            )
            or 0
        )

    def share(self, platforms: Any) -> float | None:
        if not self.count:
            return None
        listed = self._products(platforms, Listing.listed_on <= self.day)
        return round(100 * listed / self.count, 1)

    def counted(self, platforms: Any, where_vi: str, where_en: str) -> tuple[str, str]:
        dated = self._products(platforms, Listing.listed_on <= self.day)
        undated = self._products(platforms, Listing.listed_on.is_(None))
        day_vi, day_en = vn_date(self.day), self.day.isoformat()
        return (
            f"{dated}/{self.count} sản phẩm có giấy chứng nhận còn hiệu lực ngày {day_vi} "
            f"đã đăng {where_vi} đến ngày đó; {undated} sản phẩm có tin đăng không ghi ngày "
            "nên không được tính",
            f"{dated} of the {self.count} products with a certificate in force on {day_en} "
            f"were listed {where_en} by that day; {undated} with undated listings only are "
            "not counted",
        )


@dataclass(frozen=True)
class _Dossiers:
    """The year's dossiers, as the plan counts them."""

    session: Session
    year: int

    def _select(self, star: int, *conditions: Any) -> int:
        return (
            self.session.scalar(
                select(func.count(distinct(Dossier.product_id))).where(
                    Dossier.year == self.year, Dossier.target_star == star, *conditions
                )
            )
            or 0
        )

    def registered(self, star: int) -> int:
        return self._select(star)

    def submitted(self, star: int, by: date) -> tuple[int, int]:
        """Dossiers for ``star`` submitted by ``by``, and those submitted later."""
        return (
            self._select(star, Dossier.submitted_on <= by),
            self._select(star, Dossier.submitted_on > by),
        )

    def rated(self, star: int, by: date) -> int:
        """Candidates for ``star`` with a council's rating of the year made by ``by``."""
        rated = select(Evaluation.product_id).where(
            Evaluation.evaluated_on.between(date(self.year, 1, 1), by)
        )
        return self._select(star, Dossier.product_id.in_(rated))


def _target(
    key: str,
    label: tuple[str, str],
    goal: float,
    actual: float | None,
    counted: tuple[str, str],
    deadline: date | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "label": label[0],
        "label_en": label[1],
        "target": goal,
        "actual": actual,
        "met": actual is not None and actual >= goal,
        "counted": counted[0],
        "counted_en": counted[1],
        "deadline": deadline.isoformat() if deadline else None,
    }


def _entry_targets(plan: Plan, dossiers: _Dossiers) -> list[dict[str, Any]]:
    year = dossiers.year
    three, four = dossiers.registered(3), dossiers.registered(4)
    national, late = dossiers.submitted(5, plan.national_by(year))
    return [
        _target(
            "entered_3_star",
            ("Sản phẩm dự thi OCOP 3 sao", "Products entered for 3★"),
            plan.entered_3_star,
            three,
            (
                f"Sản phẩm đăng ký dự thi 3 sao trong đợt đánh giá năm {year} (hồ sơ OCOP)",
                f"Products registered for 3★ in the {year} evaluation round (OCOP dossiers)",
            ),
        ),
        _target(
            "entered_4_star",
            ("Sản phẩm dự thi OCOP 4 sao cấp tỉnh", "Products entered for 4★ (province)"),
            plan.entered_4_star,
            four,
            (
                f"Sản phẩm đăng ký dự thi 4 sao trong đợt đánh giá năm {year} (hồ sơ OCOP)",
                f"Products registered for 4★ in the {year} evaluation round (OCOP dossiers)",
            ),
        ),
        _target(
            "national_dossiers",
            ("Hồ sơ nộp đánh giá cấp quốc gia (5 sao)", "National (5★) dossiers submitted"),
            plan.national_dossiers,
            national,
            (
                f"Hồ sơ 5 sao năm {year} đã nộp đến ngày {vn_date(plan.national_by(year))}; "
                f"{late} hồ sơ nộp sau hạn không được tính",
                f"5★ dossiers of {year} submitted by {plan.national_by(year).isoformat()}; "
                f"{late} submitted after the deadline are not counted",
            ),
            plan.national_by(year),
        ),
    ]


def _deadline_targets(plan: Plan, dossiers: _Dossiers) -> list[dict[str, Any]]:
    year = dossiers.year
    rated_by, submit_by = plan.rated_by(year), plan.submitted_by(year)
    three, four = dossiers.registered(3), dossiers.registered(4)
    submitted, late = dossiers.submitted(4, submit_by)
    return [
        _target(
            "rated_3_star_by_deadline",
            ("Sản phẩm dự thi 3 sao đã được đánh giá đúng hạn", "3★ candidates rated in time"),
            three,
            dossiers.rated(3, rated_by),
            (
                f"Sản phẩm đăng ký 3 sao năm {year} có kết quả đánh giá của hội đồng đến ngày "
                f"{vn_date(rated_by)}, trên tổng số sản phẩm đăng ký",
                f"3★ candidates of {year} with a council's rating by {rated_by.isoformat()}, "
                "against all registered",
            ),
            rated_by,
        ),
        _target(
            "submitted_4_star_by_deadline",
            ("Hồ sơ 4 sao nộp cấp tỉnh đúng hạn", "4★ dossiers submitted to the province in time"),
            four,
            submitted,
            (
                f"Hồ sơ 4 sao năm {year} nộp đến ngày {vn_date(submit_by)}, trên tổng số đăng "
                f"ký; {late} hồ sơ nộp sau hạn",
                f"4★ dossiers of {year} submitted by {submit_by.isoformat()}, against all "
                f"registered; {late} submitted late",
            ),
            submit_by,
        ),
    ]


def _listing_targets(plan: Plan, listed: _Listed) -> list[dict[str, Any]]:
    ecommerce = Listing.platform.in_(sorted(ECOMMERCE_PLATFORMS))
    ocop_site = Listing.platform == Platform.PROVINCE_OCOP_SITE
    names = ", ".join(sorted(p.value for p in ECOMMERCE_PLATFORMS))
    return [
        _target(
            "ecommerce_share_pct",
            (
                "Tỷ lệ sản phẩm OCOP có trên sàn thương mại điện tử (%)",
                "Certified products on an e-commerce platform (%)",
            ),
            plan.listed_share_pct,
            listed.share(ecommerce),
            listed.counted(
                ecommerce,
                f"trên sàn thương mại điện tử ({names}; không tính Facebook, Zalo, website riêng)",
                f"on an e-commerce platform ({names}; not Facebook, Zalo or own sites)",
            ),
        ),
        _target(
            "ocop_site_share_pct",
            (
                "Tỷ lệ sản phẩm OCOP trên website OCOP của tỉnh (%)",
                "Certified products on the provincial OCOP website (%)",
            ),
            plan.listed_share_pct,
            listed.share(ocop_site),
            listed.counted(ocop_site, "trên website OCOP của tỉnh", "on the province's OCOP site"),
        ),
    ]


def plan_report(session: Session, year: int, today: date) -> dict[str, Any]:
    """The plan's targets beside actual figures from the records the plan counts: each
    target says how it was counted (``counted``, ``counted_en``) and, for a deadline, which
    day (``deadline``). Products entered for a star are the year's OCOP dossiers registered
    for it; national dossiers are those submitted by the plan's day; listings count on the
    day they were made, on e-commerce platforms only (``ECOMMERCE_PLATFORMS``)."""
    plan = _plan(year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    listed = _Listed.on(session, today)
    dossiers = _Dossiers(session, year)
    return {
        "year": year,
        "source": plan.source,
        "targets": [
            *_entry_targets(plan, dossiers),
            *_listing_targets(plan, listed),
            *_deadline_targets(plan, dossiers),
        ],
        "per_district": _per_district(session, plan, start, end),
        "certified_products": listed.count,
        "ecommerce_platforms": sorted(p.value for p in ECOMMERCE_PLATFORMS),
        "day": today,
    }
