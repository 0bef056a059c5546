"""A council's result as councils enter it (Decision 148/QĐ-TTg and 1489/QĐ-TTg): the average
total to one decimal place and the mandatory criteria per star; the older API shape (whole
scores, one flag) still works; migration 0013 moves stored evaluations over without changing
a star and counts stored certificates' validity from their decision (Đắk Nông's rule)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import text

from tests.databases import fresh_database
from trace_service.db import make_engine
from trace_service.migrate import alembic_config, upgrade

P = "/api/v1"


@pytest.fixture
def product(db_session):
    from tests import factories

    return factories.ProductFactory()


def _body(product, unit, day="2024-08-20", **extra):
    body = {
        "product_id": product.id,
        "council_level": "district",
        "council_unit_id": unit.id,
        "evaluated_on": day,
        "score_a": 30,
        "score_b": 15,
        "score_c": 15,
        "reference": "Biên bản số 07/BB-HĐ",
    }
    return body | extra


def test_148_an_average_of_69_67_is_published_as_69_7_and_stays_3_star(
    client, admin, product, units
):
    """Decision 148/QĐ-TTg: the star follows the council's average total ("tổng điểm trung
    bình"), published to one decimal place; rounding it to 70 would make it 4★."""
    body = _body(
        product,
        units["dn.dakmil"],
        score_a=30.33,
        score_b=19.67,
        score_c=19.67,
        total=69.67,
        mandatory_unmet_stars=[],
    )
    made = client.post(f"{P}/evaluations", headers=admin.headers, json=body)
    assert made.status_code == 201, made.json
    assert (made.json["total"], made.json["score_a"], made.json["star"]) == (69.7, 30.3, 3)
    assert made.json["mandatory_met_through"] == 5 and made.json["mandatory_met"] is True


def test_1489_failing_a_4_star_mandatory_criterion_keeps_3_star(client, admin, product, units):
    """Decision 1489/QĐ-TTg (the province rates 3★ and 4★ from 6 Jul 2025): 75 points, a
    4★ mandatory criterion failed: the highest band whose criteria are all met is 3★."""
    body = _body(
        product,
        units["ld"],
        day="2025-08-20",
        council_level="province",
        score_a=35,
        score_b=20,
        score_c=20,
        mandatory_unmet_stars=[4, 5],
    )
    made = client.post(f"{P}/evaluations", headers=admin.headers, json=body)
    assert made.status_code == 201, made.json
    assert (made.json["star"], made.json["mandatory_met_through"]) == (3, 3)
    assert made.json["mandatory_met"] is False  # the older flag: the band's criteria failed


def test_148_the_older_shape_still_rates_whole_scores_with_one_flag(client, admin, product, units):
    """Older clients send whole numbers and ``mandatory_met``; false still means no star."""
    body = _body(product, units["dn.dakmil"], mandatory_met=False)
    made = client.post(f"{P}/evaluations", headers=admin.headers, json=body)
    assert made.status_code == 201, made.json
    assert (made.json["star"], made.json["total"], made.json["mandatory_met"]) == (None, 60, False)


@pytest.mark.parametrize(
    "extra, field, words",
    [
        ({}, "mandatory_met", "mandatory_unmet_stars"),
        ({"mandatory_met": True, "mandatory_unmet_stars": []}, "mandatory_unmet_stars", "not both"),
        ({"mandatory_unmet_stars": [6]}, "mandatory_unmet_stars", ""),
        ({"mandatory_met": True, "total": 60.2}, "total", "add up to 60"),
        ({"mandatory_met": True, "score_a": True}, "score_a", "number"),
        ({"mandatory_met": True, "score_b": 25.06}, "score_b", "between 0 and 25"),
    ],
)
def test_148_a_wrong_council_result_is_a_422_naming_its_field(
    client, admin, product, units, extra, field, words
):
    """Each refusal says which field and what is wrong, in the shape the client sent."""
    refused = client.post(
        f"{P}/evaluations", headers=admin.headers, json=_body(product, units["dn.dakmil"], **extra)
    )
    assert refused.status_code == 422, refused.json
    assert words in str(refused.json) and field in str(refused.json)


