"""The plan board: the year's OCOP plan targets against actual figures by unit
(``certificates.reports.plan_report``), and three charts drawn by the server: standing
certificates by star in each district, certificates issued and expiring in each month of
the plan's year, and stamp scans in each of the last 12 weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import render_template, request
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate
from trace_service.certificates.reports import PLANS, plan_report
from trace_service.certificates.rules import CERTIFIED_STARS
from trace_service.certificates.standing import in_force_clause
from trace_service.clock import VIETNAM, today_vn
from trace_service.db import get_session
from trace_service.labels.models import label_scans
from trace_service.portal.access import page_roles
from trace_service.portal.office.blueprint import office
from trace_service.portal.office.charts import Series, bar_chart
from trace_service.principal import Role
from trace_service.registry.models import Producer, Product
from trace_service.registry.services import communes_of_district
from trace_service.web.i18n import t

WEEKS = 12
STARS = sorted(CERTIFIED_STARS)


@dataclass(frozen=True)
class Months:
    labels: list[str]  # "01/2025"
    issued: list[int]
    expiring: list[int]


def plan_year(asked: str | None, today: date) -> int:
    """The year asked for if a plan exists for it, else this year's plan, else the latest."""
    if asked and asked.isascii() and asked.isdigit() and int(asked) in PLANS:
        return int(asked)
    return today.year if today.year in PLANS else max(PLANS)


def month_years(session: Session, today: date) -> list[int]:
    """The years the monthly chart can show: from the first certificate issued to the last
    one's expiry (at most three years ahead), this year always among them."""
    first, last = session.execute(
        select(func.min(Certificate.issue_date), func.max(Certificate.valid_until))
    ).one()
    start = min(first.year if first else today.year, today.year)
    end = min(max(last.year if last else today.year, today.year), today.year + 3)
    return list(range(start, end + 1))


def month_year(asked: str | None, years: list[int], today: date) -> int:
    """The year asked for among ``years``, else this year (a year the data has not reached
    would be an empty chart, an unreadable one a 500)."""
    if asked and asked.isascii() and asked.isdigit() and len(asked) == 4 and int(asked) in years:
        return int(asked)
    return today.year


def stars_by_unit(
    session: Session, units: list[dict[str, Any]], today: date
) -> dict[int, dict[int, int]]:
    """Certificates in force today in each district, by star (a commune formed in 2025
    counts in its predecessors' district, as everywhere)."""
    found: dict[int, dict[int, int]] = {}
    for unit in units:
        rows = session.execute(
            select(Certificate.star, func.count())
            .join(Product)
            .join(Producer)
            .where(
                in_force_clause(today),
                Producer.commune_id.in_(communes_of_district(unit["unit_id"])),
            )
            .group_by(Certificate.star)
        )
        found[unit["unit_id"]] = {int(star): int(count) for star, count in rows}
    return found


