"""One certificate rule for the API and the importer: who could certify which star on the day
(Decisions 1048, 148 and 1489/QĐ-TTg), whether the issuing authority existed that day
(districts abolished 1 Jul 2025, Đắk Nông merged into Lâm Đồng), and the ministry of the day
(Resolution 176/2025/QH15); imported certificates are linked to their authority's unit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.certificates.test_importer import HEADERS, csv_file
from trace_service.certificates import services
from trace_service.certificates.importer import check_rows, import_certificates
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.errors import DomainError
from trace_service.principal import system_principal
from trace_service.registry.models import AdministrativeUnit

pytestmark = pytest.mark.usefixtures("units")

ACTOR = system_principal("test")

# A province-style list of 2021–2025 certificates, each under the rules of its day.
PROVINCE_LIST: list[tuple[str, int, str]] = [
    ("UBND tỉnh Đắk Nông", 3, "21/07/2021"),  # 1048: the province certifies 3★
    ("UBND tỉnh Đắk Nông", 4, "10/05/2022"),  # 1048: and 4★
    ("Bộ Nông nghiệp và Phát triển nông thôn", 5, "01/09/2022"),  # the ministry of 2022
    ("UBND huyện Đắk Mil", 3, "01/06/2023"),  # 148: the district certifies 3★
    ("UBND thành phố Gia Nghĩa", 3, "15/11/2024"),
    ("UBND tỉnh Đắk Nông", 4, "02/05/2024"),  # 148: the province 4★
    ("UBND huyện Krông Nô", 3, "20/06/2025"),  # the districts' last days
    ("UBND tỉnh Lâm Đồng", 3, "15/08/2025"),  # 1489: the province 3★ and 4★
    ("UBND tỉnh Lâm Đồng", 4, "10/09/2025"),
    ("Bộ Nông nghiệp và Môi trường", 5, "01/10/2025"),  # the ministry from 1 Mar 2025
]


def _file(rows: list[tuple[str, int, str]]) -> bytes:
    lines: list[list[Any]] = [HEADERS]
    for n, (authority, star, day) in enumerate(rows, start=1):
        product = factories.ProductFactory()
        lines.append(
            [
                n,
                f"{n:04d}/GCN",
                f"{n}/QĐ-UBND",
                day,
                authority,
                product.producer.registration_code,
                product.name_vi,
                product.gtin,
                star,
                day,
            ]
        )
    return csv_file(lines)


def test_a_province_list_of_2021_to_2025_passes_its_dry_run(db_session: Session) -> None:
    """Decisions 1048, 148 and 1489/QĐ-TTg, each on its own days."""
    report = import_certificates(db_session, ACTOR, "ds.csv", _file(PROVINCE_LIST), dry_run=True)

    assert {r.line: r.problems for r in report.rows if r.problems} == {}
    assert report.ok


def test_imported_certificates_are_linked_to_the_unit_of_their_day(
    db_session: Session, units: dict[str, AdministrativeUnit]
) -> None:
    report = import_certificates(db_session, ACTOR, "ds.csv", _file(PROVINCE_LIST), dry_run=False)

    assert report.imported == len(PROVINCE_LIST)
    linked = {
        c.number: c.issuing_unit_id
        for c in db_session.query(Certificate).filter(Certificate.number.like("%/GCN"))
    }
    assert linked["0001/GCN"] == units["dn"].id
    assert linked["0004/GCN"] == units["dn.dakmil"].id
    assert linked["0005/GCN"] == units["dn.gianghia"].id
    assert linked["0008/GCN"] == units["ld"].id
    assert linked["0003/GCN"] is None and linked["0010/GCN"] is None  # the ministries


def test_the_same_list_with_abolished_authorities_is_refused_row_by_row(
    db_session: Session,
) -> None:
    """Districts were abolished on 1 Jul 2025 and Đắk Nông merged into Lâm Đồng: their
    People's Committees certified nothing after 30 Jun 2025."""
    rows = [
        *PROVINCE_LIST,
        ("UBND huyện Đắk Mil", 3, "03/07/2025"),
        ("UBND tỉnh Đắk Nông", 3, "10/08/2025"),
        ("UBND huyện Krông Nô", 3, "15/08/2025"),
    ]
    report = import_certificates(db_session, ACTOR, "ds.csv", _file(rows), dry_run=False)

    problems = {r.line: r.problems for r in report.rows if r.problems}
    assert report.imported == 0
    assert sorted(problems) == [12, 13, 14]
    assert any("Huyện Đắk Mil did not exist on 2025-07-03" in p for p in problems[12])
    assert any("01–05/07/2025" in p for p in problems[12])  # and nobody certified 3★ then
    assert any(
        "Tỉnh Đắk Nông did not exist on 2025-08-10, succeeded by Tỉnh Lâm Đồng" in p
        for p in problems[13]
    )
    assert any("Huyện Krông Nô did not exist on 2025-08-15" in p for p in problems[14])
    assert any("could not certify 3★" in p for p in problems[14])