def test_148_a_total_within_0_1_of_its_rounded_parts_is_accepted(client, admin, product, units):
    """Each part is an average rounded on its own: 20.05 + 20.05 + 20.05 publish as 20.1
    each (60.3) while the total 60.15 publishes as 60.2."""
    body = _body(
        product,
        units["dn.dakmil"],
        score_a=20.1,
        score_b=20.1,
        score_c=20.1,
        total=60.2,
        mandatory_met=True,
    )
    made = client.post(f"{P}/evaluations", headers=admin.headers, json=body)
    assert made.status_code == 201, made.json
    assert made.json["total"] == 60.2


# -- migration 0013 ------------------------------------------------------------------------

_ROWS = (
    "INSERT INTO admin_units (id, name, code, level, valid_from, search_key) VALUES"
    " (1, 'Tỉnh Đắk Nông', '67', 'province', '2004-01-01', '')",
    "INSERT INTO admin_units (id, name, code, level, parent_id, valid_from, search_key) VALUES"
    " (2, 'Huyện Đắk Mil', '662', 'district', 1, '2004-01-01', '')",
    "INSERT INTO producers (id, kind, name, registration_code, address, commune_id,"
    " representative, search_key, created_at, updated_at) VALUES (1, 'other', 'A',"
    " '6400000001', 'B', 2, 'C', '', '2025-01-01', '2025-01-01')",
    "INSERT INTO products (id, producer_id, name_vi, product_group, images, standards,"
    " search_key, created_at, updated_at) VALUES (1, 1, 'Cà phê', 'food', '[]', '[]', '',"
    " '2025-01-01', '2025-01-01')",
    "INSERT INTO evaluations (id, product_id, council_level, council_unit_id, evaluated_on,"
    " score_a, score_b, score_c, total, mandatory_met, star, reference, created_at) VALUES"
    " (1, 1, 'district', 2, '2024-03-01', 30, 20, 15, 65, true, 3, 'BB1', '2025-01-01'),"
    " (2, 1, 'province', 1, '2024-03-01', 35, 20, 20, 75, false, NULL, 'BB2', '2025-01-01')",
    # Decided 10 Mar, issued 20 Mar 2024, counted then from the issue.
    "INSERT INTO certificates (id, number, decision_number, decision_date, issuing_unit_id,"
    " issuing_authority, product_id, product_name, evaluation_id, star, issue_date,"
    " valid_until, created_at) VALUES (1, 'N1', 'D1', '2024-03-10', 2, 'UBND huyện Đắk Mil',"
    " 1, 'Cà phê', 1, 3, '2024-03-20', '2027-03-20', '2025-01-01')",
)


def _read(engine, sql):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_migration_0013_keeps_every_star_and_counts_validity_from_the_decision(backend, tmp_path):
    """Decision 148/QĐ-TTg bands, unchanged stars; Đắk Nông's decisions: valid "ba năm kể từ
    ngày Quyết định được ký ban hành" (10 Mar 2024 → 10 Mar 2027). Going down restores both."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0012")
        engine = make_engine(url)
        with engine.begin() as connection:
            for sql in _ROWS:
                connection.execute(text(sql))
        upgrade(url)
        evaluations = "SELECT id, total, mandatory_met_through, star FROM evaluations ORDER BY id"
        assert [(i, float(t), m, s) for i, t, m, s in _read(engine, evaluations)] == [
            (1, 65.0, 5, 3),
            (2, 75.0, 0, None),
        ]
        certificates = "SELECT valid_until, evaluation_id FROM certificates"
        assert [(str(d), e) for d, e in _read(engine, certificates)] == [("2027-03-10", 1)]
        command.downgrade(alembic_config(url), "0012")
        assert [(str(d), e) for d, e in _read(engine, certificates)] == [("2027-03-20", 1)]
        flags = "SELECT id, total, mandatory_met, star FROM evaluations ORDER BY id"
        assert [(i, int(t), bool(m), s) for i, t, m, s in _read(engine, flags)] == [
            (1, 65, True, 3),
            (2, 75, False, None),
        ]
        engine.dispose()


def test_the_letter_shows_the_day_the_months_count_from():
    """Stored certificates whose months now count from the decision say so on the letter
    (``Certificate.validity_counted_from``)."""
    from trace_service.certificates.models import Certificate

    cert = Certificate(
        decision_date=date(2024, 3, 10), issue_date=date(2024, 3, 20), valid_until=date(2027, 3, 10)
    )
    assert cert.validity_counted_from == date(2024, 3, 10)
