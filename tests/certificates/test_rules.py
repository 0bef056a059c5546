"""Star bands, who may certify what and when, and how long a certificate lasts."""

from __future__ import annotations

from datetime import date

import pytest

from trace_service.certificates.rules import (
    PERIODS,
    STAR_BANDS,
    CouncilLevel,
    Status,
    add_months,
    entered_for,
    period_on,
    star_floor,
    star_for,
    stars_council_may_certify,
    status_on,
    valid_until,
)


@pytest.mark.parametrize(
    "total, star",
    [(0, 1), (29, 1), (30, 2), (49, 2), (50, 3), (69, 3), (70, 4), (89, 4), (90, 5), (100, 5)],
)
def test_each_total_falls_in_its_star_band(total, star):
    assert star_for(total, mandatory_met=True) == star


def test_a_failed_mandatory_criterion_means_not_certified_whatever_the_points():
    assert star_for(95, mandatory_met=False) is None


@pytest.mark.parametrize("total", [-1, 101])
def test_a_total_outside_0_to_100_is_an_error(total):
    with pytest.raises(ValueError, match="outside"):
        star_for(total, True)


@pytest.mark.parametrize(
    "level, day, stars",
    [
        (CouncilLevel.DISTRICT, date(2025, 6, 30), {3}),
        (CouncilLevel.PROVINCE, date(2025, 6, 30), {4}),
        (CouncilLevel.CENTRAL, date(2025, 6, 30), {5}),
        (CouncilLevel.DISTRICT, date(2025, 7, 6), set()),
        (CouncilLevel.PROVINCE, date(2025, 7, 6), {3, 4}),
        (CouncilLevel.CENTRAL, date(2025, 7, 6), {5}),
    ],
)
def test_councils_certify_what_decision_148_then_1489_allowed(level, day, stars):
    """Decision 148/QĐ-TTg to 30 Jun 2025, Decision 1489/QĐ-TTg from 6 Jul 2025."""
    assert stars_council_may_certify(level, day) == stars


@pytest.mark.parametrize(
    "issued, last_valid_day",
    [
        (date(2022, 3, 15), date(2025, 3, 15)),
        (date(2024, 2, 29), date(2027, 2, 28)),  # no 29 Feb in 2027: the month's last day
        (date(2023, 8, 31), date(2026, 8, 31)),
        (date(2022, 12, 31), date(2025, 12, 31)),
        (date(2021, 1, 1), date(2024, 1, 1)),
    ],
)
def test_a_certificate_lasts_36_calendar_months(issued, last_valid_day):
    assert valid_until(issued) == last_valid_day


def test_adding_months_clamps_to_the_end_of_shorter_months():
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


@pytest.mark.parametrize(
    "day, revoked, superseded, expected",
    [
        (date(2025, 12, 1), None, None, Status.VALID),
        (date(2026, 1, 1), None, None, Status.EXPIRING),  # 89 days before 31 Mar 2026
        (date(2026, 3, 31), None, None, Status.EXPIRING),  # the last valid day
        (date(2026, 4, 1), None, None, Status.EXPIRED),
        (date(2025, 12, 1), date(2025, 11, 30), None, Status.REVOKED),
        (date(2025, 12, 1), date(2025, 12, 2), None, Status.VALID),
        (date(2025, 12, 1), None, date(2025, 11, 1), Status.SUPERSEDED),
    ],
)
def test_status_is_derived_from_the_dates(day, revoked, superseded, expected):
    status = status_on(
        day,
        issue_date=date(2023, 3, 31),
        valid_until=date(2026, 3, 31),
        revoked_on=revoked,
        superseded_on=superseded,
        expiring_window_days=90,
    )
    assert status is expected


def test_do_the_star_bands_come_from_one_table():
    assert [star_floor(star) for star in (1, 2, 3, 4, 5)] == [0, 30, 50, 70, 90]
    for star, floor in STAR_BANDS:
        assert star_for(floor, True) == star
        if floor:
            assert star_for(floor - 1, True) == star - 1


@pytest.mark.parametrize(
    "level, day, total, star",
    [
        (CouncilLevel.DISTRICT, date(2025, 3, 1), 95, 3),  # a district council rated for 3★
        (CouncilLevel.PROVINCE, date(2025, 3, 1), 55, 4),  # a province council for 4★ only
        (CouncilLevel.PROVINCE, date(2025, 8, 1), 69, 3),  # from 1489: below the 4★ band
        (CouncilLevel.PROVINCE, date(2025, 8, 1), 70, 4),
        (CouncilLevel.PROVINCE, date(2025, 8, 1), 20, 3),
        (CouncilLevel.PROVINCE, date(2025, 8, 1), 99, 4),
        (CouncilLevel.CENTRAL, date(2025, 8, 1), 40, 5),
        (CouncilLevel.DISTRICT, date(2025, 8, 1), 60, None),  # districts rate nothing since
    ],
)
def test_what_was_an_evaluation_entered_for(level, day, total, star):
    assert entered_for(level, day, total) == star


def test_are_the_rules_of_a_day_those_of_its_period():
    assert period_on(date(2023, 2, 23)).source == "Quyết định 1048/QĐ-TTg"
    assert period_on(date(2023, 2, 24)).source == "Quyết định 148/QĐ-TTg"
    assert period_on(date(2025, 7, 5)).source == "Quyết định 148/QĐ-TTg"
    assert period_on(date(2025, 7, 6)).source == "Quyết định 1489/QĐ-TTg"
    assert [p.starts for p in PERIODS] == sorted(p.starts for p in PERIODS)