@pytest.mark.parametrize(
    "ministry, day, right",
    [
        ("Bộ Nông nghiệp và Môi trường", "01/09/2024", "Bộ Nông nghiệp và Phát triển nông thôn"),
        ("Bộ Nông nghiệp và Phát triển nông thôn", "01/09/2025", "Bộ Nông nghiệp và Môi trường"),
    ],
)
def test_a_5_star_certificate_names_the_ministry_of_its_day(
    db_session: Session, ministry: str, day: str, right: str
) -> None:
    """Resolution 176/2025/QH15: the Ministry of Agriculture and Environment from 1 Mar 2025."""
    report = import_certificates(
        db_session, ACTOR, "ds.csv", _file([(ministry, 5, day)]), dry_run=True
    )

    (problem,) = report.rows[0].problems
    assert f"the central authority was {right}" in problem


def test_an_authority_matching_no_unit_is_reported_with_the_candidates(
    db_session: Session,
) -> None:
    report = import_certificates(
        db_session, ACTOR, "ds.csv", _file([("UBND huyện Đắk Mill", 3, "01/06/2024")]), dry_run=True
    )

    (problem,) = report.rows[0].problems
    assert "'UBND huyện Đắk Mill' matches no administrative unit" in problem
    assert "UBND huyện Đắk Mil," in problem and "UBND huyện Krông Nô" in problem


def test_the_api_and_the_importer_refuse_an_abolished_issuer_in_the_same_words(
    db_session: Session, units: dict[str, AdministrativeUnit]
) -> None:
    """One function (``checks.authority_existed``) for both: Đắk Nông ended on 30 Jun 2025."""
    evaluation = factories.EvaluationFactory(
        evaluated_on=date(2025, 8, 1), council_unit=units["ld"], council_level="province"
    )
    data = {
        "evaluation_id": evaluation.id,
        "number": "API-1",
        "decision_number": "1/QĐ-UBND",
        "decision_date": date(2025, 8, 10),
        "issue_date": date(2025, 8, 10),
        "issuing_unit_id": units["dn"].id,
    }
    with pytest.raises(DomainError) as caught:
        services.issue_certificate(db_session, ACTOR, data, today_vn())
    product = factories.ProductFactory()
    cells = {
        "number": "X-1",
        "decision_number": "1/QĐ",
        "decision_date": "10/08/2025",
        "issuing_authority": "UBND tỉnh Đắk Nông",
        "gtin": product.gtin,
        "star": 4,
        "issue_date": "10/08/2025",
    }
    report = check_rows(db_session, [(2, cells)])

    error = caught.value
    said = f"{error.message.removesuffix('.')} / {error.message_en.removesuffix('.')}"
    assert said in report.rows[0].problems


def test_the_api_counts_validity_from_the_decision_and_shows_it(
    client, admin, db_session: Session, units: dict[str, AdministrativeUnit]
) -> None:
    """Đắk Nông's decisions: valid "ba năm kể từ ngày Quyết định được ký ban hành"."""
    evaluation = factories.EvaluationFactory(
        evaluated_on=date(2024, 3, 1),
        council_unit=units["dn"],
        council_level="province",
        score_a=40,  # 75 points: 4★, the province's under Decision 148/QĐ-TTg
        score_b=20,
        score_c=15,
    )
    data = {
        "evaluation_id": evaluation.id,
        "number": "API-2",
        "decision_number": "12/QĐ-UBND",
        "decision_date": date(2024, 3, 10),
        "issue_date": date(2024, 3, 15),
    }
    cert = services.issue_certificate(db_session, ACTOR, data, today_vn())

    assert cert.valid_until == date(2027, 3, 10)
    shown = client.get(f"/api/v1/certificates/{cert.id}", headers=admin.headers).json
    assert shown["validity_counted_from"] == "2024-03-10"
    assert shown["valid_until"] == "2027-03-10"


def test_the_api_and_the_importer_refuse_a_province_3_star_of_2024_in_the_same_words(
    db_session: Session, units: dict[str, AdministrativeUnit]
) -> None:
    """Decision 148/QĐ-TTg: in 2024 a 3★ certificate was the district's, not the province's."""
    evaluation = factories.EvaluationFactory(
        evaluated_on=date(2024, 3, 1), council_unit=units["dn"], council_level="province"
    )
    data = {
        "evaluation_id": evaluation.id,
        "number": "API-3",
        "decision_number": "1/QĐ-UBND",
        "decision_date": date(2024, 3, 10),
        "issue_date": date(2024, 3, 10),
    }
    with pytest.raises(DomainError) as caught:
        services.issue_certificate(db_session, ACTOR, data, today_vn())
    product = factories.ProductFactory()
    cells = {
        "number": "X-3",
        "decision_number": "1/QĐ",
        "decision_date": "10/03/2024",
        "issuing_authority": "UBND tỉnh Đắk Nông",
        "gtin": product.gtin,
        "star": 3,
        "issue_date": "10/03/2024",
    }
    report = check_rows(db_session, [(2, cells)])

    error = caught.value
    assert "Decision 148/QĐ-TTg" in error.message_en
    said = f"{error.message.removesuffix('.')} / {error.message_en.removesuffix('.')}"
    assert said in report.rows[0].problems
