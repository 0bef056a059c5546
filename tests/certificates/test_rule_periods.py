"""The OCOP rules as they stood on each day, each test naming its legal source: Decision
1048/QĐ-TTg (to 23 Feb 2023), Decision 148/QĐ-TTg (24 Feb 2023 – 5 Jul 2025, districts gone
from 1 Jul 2025) and Decision 1489/QĐ-TTg (from 6 Jul 2025)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from trace_service.certificates import checks
from trace_service.certificates.rules import (
    MAX_A,
    MAX_B,
    MAX_C,
    PERIODS,
    CouncilLevel,
    ValidityFrom,
    central_authority_on,
    council_total,
    period_on,
    star_with_criteria,
    stars_council_may_certify,
    valid_until,
    validity_from,
    validity_start,
)

DISTRICT, PROVINCE, CENTRAL = CouncilLevel.DISTRICT, CouncilLevel.PROVINCE, CouncilLevel.CENTRAL


def test_do_the_periods_follow_each_other_without_a_hole_or_an_overlap():
    for earlier, later in pairwise(PERIODS):
        assert earlier.ends is not None
        assert date.fromordinal(earlier.ends.toordinal() + 1) == later.starts
    assert PERIODS[-1].ends is None


@pytest.mark.parametrize(
    "day, source, parts",
    [
        (date(2021, 7, 21), "Quyết định 1048/QĐ-TTg", (35, 25, 40)),
        (date(2023, 2, 23), "Quyết định 1048/QĐ-TTg", (35, 25, 40)),
        (date(2023, 2, 24), "Quyết định 148/QĐ-TTg", (40, 25, 35)),
        (date(2025, 7, 3), "Quyết định 148/QĐ-TTg", (40, 25, 35)),
        (date(2025, 7, 6), "Quyết định 1489/QĐ-TTg", (40, 25, 35)),
    ],
)
def test_does_each_period_name_its_decision_and_score_parts(day, source, parts):
    period = period_on(day)
    assert period.source == source
    assert (period.scores.a, period.scores.b, period.scores.c) == parts
    assert period.scores.total == 100
    assert period.evaluates_vi and period.evaluates_en


def test_do_the_api_bounds_admit_every_periods_parts():
    assert (MAX_A, MAX_B, MAX_C) == (40, 25, 40)


@pytest.mark.parametrize(
    "level, day, stars",
    [
        # Decision 1048/QĐ-TTg: the province certifies 3★ and 4★ (Đắk Nông 1032/QĐ-UBND,
        # 21/7/2021), the central level 5★; district councils only pre-evaluate.
        (PROVINCE, date(2021, 7, 21), {3, 4}),
        (DISTRICT, date(2022, 6, 1), set()),
        (CENTRAL, date(2022, 6, 1), {5}),
        # Decision 148/QĐ-TTg: district 3★, province 4★, central 5★.
        (DISTRICT, date(2023, 2, 24), {3}),
        (PROVINCE, date(2024, 5, 1), {4}),
        (CENTRAL, date(2024, 5, 1), {5}),
        # 1–5 Jul 2025: Decision 148 stands but districts are abolished: nobody certifies 3★.
        (DISTRICT, date(2025, 7, 1), set()),
        (PROVINCE, date(2025, 7, 5), {4}),
        # Decision 1489/QĐ-TTg: province 3★ and 4★, central 5★.
        (PROVINCE, date(2025, 7, 6), {3, 4}),
        (DISTRICT, date(2025, 8, 1), set()),
    ],
)
def test_who_certifies_which_star_by_period(level, day, stars):
    assert stars_council_may_certify(level, day) == stars


def test_1048_ubnd_tinh_dak_nong_3_star_2022_is_accepted():
    """Decision 1048/QĐ-TTg: "UBND tỉnh Đắk Nông, 3★, 2022" is a lawful certificate."""
    assert checks.council_may_certify(PROVINCE, 3, date(2022, 5, 10), "t", "t") is None


def test_1048_ubnd_huyen_dak_mil_3_star_2022_is_refused_naming_decision_1048():
    """Decision 1048/QĐ-TTg: "UBND huyện Đắk Mil, 3★, 2022" was not the district's to issue."""
    problem = checks.council_may_certify(
        DISTRICT, 3, date(2022, 5, 10), "UBND huyện Đắk Mil", "UBND huyện Đắk Mil"
    )
    assert problem is not None
    assert "Quyết định 1048/QĐ-TTg" in problem.vi
    assert "Decision 1048/QĐ-TTg" in problem.en