def by_month(session: Session, year: int) -> Months:
    """Certificates issued, and certificates whose last valid day falls, in each month."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    issued = [0] * 12
    expiring = [0] * 12
    for (day,) in session.execute(
        select(Certificate.issue_date).where(Certificate.issue_date.between(start, end))
    ):
        issued[day.month - 1] += 1
    for (day,) in session.execute(
        select(Certificate.valid_until).where(Certificate.valid_until.between(start, end))
    ):
        expiring[day.month - 1] += 1
    return Months([f"{m:02d}/{year}" for m in range(1, 13)], issued, expiring)


def scans_by_week(session: Session, today: date) -> list[tuple[date, int]]:
    """Stamp page views in each of the last ``WEEKS`` weeks (Monday to Sunday, Vietnam time),
    oldest first; one indexed count a week, the same on SQLite and PostgreSQL."""
    monday = today - timedelta(days=today.weekday())
    weeks = []
    for back in range(WEEKS - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        since = datetime.combine(first, time(), VIETNAM)
        until = since + timedelta(weeks=1)
        count = session.scalar(
            select(func.count())
            .select_from(label_scans)
            .where(label_scans.c.scanned_at >= since, label_scans.c.scanned_at < until)
        )
        weeks.append((first, int(count or 0)))
    return weeks


def unit_charts(
    year: int, units: list[dict[str, Any]], stars: dict[int, dict[int, int]]
) -> dict[str, Markup]:
    names = [unit["name"] for unit in units]
    return {
        "stars": bar_chart(
            "chart-stars",
            t("Sản phẩm OCOP còn hiệu lực theo hạng sao, từng huyện", "Certified products by star"),
            t(
                "Số giấy chứng nhận còn hiệu lực hôm nay ở mỗi huyện, 3, 4 và 5 sao; "
                "bảng bên cạnh ghi cùng các số.",
                "Certificates in force today in each district by star; the table beside "
                "holds the same figures.",
            ),
            names,
            [
                Series(f"{star}★", css, [stars[u["unit_id"]].get(star, 0) for u in units])
                for star, css in zip(STARS, ("bar", "bar2", "bar3"), strict=False)
            ],
        ),
        "certified": bar_chart(
            "chart-certified",
            t(f"Sản phẩm được chứng nhận năm {year} so với chỉ tiêu", f"Certified in {year}"),
            t(
                f"Số sản phẩm được cấp giấy chứng nhận năm {year} ở mỗi huyện; vạch đỏ là chỉ "
                "tiêu của kế hoạch.",
                f"Products certified in {year} in each district; the red dash is the target.",
            ),
            names,
            [
                Series(
                    t("Đã chứng nhận", "Certified"), "bar", [u["products_certified"] for u in units]
                )
            ],
            targets=[u["target"] for u in units],
            target_name=t("Chỉ tiêu", "Target"),
        ),
    }


def time_charts(year: int, months: Months, weeks: list[tuple[date, int]]) -> dict[str, Markup]:
    return {
        "months": bar_chart(
            "chart-months",
            t(f"Giấy chứng nhận cấp và hết hạn theo tháng, {year}", f"Issued and expiring, {year}"),
            t(
                f"Mỗi tháng năm {year}: số giấy chứng nhận được cấp và số hết hạn.",
                f"Each month of {year}: certificates issued and certificates expiring.",
            ),
            months.labels,
            [
                Series(t("Cấp mới", "Issued"), "bar", months.issued),
                Series(t("Hết hạn", "Expiring"), "bar2", months.expiring),
            ],
        ),
        "scans": bar_chart(
            "chart-scans",
            t(f"Lượt quét tem trong {WEEKS} tuần qua", f"Stamp scans, last {WEEKS} weeks"),
            t(
                "Số lượt mở trang tem mỗi tuần (thứ Hai đến Chủ nhật).",
                "Stamp page views each week (Monday to Sunday).",
            ),
            [t("Tuần từ ", "Week of ") + f"{first:%d/%m}" for first, _ in weeks],
            [Series(t("Lượt quét", "Scans"), "bar3", [count for _, count in weeks])],
        ),
    }


@office.route("/ke-hoach")
@page_roles(Role.ADMIN)
def plan() -> str:
    session, today = get_session(), today_vn()
    year = plan_year(request.args.get("nam"), today)
    report = plan_report(session, year, today)
    units = report["per_district"]
    stars = stars_by_unit(session, units, today)
    chart_years = month_years(session, today)
    chart_year = month_year(request.args.get("nam_bieu_do"), chart_years, today)
    months = by_month(session, chart_year)
    weeks = scans_by_week(session, today)
    return render_template(
        "portal/office/plan.html",
        report=report,
        year=year,
        years=sorted(PLANS),
        stars=stars,
        star_list=STARS,
        months=months,
        chart_year=chart_year,
        chart_years=chart_years,
        weeks=weeks,
        charts={**unit_charts(year, units, stars), **time_charts(chart_year, months, weeks)},
    )
