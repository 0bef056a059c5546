"""Importing the provinces' spreadsheets of certified OCOP products (CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Account
from tests.factories import CertificateFactory, ProducerFactory, ProductFactory
from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import Tag
from trace_service.certificates.importer import (
    ImportLimits,
    ImportReport,
    check_rows,
    import_certificates,
    read_table,
)
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.errors import DomainError, InvalidInput
from trace_service.principal import Principal, Role, system_principal
from trace_service.registry.models import AdministrativeUnit, Product
from trace_service.spreadsheets import SpreadsheetTooLarge

# Every import matches its issuing authorities to the seeded administrative units.
pytestmark = pytest.mark.usefixtures("units")

HEADERS = [
    "STT",
    "Số GCN",
    "Số quyết định",
    "Ngày quyết định",
    "Cơ quan cấp",
    "Mã số thuế",
    "Tên sản phẩm",
    "GTIN",
    "Số sao",
    "Ngày cấp",
]


def row(product: Product, number: str, issued: Any = "15/03/2024", **changes: Any) -> list[Any]:
    cells = {
        "STT": 1,
        "Số GCN": number,
        "Số quyết định": f"{number.split('/')[0]}/QĐ-UBND",
        "Ngày quyết định": "10/03/2024",
        "Cơ quan cấp": "UBND huyện Krông Nô",
        "Mã số thuế": product.producer.registration_code,
        "Tên sản phẩm": product.name_vi,
        "GTIN": product.gtin,
        "Số sao": "3",
        "Ngày cấp": issued,
    }
    cells.update(changes)
    if "Cơ quan cấp" not in changes:  # an authority that could certify the row's star
        decided = cells["Ngày quyết định"]
        cells["Cơ quan cấp"] = authority_for(cells["Số sao"], cells["Cơ quan cấp"], decided)
    return [cells[h] for h in HEADERS]


def authority_for(star: Any, default: str, decided: Any = None) -> str:
    """Decision 148/QĐ-TTg: a district 3★, the province 4★, the ministry 5★; before it
    (Decision 1048/QĐ-TTg, to 23 Feb 2023) the province certified 3★ too."""
    digits = "".join(ch for ch in str(star).split(".")[0] if ch.isdigit())
    text = str(decided)
    year = (
        decided.year if isinstance(decided, date) else int(text[-4:]) if text[-4:].isdigit() else 0
    )
    if digits == "3" and 0 < year < 2023:
        return "UBND tỉnh Đắk Nông"
    return {"4": "UBND tỉnh Đắk Nông", "5": "Bộ Nông nghiệp và Phát triển nông thôn"}.get(
        digits, default
    )


def csv_file(rows: list[list[Any]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def xlsx_file(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def actor(admin: Account) -> Principal:
    return Principal(user_id=admin.user.id, name=admin.user.username, role=Role.ADMIN)


@pytest.fixture
def coffee(db_session: Session) -> Product:
    return ProductFactory(name_vi="Cà phê bột Đắk Đam")


@pytest.fixture
def pepper(db_session: Session) -> Product:
    return ProductFactory(name_vi="Hồ tiêu Đắk Song")


def certificates(session: Session, *numbers: str) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate).where(Certificate.number.in_(numbers)).order_by(Certificate.id)
        )
    )


def problems_of(report: ImportReport) -> dict[int, list[str]]:
    return {r.line: r.problems for r in report.rows if r.problems}


# -- the happy path ---------------------------------------------------------------------------


def test_does_a_clean_csv_import_every_row_valid_for_36_months(
    db_session: Session,
    units: dict[str, AdministrativeUnit],
    actor: Principal,
    coffee: Product,
    pepper: Product,
) -> None:
    content = csv_file(
        [
            HEADERS,
            row(coffee, "0001/GCN-OCOP", "15/03/2024", **{"Số sao": "4"}),
            row(pepper, "0002/GCN-OCOP", "2024-02-29", **{"Ngày quyết định": "2024-02-29"}),
        ]
    )

    report = import_certificates(db_session, actor, "ocop-2024.csv", content, dry_run=False)

    assert report.ok and report.imported == 2
    assert [r.line for r in report.rows] == [2, 3]
    first, second = certificates(db_session, "0001/GCN-OCOP", "0002/GCN-OCOP")
    assert (first.product_id, first.star, first.issue_date) == (coffee.id, 4, date(2024, 3, 15))
    # Đắk Nông counts the 36 months from the decision (10/03/2024), not the issue (15/03).
    assert first.valid_until == date(2027, 3, 10)
    assert first.validity_counted_from == date(2024, 3, 10)
    assert first.decision_number == "0001/QĐ-UBND"
    assert first.decision_date == date(2024, 3, 10)
    assert first.issuing_authority == "UBND tỉnh Đắk Nông"
    # The authority is linked to the unit that existed that day (Đắk Nông until 30 Jun 2025).
    assert (first.evaluation_id, first.issuing_unit_id) == (None, units["dn"].id)
    assert second.valid_until == date(2027, 2, 28)  # 29 Feb + 36 months


def test_is_one_audit_event_recorded_for_the_whole_import(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    content = csv_file([HEADERS, row(coffee, "0001/GCN"), row(pepper, "0002/GCN")])

    import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    events = list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.tag == str(Tag.CERTIFICATES_IMPORTED))
        )
    )
    assert len(events) == 1
    ids = [c.id for c in certificates(db_session, "0001/GCN", "0002/GCN")]
    assert events[0].object_type == "certificate_import"
    assert events[0].object_id is None
    assert events[0].details == {
        "filename": "ds.csv",
        "rows": 2,
        "certificate_ids": ids,
        "superseded": {},
    }
    assert events[0].actor_user_id == actor.user_id


def test_does_a_dry_run_report_and_write_nothing(
    db_session: Session, units: dict[str, AdministrativeUnit], actor: Principal, coffee: Product
) -> None:
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    content = xlsx_file([HEADERS, row(coffee, "0001/GCN-OCOP")])

    report = import_certificates(db_session, actor, "ds.xlsx", content, dry_run=True)

    assert report.ok and report.imported == 0
    assert report.rows[0].values == {
        "number": "0001/GCN-OCOP",
        "decision_number": "0001/QĐ-UBND",
        "decision_date": date(2024, 3, 10),
        "issuing_authority": "UBND huyện Krông Nô",
        "product_id": coffee.id,
        "star": 3,
        "issue_date": date(2024, 3, 15),
        "issuing_unit_id": units["dn.krongno"].id,
    }
    assert certificates(db_session, "0001/GCN-OCOP") == []
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_is_a_product_found_by_producer_code_and_name_without_gtin_or_diacritics(
    db_session: Session, actor: Principal
) -> None:
    producer = ProducerFactory(registration_code="6400123456-001")
    product = ProductFactory(producer=producer, name_vi="Cà phê bột Đắk Đam", gtin=None)
    other = ProductFactory(producer=producer, name_vi="Cà phê hạt Đắk Đam")
    content = csv_file(
        [
            HEADERS,
            row(product, "0001/GCN", **{"GTIN": "", "Tên sản phẩm": "CA PHE BOT DAK DAM"}),
            row(other, "0002/GCN", **{"GTIN": "", "Mã số thuế": " 6400123456-001 "}),
        ]
    )

    report = import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    assert report.ok, problems_of(report)
    assert [r.values["product_id"] for r in report.rows] == [product.id, other.id]


def test_are_headers_matched_without_case_diacritics_and_with_aliases(
    db_session: Session, coffee: Product
) -> None:
    headers = ["so giay chung nhan", "SỐ QĐ", "ngày qđ", "Đơn vị cấp", "MST", "ten san pham"]
    headers += ["Mã vạch", "Hạng sao", "NGÀY CẤP"]
    cells = row(coffee, "0001/GCN")[1:]

    table = read_table("ds.csv", csv_file([headers, cells]))

    assert table == [
        (
            2,
            {
                "number": "0001/GCN",
                "decision_number": "0001/QĐ-UBND",
                "decision_date": "10/03/2024",
                "issuing_authority": "UBND huyện Krông Nô",
                "registration_code": coffee.producer.registration_code,
                "product_name": "Cà phê bột Đắk Đam",
                "gtin": coffee.gtin,
                "star": "3",
                "issue_date": "15/03/2024",
            },
        )
    ]
    assert check_rows(db_session, table).ok


# -- reading files ----------------------------------------------------------------------------


def test_is_the_header_row_found_below_a_title_row_in_excel(
    db_session: Session, actor: Principal, coffee: Product
) -> None:
    content = xlsx_file(
        [
            ["DANH SÁCH SẢN PHẨM OCOP TỈNH ĐẮK NÔNG NĂM 2024"],
            [],
            ["(Kèm theo Quyết định số 12/QĐ-UBND)"],
            HEADERS,
            row(coffee, "0001/GCN"),
            [],
            row(coffee, "0002/GCN", "20/03/2024", **{"Số quyết định": "x"}),
        ]
    )

    report = import_certificates(db_session, actor, "ds.xlsx", content, dry_run=True)

    assert [r.line for r in report.rows] == [5, 7]  # as the spreadsheet numbers them


def test_is_the_header_row_found_below_a_title_row_in_csv(coffee: Product) -> None:
    content = csv_file([["Danh sách sản phẩm OCOP"], [""], HEADERS, row(coffee, "0001/GCN")])

    assert [line for line, _ in read_table("ds.csv", content)] == [4]


def test_can_i_upload_a_semicolon_csv_saved_by_excel_with_a_bom(
    db_session: Session, actor: Principal, coffee: Product
) -> None:
    content = csv_file(
        [HEADERS, row(coffee, "0001/GCN", **{"Cơ quan cấp": "UBND huyện Đắk Mil, Đắk Nông"})],
        delimiter=";",
        bom=True,
    )
    assert content.startswith(b"\xef\xbb\xbf")

    report = import_certificates(db_session, actor, "DS.CSV", content, dry_run=False)

    assert report.imported == 1
    assert certificates(db_session, "0001/GCN")[0].issuing_authority == (
        "UBND huyện Đắk Mil, Đắk Nông"
    )


def test_are_excel_date_cells_numbers_and_star_labels_understood(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    content = xlsx_file(
        [
            HEADERS,
            row(
                coffee,
                "0001/GCN",
                datetime(2024, 3, 15),
                **{"Ngày quyết định": date(2024, 3, 1), "Số sao": "4★", "GTIN": int(coffee.gtin)},
            ),
            row(
                pepper, "0002/GCN", "5/3/2024", **{"Số sao": "3 sao", "Ngày quyết định": "1/3/2024"}
            ),
            row(pepper, "0003/GCN", "2025-01-02", **{"Số sao": 5, "Ngày quyết định": "2025-01-02"}),
        ]
    )

    report = import_certificates(db_session, actor, "ds.xlsx", content, dry_run=False)

    assert report.ok, problems_of(report)
    values = [
        (r.values["decision_date"], r.values["issue_date"], r.values["star"]) for r in report.rows
    ]
    assert values == [
        (date(2024, 3, 1), date(2024, 3, 15), 4),
        (date(2024, 3, 1), date(2024, 3, 5), 3),
        (date(2025, 1, 2), date(2025, 1, 2), 5),
    ]


def test_does_a_tax_code_typed_as_a_number_keep_its_leading_zero(
    db_session: Session,
) -> None:
    product = ProductFactory(producer=ProducerFactory(registration_code="0101234567"), gtin=None)
    content = xlsx_file([HEADERS, row(product, "0001/GCN", **{"Mã số thuế": 101234567})])

    report = check_rows(db_session, read_table("ds.xlsx", content))

    assert report.rows[0].values["product_id"] == product.id


@pytest.mark.parametrize(
    ("filename", "content", "says"),
    [
        ("ds.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "save it as .xlsx"),
        ("ds.txt", b"So GCN,So QD", "Only .csv and .xlsx"),
        ("ds", b"So GCN,So QD", "Only .csv and .xlsx"),
        ("ds.xlsx", b"\x00\x01garbage\xff" * 50, "not a valid .xlsx"),
        ("ds.xlsx", b"PK\x03\x04" + b"\x00" * 100, "not a valid .xlsx"),
        ("ds.csv", b"\xff\xfe\x00\x01garbage\xc3", "not UTF-8"),
        ("ds.csv", b"S\x00o\x00 \x00G\x00C\x00N\x00", "binary data"),
        ("ds.csv", b"", "No header row"),
    ],
)
def test_are_other_file_kinds_and_garbage_refused(filename: str, content: bytes, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(filename, content)

    assert says in caught.value.message_en
    assert caught.value.message != caught.value.message_en  # a Vietnamese message too


def test_does_a_missing_header_get_named(coffee: Product) -> None:
    headers = [h for h in HEADERS if h not in ("Ngày cấp", "Số quyết định")]
    cells = [c for h, c in zip(HEADERS, row(coffee, "1"), strict=True) if h in headers]

    with pytest.raises(InvalidInput) as caught:
        read_table("ds.xlsx", xlsx_file([headers, cells]))

    assert caught.value.message == "Thiếu cột: «Số quyết định», «Ngày cấp»."
    assert "'Ngày cấp' (issue date)" in caught.value.message_en
    assert "GTIN" not in caught.value.message_en  # optional


def test_does_a_file_without_any_header_say_which_columns_it_needs() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table("ds.csv", csv_file([["a", "b"], ["1", "2"]]))

    assert "No header row in the first 50 rows" in caught.value.message_en
    assert "«Số GCN»" in caught.value.message


def test_does_a_header_without_data_rows_say_so() -> None:
    with pytest.raises(InvalidInput, match="no data rows"):
        read_table("ds.csv", csv_file([HEADERS, [""] * len(HEADERS)]))


def test_are_files_over_5_mib_refused() -> None:
    with pytest.raises(SpreadsheetTooLarge, match="too large"):
        read_table("ds.csv", b"x" * (5 * 1024 * 1024 + 1))


def test_are_files_over_the_row_limit_refused(coffee: Product) -> None:
    limits = ImportLimits(max_rows=3)
    good = csv_file([HEADERS] + [row(coffee, f"{n}/GCN") for n in range(3)])
    too_many = csv_file([HEADERS] + [row(coffee, f"{n}/GCN") for n in range(4)])

    assert len(read_table("ds.csv", good, limits)) == 3
    with pytest.raises(SpreadsheetTooLarge, match="more than 3 data rows"):
        read_table("ds.csv", too_many, limits)


def test_is_the_real_row_limit_5000(coffee: Product) -> None:
    content = csv_file([HEADERS] + [row(coffee, f"{n}/GCN") for n in range(5001)])

    with pytest.raises(SpreadsheetTooLarge) as caught:
        read_table("ds.csv", content)

    assert "5.000" in caught.value.message
    assert "5,000" in caught.value.message_en


# -- one bad row refuses the file ---------------------------------------------------------------


BAD_ROWS: dict[str, tuple[dict[str, Any], str]] = {
    "wrong date": ({"Ngày cấp": "31/02/2024"}, "'31/02/2024' is not a date"),
    "two-digit year": ({"Ngày quyết định": "10/03/24"}, "'10/03/24' is not a date"),
    "star 2": ({"Số sao": "2"}, "Only 3★, 4★ and 5★ products are certified (the file says '2')"),
    "star 6": (
        {"Số sao": "6 sao"},
        "Only 3★, 4★ and 5★ products are certified (the file says '6 sao')",
    ),
    "missing number": ({"Số GCN": ""}, "Missing certificate number"),
    "unknown gtin": ({"GTIN": "8930000000019"}, "No product has the GTIN 8930000000019"),
    "bad gtin": ({"GTIN": "8930000000010"}, "Invalid GTIN '8930000000010'"),
    "unknown producer": (
        {"GTIN": "", "Mã số thuế": "9999999999"},
        "No producer has the registration code 9999999999",
    ),
    "unknown product name": (
        {"GTIN": "", "Tên sản phẩm": "Mật ong"},
        "has no product named 'Mật ong' (it has: Cà phê bột Đắk Đam)",
    ),
    "no way to find the product": (
        {"GTIN": "", "Tên sản phẩm": ""},
        "Missing product name",
    ),
    "gtin of another producer": (
        {"Mã số thuế": "6499999999"},
        "belongs to 'Cà phê bột Đắk Đam' of the producer",
    ),
    "decision after issue": (
        {"Ngày quyết định": "16/03/2024"},
        "The decision date 2024-03-16 is after the issue date 2024-03-15",
    ),
    "number too long": ({"Số GCN": "9" * 65}, "longer than 64 characters"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_does_one_bad_row_refuse_the_whole_file_and_name_its_line(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product, case: str
) -> None:
    ProducerFactory(registration_code="6499999999")
    changes, says = BAD_ROWS[case]
    content = csv_file(
        [
            HEADERS,
            row(pepper, "0001/GCN"),
            row(coffee, "0002/GCN", **changes),
            row(pepper, "0003/GCN", "20/03/2024"),
        ]
    )

    report = import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    assert not report.ok and report.imported == 0
    found = problems_of(report)
    assert list(found) == [3]
    assert any(says in problem for problem in found[3]), found
    assert all(" / " in problem for problem in found[3])  # Vietnamese / English
    assert certificates(db_session, "0001/GCN", "0002/GCN", "0003/GCN") == []


def test_is_a_repeated_number_in_the_file_reported_on_both_lines(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    content = csv_file(
        [
            HEADERS,
            row(coffee, "0001/GCN"),
            row(pepper, "0002/GCN"),
            row(pepper, "0001/GCN", "01/04/2024"),
        ]
    )

    report = import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    assert report.imported == 0
    assert problems_of(report) == {
        2: ["Số GCN 0001/GCN trùng với dòng 4 / The certificate number 0001/GCN repeats line 4"],
        4: ["Số GCN 0001/GCN trùng với dòng 2 / The certificate number 0001/GCN repeats line 2"],
    }
    assert certificates(db_session, "0001/GCN", "0002/GCN") == []


def test_is_a_number_already_in_the_database_refused(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    CertificateFactory(number="0001/GCN", product=pepper)
    content = xlsx_file([HEADERS, row(coffee, "0001/GCN"), row(coffee, "0002/GCN", "01/04/2024")])

    report = import_certificates(db_session, actor, "ds.xlsx", content, dry_run=False)

    assert report.imported == 0
    assert problems_of(report) == {
        2: ["Số GCN 0001/GCN đã có trong hệ thống / The certificate number 0001/GCN already exists"]
    }
    assert certificates(db_session, "0002/GCN") == []


def test_is_an_issue_date_in_the_future_refused(db_session: Session, coffee: Product) -> None:
    tomorrow = today_vn() + timedelta(days=1)
    table = read_table(
        "ds.csv",
        csv_file(
            [
                HEADERS,
                row(
                    coffee,
                    "1/GCN",
                    tomorrow.strftime("%d/%m/%Y"),
                    **{"Ngày quyết định": "", "Cơ quan cấp": "UBND tỉnh Lâm Đồng"},
                ),
            ]
        ),
    )

    report = check_rows(db_session, table)

    assert problems_of(report)[2] == [
        "Thiếu «Ngày quyết định» / Missing decision date",
        f"Ngày cấp {tomorrow:%d/%m/%Y} ở tương lai (hôm nay là {today_vn():%d/%m/%Y}) / "
        f"The issue date {tomorrow.isoformat()} is in the future (today is "
        f"{today_vn().isoformat()})",
    ]


def test_are_two_certificates_for_one_product_on_one_day_refused(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    CertificateFactory(product=pepper, number="0009/GCN", issue_date=date(2024, 3, 15))
    content = csv_file(
        [HEADERS, row(coffee, "0001/GCN"), row(coffee, "0002/GCN"), row(pepper, "0003/GCN")]
    )

    report = import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    found = problems_of(report)
    assert "on line 3" in found[2][0] and "on line 2" in found[3][0]
    assert found[4] == [
        "Sản phẩm đã có giấy chứng nhận số 0009/GCN cấp cùng ngày 15/03/2024 / "
        "The product already has certificate 0009/GCN issued on 2024-03-15"
    ]
    assert report.imported == 0


def test_does_an_empty_table_make_a_report_that_is_not_ok(db_session: Session) -> None:
    report = check_rows(db_session, [])

    assert report.rows == [] and not report.ok


# -- superseding ------------------------------------------------------------------------------


def test_does_a_2024_certificate_supersede_the_2021_one_in_the_same_file(
    db_session: Session, actor: Principal, coffee: Product
) -> None:
    content = xlsx_file(
        [
            HEADERS,
            row(coffee, "0100/GCN", date(2024, 5, 2), **{"Ngày quyết định": date(2024, 5, 1)}),
            row(coffee, "0007/GCN", date(2021, 6, 1), **{"Ngày quyết định": date(2021, 6, 1)}),
        ]
    )

    report = import_certificates(db_session, actor, "ds.xlsx", content, dry_run=False)

    assert report.imported == 2
    new, old = certificates(db_session, "0100/GCN", "0007/GCN")
    assert (old.superseded_by_id, old.superseded_on) == (new.id, date(2024, 5, 2))
    assert (new.superseded_by_id, new.superseded_on) == (None, None)
    assert old.valid_until == date(2024, 6, 1)


def test_does_an_imported_certificate_supersede_the_standing_one_but_not_a_revoked_one(
    db_session: Session, actor: Principal, coffee: Product, pepper: Product
) -> None:
    standing = CertificateFactory(product=coffee, issue_date=date(2021, 6, 1))
    revoked = CertificateFactory(
        product=pepper, issue_date=date(2021, 6, 1), revoked_on=date(2022, 1, 1)
    )
    content = csv_file([HEADERS, row(coffee, "0001/GCN"), row(pepper, "0002/GCN")])

    import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    coffee_new, _ = certificates(db_session, "0001/GCN", "0002/GCN")
    assert (standing.superseded_by_id, standing.superseded_on) == (
        coffee_new.id,
        date(2024, 3, 15),
    )
    assert revoked.superseded_by_id is None


def test_is_an_older_certificate_imported_behind_the_standing_one(
    db_session: Session, actor: Principal, coffee: Product
) -> None:
    standing = CertificateFactory(product=coffee, issue_date=date(2024, 6, 1))
    content = csv_file(
        [HEADERS, row(coffee, "0001/GCN", "01/06/2021", **{"Ngày quyết định": "20/05/2021"})]
    )

    import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    (old,) = certificates(db_session, "0001/GCN")
    assert (old.superseded_by_id, old.superseded_on) == (standing.id, date(2024, 6, 1))
    assert standing.superseded_by_id is None


def test_is_a_certificate_refused_between_two_already_chained_ones(
    db_session: Session, actor: Principal, coffee: Product
) -> None:
    newer = CertificateFactory(product=coffee, number="0200/GCN", issue_date=date(2024, 6, 1))
    CertificateFactory(
        product=coffee,
        issue_date=date(2018, 6, 1),
        superseded_by_id=newer.id,
        superseded_on=date(2024, 6, 1),
    )
    content = csv_file(
        [HEADERS, row(coffee, "0001/GCN", "01/06/2021", **{"Ngày quyết định": "20/05/2021"})]
    )

    report = import_certificates(db_session, actor, "ds.csv", content, dry_run=False)

    assert report.imported == 0
    assert (
        "Certificate 0200/GCN (issued 2024-06-01) already supersedes" in problems_of(report)[2][0]
    )


def test_is_a_header_below_row_50_not_looked_for(coffee: Product) -> None:
    content = csv_file([["ghi chú"]] * 50 + [HEADERS, row(coffee, "1/GCN")])

    with pytest.raises(InvalidInput, match="No header row in the first 50 rows"):
        read_table("ds.csv", content)


def test_is_a_csv_with_a_runaway_quote_refused() -> None:
    content = ",".join(HEADERS).encode() + b'\n"' + b"x" * 200_000

    with pytest.raises(InvalidInput, match="The CSV file is malformed"):
        read_table("ds.csv", content)


def cells(product: Product, **changes: Any) -> dict[str, Any]:
    values = {
        "number": "1/GCN",
        "decision_number": "1/QĐ",
        "decision_date": date(2024, 3, 1),
        "issuing_authority": "UBND huyện Krông Nô",
        "registration_code": product.producer.registration_code,
        "product_name": product.name_vi,
        "gtin": None,
        "star": 3,
        "issue_date": date(2024, 3, 15),
    }
    values.update(changes)
    if "issuing_authority" not in changes:
        values["issuing_authority"] = authority_for(values["star"], values["issuing_authority"])
    return values


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"star": True}, "(the file says 'True')"),
        ({"star": 3.5}, "(the file says '3.5')"),
        ({"star": date(2024, 1, 3)}, "(the file says '03/01/2024')"),
        ({"star": None}, "Missing star"),
        ({"issue_date": 45366}, "The issue date '45366' is not a date"),
        ({"registration_code": "ab"}, "Invalid registration code 'ab'"),
        ({"registration_code": None}, "Missing producer tax/registration code"),
    ],
)
def test_are_odd_cells_reported_rather_than_guessed(
    db_session: Session, coffee: Product, changes: dict[str, Any], says: str
) -> None:
    report = check_rows(db_session, [(2, cells(coffee, **changes))])

    assert any(says in problem for problem in problems_of(report)[2]), problems_of(report)


def test_are_whole_number_floats_and_dates_accepted_as_excel_gives_them(
    db_session: Session, coffee: Product
) -> None:
    table = [
        (2, cells(coffee, star=4.0, number=12.0, decision_date=datetime(2024, 3, 1, 8, 30))),
    ]

    report = check_rows(db_session, table)

    assert report.ok
    assert report.rows[0].values["number"] == "12"
    assert (report.rows[0].values["star"], report.rows[0].values["decision_date"]) == (
        4,
        date(2024, 3, 1),
    )


def test_does_an_ambiguous_product_name_ask_for_the_gtin(
    db_session: Session, coffee: Product
) -> None:
    ProductFactory(producer=coffee.producer, name_vi="Cà phê bột ĐẮK ĐAM")

    report = check_rows(db_session, [(2, cells(coffee))])

    assert "has 2 products named 'Cà phê bột Đắk Đam'; give the GTIN" in problems_of(report)[2][0]


def test_does_a_producer_without_products_say_so(db_session: Session, coffee: Product) -> None:
    lonely = ProducerFactory()

    report = check_rows(
        db_session, [(2, cells(coffee, registration_code=lonely.registration_code))]
    )

    assert "(it has no products registered)" in problems_of(report)[2][0]


@pytest.mark.parametrize(
    "authority, level",
    [
        ("UBND huyện Đắk Mil", "district"),
        ("UBND thành phố Gia Nghĩa", "district"),
        ("UBND tỉnh Đắk Nông", "province"),
        ("UBND Thành phố Hồ Chí Minh", "province"),
        ("Bộ Nông nghiệp và Môi trường", "central"),
        ("Hội đồng OCOP", None),
    ],
)
def test_is_the_issuing_authoritys_level_read_from_its_name(authority, level):
    from trace_service.certificates.importer import council_level_of

    assert council_level_of(authority) == level


@pytest.mark.parametrize(
    "authority, star, day",
    [
        ("UBND huyện Đắk Mil", 5, "10/05/2024"),
        ("UBND huyện Đắk Mil", 3, "10/05/2026"),
        ("UBND tỉnh Đắk Nông", 3, "10/05/2024"),
    ],
)
def test_is_a_row_whose_authority_could_not_certify_that_star_refused(
    db_session, authority, star, day
):
    from trace_service.certificates.importer import check_rows

    product = factories.ProductFactory()
    table = [
        (
            2,
            {
                "number": "X-1",
                "decision_number": "1/QĐ",
                "decision_date": day,
                "issuing_authority": authority,
                "gtin": product.gtin,
                "star": star,
                "issue_date": day,
            },
        )
    ]
    report = check_rows(db_session, table)
    assert not report.ok
    assert any("could not certify" in p for p in report.rows[0].problems)


# -- one rule, one message, for the API and the importer ---------------------------------------


def _api_refusal(db_session: Session, **changes: Any) -> DomainError:
    from trace_service.certificates import services

    evaluation = factories.EvaluationFactory(evaluated_on=date(2024, 3, 1))
    data = {
        "evaluation_id": evaluation.id,
        "number": "API-1",
        "decision_number": "1/QĐ-UBND",
        "decision_date": date(2024, 3, 10),
        "issue_date": date(2024, 3, 15),
        **changes,
    }
    with pytest.raises(DomainError) as caught:
        services.issue_certificate(db_session, system_principal("test"), data, today_vn())
    return caught.value


@pytest.mark.parametrize("rule", ["issue date in the future", "decision after issue", "taken"])
def test_do_the_api_and_the_importer_refuse_a_certificate_in_the_same_words(
    db_session: Session, coffee: Product, rule: str
) -> None:
    tomorrow = today_vn() + timedelta(days=1)
    CertificateFactory(number="9/GCN")
    api_changes, cells = {
        "issue date in the future": (
            {"issue_date": tomorrow, "decision_date": tomorrow},
            {"issue_date": tomorrow, "decision_date": tomorrow},
        ),
        "decision after issue": (
            {"decision_date": date(2024, 3, 16)},
            {"decision_date": date(2024, 3, 16)},
        ),
        "taken": ({"number": "9/GCN"}, {"number": "9/GCN"}),
    }[rule]

    error = _api_refusal(db_session, **api_changes)
    report = check_rows(db_session, [(2, cells_of(coffee, **cells))])

    said = f"{error.message.removesuffix('.')} / {error.message_en.removesuffix('.')}"
    assert said in problems_of(report)[2]


def cells_of(product: Product, **changes: Any) -> dict[str, Any]:
    return cells(product, **{"issuing_authority": "UBND tỉnh Đắk Nông", "star": 4, **changes})