def test_148_district_3_star_2024_accepted_province_3_star_refused():
    """Decision 148/QĐ-TTg: 3★ is the district's, the province certifies 4★."""
    assert checks.council_may_certify(DISTRICT, 3, date(2024, 5, 10), "h", "h") is None
    problem = checks.council_may_certify(PROVINCE, 3, date(2024, 5, 10), "t", "t")
    assert problem is not None and "Decision 148/QĐ-TTg" in problem.en


def test_gap_1_to_5_july_2025_nobody_certifies_3_star():
    """Districts abolished 1 Jul 2025, Decision 1489/QĐ-TTg signed 6 Jul 2025."""
    for level in CouncilLevel:
        problem = checks.council_may_certify(level, 3, date(2025, 7, 3), "x", "x")
        assert problem is not None
        assert "01–05/07/2025" in problem.vi


def test_1489_province_3_star_august_2025_accepted():
    """Decision 1489/QĐ-TTg: the province certifies 3★ and 4★ from 6 Jul 2025."""
    assert checks.council_may_certify(PROVINCE, 3, date(2025, 8, 10), "t", "t") is None


@pytest.mark.parametrize(
    "day, parts, field",
    [
        (date(2022, 5, 1), (36, 20, 30), "score_a"),  # 1048: A at most 35
        (date(2022, 5, 1), (35, 25, 40), None),  # 1048: C up to 40
        (date(2024, 5, 1), (40, 25, 36), "score_c"),  # 148: C at most 35
        (date(2025, 8, 1), (40, 25, 35), None),  # 1489 keeps 148's parts
    ],
)
def test_score_parts_are_capped_by_the_decision_of_the_day(day, parts, field):
    """Decision 1048/QĐ-TTg: A 35, B 25, C 40; Decision 148/QĐ-TTg and 1489: A 40, B 25, C 35."""
    problem = checks.scores_within(day, *parts)
    assert (problem.field if problem else None) == field


@pytest.mark.parametrize(
    "day, ministry",
    [
        (date(2021, 12, 1), "Bộ Nông nghiệp và Phát triển nông thôn"),
        (date(2025, 2, 28), "Bộ Nông nghiệp và Phát triển nông thôn"),
        (date(2025, 3, 1), "Bộ Nông nghiệp và Môi trường"),
    ],
)
def test_the_central_authority_is_the_ministry_of_the_day(day, ministry):
    """Resolution 176/2025/QH15: the Ministry of Agriculture and Environment from 1 Mar 2025."""
    assert central_authority_on(day).name == ministry


@pytest.mark.parametrize(
    "code, issued, decided, last_day",
    [
        # Đắk Nông (67): "ba năm kể từ ngày Quyết định được ký ban hành".
        ("67", date(2024, 3, 15), date(2024, 3, 10), date(2027, 3, 10)),
        # A province not listed takes the default, Đắk Nông's.
        ("99", date(2024, 3, 15), date(2024, 3, 10), date(2027, 3, 10)),
        # A decision dated after the issue never lengthens the validity.
        ("67", date(2024, 3, 15), date(2024, 3, 20), date(2027, 3, 15)),
    ],
)
def test_validity_counts_from_the_decision_where_the_province_says_so(
    code, issued, decided, last_day
):
    counts_from = validity_from(code)
    assert valid_until(validity_start(counts_from, issued, decided)) == last_day


def test_a_province_that_counts_from_the_issue_date_can_say_so():
    assert validity_start(ValidityFrom.ISSUE, date(2024, 3, 15), date(2024, 3, 10)) == date(
        2024, 3, 15
    )


@pytest.mark.parametrize(
    "average, published, star",
    [
        ("69.67", "69.7", 3),  # rounding to a whole 70 would make it 4★
        ("69.95", "70.0", 4),  # one decimal place, half up, as councils publish
        ("49.94", "49.9", 2),
        (89.96, "90.0", 5),
    ],
)
def test_a_councils_average_total_keeps_one_decimal_place(average, published, star):
    """Decision 148/QĐ-TTg: the star follows the council's average total ("tổng điểm trung
    bình"), published to one decimal place."""
    assert str(council_total(average)) == published
    assert star_with_criteria(average) == star


@pytest.mark.parametrize(
    "average, unmet, star",
    [
        ("75", {4}, 3),  # fails a 4★ mandatory criterion, keeps 3★
        ("95", {5}, 4),
        ("95", {4, 5}, 3),
        ("75", {3}, 2),  # a 3★ criterion failed: below certification
        ("75", {1}, None),
        ("60", {4}, 3),  # a 4★ criterion does not matter to a 3★ total
    ],
)
def test_mandatory_criteria_refuse_only_their_star_and_above(average, unmet, star):
    """Decision 148/QĐ-TTg: each rank has its mandatory criteria; the product takes the
    highest rank whose criteria it meets."""
    assert star_with_criteria(average, unmet) == star
