"""Figures for the province office: certificates by status, star, district and group, and the
2025 plan's targets (Kế hoạch 93/KH-UBND) against what the registry shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from trace_service.certificates.models import Certificate, Evaluation
from trace_service.certificates.rules import CouncilLevel, Status
from trace_service.certificates.services import status_filter
from trace_service.registry.enums import Platform, UnitLevel
from trace_service.registry.models import AdministrativeUnit, Listing, Producer, Product
from trace_service.registry.services import communes_of_district


def _status_case(today: date, window_days: int) -> Any:
    return case(*((status_filter(s, today, window_days), s.value) for s in Status))


def _commune_and_parent() -> tuple[Any, Any]:
    """Aliases for a producer's commune and the unit above it: its district before the 2025
    merger, the province after it (communes then sit directly under the province)."""
    return aliased(AdministrativeUnit), aliased(AdministrativeUnit)


def certificate_stats(session: Session, today: date, window_days: int) -> dict[str, Any]:
    status = _status_case(today, window_days).label("status")
    by_status = dict(
        session.execute(
            select(status, func.count()).select_from(Certificate).group_by(status)
        ).all()
    )
    standing = status_filter(Status.VALID, today, window_days) | status_filter(
        Status.EXPIRING, today, window_days
    )
    by_star = dict(
        session.execute(
            select(Certificate.star, func.count()).where(standing).group_by(Certificate.star)
        ).all()
    )
    by_group = dict(
        session.execute(
            select(Product.product_group, func.count())
            .select_from(Certificate)
            .join(Product)
            .where(standing)
            .group_by(Product.product_group)
        ).all()
    )
    commune, parent = _commune_and_parent()
    district_rows = session.execute(
        select(parent.id, parent.name, parent.level, status, func.count())
        .select_from(Certificate)
        .join(Product)
        .join(Producer)
        .join(commune, Producer.commune_id == commune.id)
        .join(parent, commune.parent_id == parent.id)
        .group_by(parent.id, parent.name, parent.level, status)
    ).all()
    by_unit: dict[int, dict[str, Any]] = {}
    for unit_id, name, level, state, count in district_rows:
        entry = by_unit.setdefault(
            unit_id, {"unit_id": unit_id, "name": name, "level": level, "by_status": {}}
        )
        entry["by_status"][state] = count
    return {
        "day": today,
        "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
        "standing_by_star": {str(s): by_star.get(s, 0) for s in (3, 4, 5)},
        "standing_by_product_group": {str(k): v for k, v in by_group.items()},
        "by_unit": sorted(by_unit.values(), key=lambda e: e["name"]),
    }


def plan_report(session: Session, year: int, today: date, window_days: int) -> dict[str, Any]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    in_year = Evaluation.evaluated_on.between(start, end)

    def products_evaluated(*conditions: Any) -> int:
        return (
            session.scalar(
                select(func.count(distinct(Evaluation.product_id))).where(in_year, *conditions)
            )
            or 0
        )

    entered_3 = products_evaluated(
        (Evaluation.council_level == CouncilLevel.DISTRICT) | (Evaluation.total.between(50, 69))
    )
    entered_4 = products_evaluated(
        Evaluation.council_level == CouncilLevel.PROVINCE, Evaluation.total >= 70
    )
    national = products_evaluated(Evaluation.council_level == CouncilLevel.CENTRAL)

    districts = session.execute(
        select(AdministrativeUnit.id, AdministrativeUnit.name)
        .where(
            AdministrativeUnit.level == UnitLevel.DISTRICT,
            AdministrativeUnit.valid_from <= end,
            (AdministrativeUnit.valid_to.is_(None)) | (AdministrativeUnit.valid_to >= start),
        )
        .order_by(AdministrativeUnit.name)
    ).all()
    certified_in_year = (
        select(func.count(distinct(Certificate.product_id)))
        .join(Product)
        .join(Producer)
        .where(Certificate.issue_date.between(start, end))
    )
    counted = {
        d_id: session.scalar(
            certified_in_year.where(Producer.commune_id.in_(communes_of_district(d_id)))
        )
        for d_id, _ in districts
    }
    district_list = [
        {
            "unit_id": d_id,
            "name": name,
            "products_certified": counted.get(d_id, 0),
            "target": 4,
            "met": counted.get(d_id, 0) >= 4,
        }
        for d_id, name in districts
    ]

    standing = status_filter(Status.VALID, today, window_days) | status_filter(
        Status.EXPIRING, today, window_days
    )
    certified = select(Certificate.product_id).where(standing).distinct().subquery()
    certified_count = session.scalar(select(func.count()).select_from(certified)) or 0

    def share_listed(*conditions: Any) -> float | None:
        if not certified_count:
            return None
        listed = (
            session.scalar(
                select(func.count(distinct(Listing.product_id))).where(
                    Listing.product_id.in_(select(certified.c.product_id)), *conditions
                )
            )
            or 0
        )
        return round(100 * listed / certified_count, 1)

    ecommerce = share_listed(Listing.platform != Platform.PROVINCE_OCOP_SITE)
    ocop_site = share_listed(Listing.platform == Platform.PROVINCE_OCOP_SITE)

    def target(key: str, vi: str, en: str, goal: float, actual: float | None) -> dict[str, Any]:
        return {
            "key": key,
            "label": vi,
            "label_en": en,
            "target": goal,
            "actual": actual,
            "met": actual is not None and actual >= goal,
        }

    return {
        "year": year,
        "source": "Kế hoạch 93/KH-UBND ngày 19/02/2025 của UBND tỉnh Đắk Nông",
        "targets": [
            target(
                "entered_3_star",
                "Sản phẩm dự thi OCOP 3 sao",
                "Products entered for 3★",
                30,
                entered_3,
            ),
            target(
                "entered_4_star",
                "Sản phẩm dự thi OCOP 4 sao cấp tỉnh",
                "Products entered for 4★ (province)",
                5,
                entered_4,
            ),
            target(
                "national_dossiers",
                "Hồ sơ đánh giá cấp quốc gia (5 sao)",
                "National (5★) dossiers",
                1,
                national,
            ),
            target(
                "ecommerce_share_pct",
                "Tỷ lệ sản phẩm OCOP có trên sàn thương mại điện tử (%)",
                "Certified products on an e-commerce platform (%)",
                100,
                ecommerce,
            ),
            target(
                "ocop_site_share_pct",
                "Tỷ lệ sản phẩm OCOP trên website OCOP của tỉnh (%)",
                "Certified products on the provincial OCOP website (%)",
                100,
                ocop_site,
            ),
        ],
        "per_district": district_list,
        "certified_products": certified_count,
        "day": today,
        "window_days": window_days,
    }
