"""Import the list of certified OCOP products that provinces keep in spreadsheets.

A province sends a CSV (UTF-8, comma or semicolon separated) or an XLSX file with one row per
certificate. Headers are Vietnamese and matched without case or diacritics ("Số GCN" = "so gcn").
Every row is checked before anything is written; one bad row refuses the whole file, so a
province fixes the file and sends it again rather than untangling a half-done import.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from trace_service.audit.services import record_event
from trace_service.audit.tags import Tag
from trace_service.certificates import checks
from trace_service.certificates.checks import TEXT_LIMITS
from trace_service.certificates.models import Certificate
from trace_service.certificates.rules import COUNCIL_LEVEL_VI, CouncilLevel
from trace_service.certificates.signals import CertificateChange, announce
from trace_service.certificates.standing import is_open
from trace_service.certificates.validity import certificate_valid_until
from trace_service.clock import today_vn, vn_date
from trace_service.errors import InvalidInput
from trace_service.principal import Principal
from trace_service.registry.enums import UnitLevel
from trace_service.registry.models import AdministrativeUnit, Producer, Product
from trace_service.registry.validators import normalise_registration_code, validate_gtin
from trace_service.spreadsheets import SpreadsheetTooLarge, check_xlsx, looks_like_formula
from trace_service.text import fold
from trace_service.web.formatting import vn_number

MAX_BYTES = 5 * 1024 * 1024
HEADER_SEARCH_ROWS = 50  # the header row must be among the first 50 rows
MAX_COLUMNS = 100
_IN_CHUNK = 500  # values per SQL IN (...), well under SQLite's variable limit

# Field -> (Vietnamese label, English label, header aliases as `_header_key` gives them).
FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "number": (
        "Số GCN",
        "certificate number",
        ("so gcn", "so giay chung nhan", "so gcn ocop", "so giay chung nhan ocop"),
    ),
    "decision_number": ("Số quyết định", "decision number", ("so quyet dinh", "so qd")),
    "decision_date": ("Ngày quyết định", "decision date", ("ngay quyet dinh", "ngay qd")),
    "issuing_authority": ("Cơ quan cấp", "issuing authority", ("co quan cap", "don vi cap")),
    "registration_code": (
        "Mã số thuế",
        "producer tax/registration code",
        ("ma so thue", "mst", "ma so dkkd", "ma so dang ky kinh doanh"),
    ),
    "product_name": ("Tên sản phẩm", "product name", ("ten san pham",)),
    "gtin": ("GTIN", "GTIN", ("gtin", "ma vach")),
    "star": ("Số sao", "star", ("so sao", "hang sao")),
    "issue_date": ("Ngày cấp", "issue date", ("ngay cap",)),
}
OPTIONAL_FIELDS = frozenset({"gtin"})
REQUIRED_FIELDS = tuple(f for f in FIELDS if f not in OPTIONAL_FIELDS)
_ALIASES = {alias: name for name, (_, _, aliases) in FIELDS.items() for alias in aliases}
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
_STAR = re.compile(r"^(\d+)\s*(?:sao|\*|★|☆)?$")
VALUE_KEYS = (
    "number",
    "decision_number",
    "decision_date",
    "issuing_authority",
    "product_id",
    "star",
    "issue_date",
    "issuing_unit_id",  # the district or province of the issuing authority, when matched
)

Table = list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class ImportLimits:
    """How much of a file an import reads (``OCOP_IMPORT_*``; these defaults are theirs)."""

    max_rows: int = 5_000  # data rows below the header
    max_uncompressed_bytes: int = 10 * 1024 * 1024  # what an XLSX file may unpack to

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ImportLimits:
        return cls(
            max_rows=config["IMPORT_MAX_ROWS"],
            max_uncompressed_bytes=config["IMPORT_MAX_UNCOMPRESSED_BYTES"],
        )

    @property
    def max_scanned_rows(self) -> int:
        return 20 * self.max_rows  # blank rows included


@dataclass
class RowResult:
    line: int  # the row number a person sees in the spreadsheet (1-based, header counted)
    problems: list[str]  # each "<Vietnamese> / <English>"; empty means the row is fine
    values: dict[str, Any]  # VALUE_KEYS, None where the cell could not be read
    # The certificate is in the registry already, as this row has it (a list exported and
    # sent back): nothing to import, and not a problem.
    recorded: bool = False

    def as_json(self) -> dict[str, Any]:
        """As the API's ``ImportRowSchema`` shows it (dates in ISO 8601)."""
        values = {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in self.values.items()
        }
        return {
            "line": self.line,
            "problems": self.problems,
            "values": values,
            "recorded": self.recorded,
        }


@dataclass
class ImportReport:
    rows: list[RowResult]
    imported: int = 0  # 0 on a dry run or a refused import
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(row.problems for row in self.rows)

    @property
    def new_rows(self) -> list[RowResult]:
        """The rows that would make a certificate (not those recorded already)."""
        return [row for row in self.rows if not row.recorded]


def _problem(vi: str, en: str) -> str:
    return f"{vi} / {en}"


def _refuse(vi: str, en: str) -> InvalidInput:
    return InvalidInput(vi, en)


# -- reading the file -------------------------------------------------------------------------


def _header_key(cell: Any) -> str:
    """The folded header, punctuation as space: "Số QĐ:" -> "so qd", "MST (*)" -> "mst"."""
    return "" if cell is None else " ".join(re.sub(r"[^\w]+", " ", fold(str(cell))).split())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_columns(row: Sequence[Any]) -> dict[str, int]:
    """The fields this row names, with their column index (first occurrence wins)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(row):
        name = _ALIASES.get(_header_key(cell))
        if name is not None and name not in columns:
            columns[name] = index
    return columns


class _NoHeader(InvalidInput):
    def __init__(self, recognised: int, message: str, message_en: str) -> None:
        super().__init__(message, message_en)
        self.recognised = recognised  # how many required columns the nearest row names


@dataclass
class _HeaderSearch:
    """The first row naming every required field, or the nearest miss for the error message."""

    best: dict[str, int] = field(default_factory=dict)

    def offer(self, row: Sequence[Any]) -> dict[str, int] | None:
        columns = _header_columns(row)
        if all(name in columns for name in REQUIRED_FIELDS):
            return columns
        if len(columns) > len(self.best):
            self.best = columns
        return None

    def error(self) -> _NoHeader:
        missing = [name for name in REQUIRED_FIELDS if name not in self.best]
        vi = ", ".join(f"«{FIELDS[name][0]}»" for name in missing)
        en = ", ".join(f"'{FIELDS[name][0]}' ({FIELDS[name][1]})" for name in missing)
        if not self.best:
            return _NoHeader(
                0,
                f"Không tìm thấy dòng tiêu đề trong {HEADER_SEARCH_ROWS} dòng đầu; "
                f"cần các cột: {vi}.",
                f"No header row in the first {HEADER_SEARCH_ROWS} rows; "
                f"the file needs the columns {en}.",
            )
        return _NoHeader(len(self.best), f"Thiếu cột: {vi}.", f"Missing columns: {en}.")


def _too_many_rows(max_rows: int) -> SpreadsheetTooLarge:
    return SpreadsheetTooLarge(
        f"Tệp có hơn {vn_number(max_rows)} dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn.",
        f"The file has more than {max_rows:,} data rows; split it into smaller files.",
    )


def _table_from_rows(rows: Iterable[Sequence[Any]], limits: ImportLimits) -> Table:
    """Find the header row in ``rows`` and map the data rows below it to field names,
    reading no further than the limits allow."""
    search = _HeaderSearch()
    table: Table = []
    columns: dict[str, int] | None = None
    for line, raw in enumerate(rows, start=1):
        row = list(raw[:MAX_COLUMNS])
        if columns is None:
            if line > HEADER_SEARCH_ROWS:
                break
            columns = search.offer(row)
            continue
        if line > limits.max_scanned_rows:  # a sheet of a million blank rows is cheap to send
            break
        if all(_blank(cell) for cell in row):
            continue
        if len(table) >= limits.max_rows:
            raise _too_many_rows(limits.max_rows)
        table.append(
            (
                line,
                {
                    name: _clean(row[index]) if index < len(row) else None
                    for name, index in columns.items()
                },
            )
        )
    if columns is None:
        raise search.error()
    if not table:
        raise _refuse(
            "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề.",
            "The file has no data rows below its header row.",
        )
    return table


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return value


_DELIMITERS = (",", ";", "\t")


def _read_csv(content: bytes, limits: ImportLimits) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(
            "Tệp CSV không đọc được: cần mã hoá UTF-8 (trong Excel: Lưu thành «CSV UTF-8»).",
            f"The CSV file is not UTF-8 (byte {exc.start}); in Excel save as 'CSV UTF-8'.",
        ) from exc
    if "\x00" in text:
        raise _refuse("Tệp CSV không đọc được.", "The CSV file holds binary data, not text.")
    # Sniff the delimiter by the header: the one under which a row names the required columns.
    # (csv.Sniffer guesses from character counts and is fooled by a title row or by commas in
    # Vietnamese text.)
    errors: list[_NoHeader] = []
    for delimiter in sorted(_DELIMITERS, key=lambda d: -text[:4096].count(d)):
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            # Rows are counted as they are read and refused past the limit.
            return _table_from_rows(rows, limits)
        except csv.Error as exc:
            raise _refuse("Tệp CSV không đọc được.", f"The CSV file is malformed: {exc}.") from exc
        except _NoHeader as exc:
            errors.append(exc)
    # Report the delimiter that came closest: its message names the fewest missing columns.
    raise max(errors, key=lambda e: e.recognised)


def _read_xlsx(content: bytes, limits: ImportLimits) -> Table:
    unreadable = _refuse(
        "Tệp Excel không đọc được: cần tệp .xlsx hợp lệ.",
        "The Excel file cannot be read: it is not a valid .xlsx workbook.",
    )
    # Before any parsing: the archive's directory (what it unpacks to) and a streamed count
    # of the first sheet's rows. Rows above the header (titles, the header) count too.
    facts = check_xlsx(
        content,
        max_uncompressed_bytes=limits.max_uncompressed_bytes,
        count_rows_to=limits.max_rows + HEADER_SEARCH_ROWS,
    )
    if facts.rows > limits.max_rows + HEADER_SEARCH_ROWS:
        raise _too_many_rows(limits.max_rows)
    # openpyxl (~8 MiB) is imported on use, not with the app: a queue worker never needs it, and its
    # memory counts (issue 15).
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Styles or data validation openpyxl does not support are irrelevant here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, …) on damage
        raise unreadable from exc
    try:
        if not workbook.worksheets:
            raise unreadable
        sheet = workbook.worksheets[0]
        # The stored dimension may be missing or wrong; read the rows that are really there.
        sheet.reset_dimensions()
        return _table_from_rows(sheet.iter_rows(values_only=True), limits)
    finally:
        workbook.close()


def read_table(filename: str, content: bytes, limits: ImportLimits | None = None) -> Table:
    """The data rows of a CSV or XLSX file as ``(line, {field: raw value})``.

    Raises ``SpreadsheetTooLarge`` (413) for a file that is too big, unpacks to too much or
    has more data rows than ``limits`` allow (checked before an XLSX file is parsed), and
    ``InvalidInput`` for a file of another kind, unreadable, or without the required headers.
    """
    limits = limits or ImportLimits()
    if len(content) > MAX_BYTES:
        raise SpreadsheetTooLarge(
            f"Tệp quá lớn ({len(content) / 1024 / 1024:.1f} MiB); tối đa 5 MiB.",
            f"The file is too large ({len(content) / 1024 / 1024:.1f} MiB); the limit is 5 MiB.",
        )
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return _read_csv(content, limits)
    if extension == "xlsx":
        return _read_xlsx(content, limits)
    hint_vi = " (tệp .xls cũ: hãy lưu lại thành .xlsx)" if extension == "xls" else ""
    hint_en = " (an old .xls file: save it as .xlsx)" if extension == "xls" else ""
    raise _refuse(
        f"Chỉ nhận tệp .csv hoặc .xlsx, không nhận «{filename}»{hint_vi}.",
        f"Only .csv and .xlsx files are accepted, not '{filename}'{hint_en}.",
    )


# -- parsing cells ----------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return vn_date(value)
    return " ".join(str(value).split())


def _shown(value: Any) -> str:
    return _text(value) or ""


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _star(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        match = _STAR.match(fold(value))
        return int(match.group(1)) if match else None
    return None


def _registration_code(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A tax code typed into a number cell loses its leading zero: 0101234567 -> 101234567.
        digits = _text(value) or ""
        return digits.zfill(10) if digits.isdigit() else digits
    return _text(value)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


# -- checking ---------------------------------------------------------------------------------


@dataclass
class _Row:
    result: RowResult
    gtin: str | None = None
    code: str | None = None
    name: str | None = None


# Cities run by the centre are province-level although their UBND is "UBND thành phố …".
_CENTRAL_CITIES = ("ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue")


def council_level_of(authority: str) -> CouncilLevel | None:
    """The level of an issuing authority as spreadsheets write it ("UBND huyện Đắk Mil",
    "UBND tỉnh Đắk Nông", "Bộ Nông nghiệp và Môi trường"); None when the text does not say."""
    name = fold(authority)
    if name.startswith(("bo ", "van phong dieu phoi trung uong")) or "thu tuong" in name:
        return CouncilLevel.CENTRAL
    if "tinh" in name.split() or any(city in name for city in _CENTRAL_CITIES):
        return CouncilLevel.PROVINCE
    if any(word in name for word in ("huyen", "thi xa", "thanh pho", "quan")):
        return CouncilLevel.DISTRICT
    return None


# Every identifier the importer reads: none may look like a spreadsheet formula.
IDENTIFIERS = ("number", "decision_number", "registration_code", "gtin")


def _formula_problem(name: str, text: str) -> str | None:
    """A problem for an identifier that a spreadsheet program would run as a formula
    (``=cmd|' /C calc'!A0``): kept, it would reach every export and every copy of it."""
    if not looks_like_formula(text):
        return None
    vi, en, _ = FIELDS[name]
    shown = text if len(text) <= 40 else text[:39] + "…"
    return _problem(
        f"«{vi}» «{shown}» bắt đầu bằng «{text[0]}» như một công thức bảng tính; "
        "mã số không được bắt đầu bằng =, +, - hoặc @",
        f"The {en} '{shown}' starts with '{text[0]}' like a spreadsheet formula; "
        "identifiers may not begin with =, +, - or @",
    )


def _missing(row: _Row, name: str) -> None:
    vi, en, _ = FIELDS[name]
    row.result.problems.append(_problem(f"Thiếu «{vi}»", f"Missing {en}"))


def _read_texts(row: _Row, cells: dict[str, Any]) -> None:
    """The certificate number, the decision number and the issuing authority."""
    for name in ("number", "decision_number", "issuing_authority"):
        text = _text(cells.get(name))
        formula = _formula_problem(name, text) if text and name in IDENTIFIERS else None
        if text is None:
            _missing(row, name)
        elif formula:
            row.result.problems.append(formula)
        elif len(text) > TEXT_LIMITS[name]:
            vi, en, _ = FIELDS[name]
            row.result.problems.append(
                _problem(
                    f"«{vi}» dài quá {TEXT_LIMITS[name]} ký tự",
                    f"The {en} is longer than {TEXT_LIMITS[name]} characters",
                )
            )
        else:
            row.result.values[name] = text


def _read_dates(row: _Row, cells: dict[str, Any]) -> None:
    for name in ("decision_date", "issue_date"):
        raw = cells.get(name)
        if _blank(raw):
            _missing(row, name)
            continue
        parsed = _date(raw)
        if parsed is None:
            vi, en, _ = FIELDS[name]
            row.result.problems.append(
                _problem(
                    f"«{vi}» «{_shown(raw)}» không phải ngày hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)",
                    f"The {en} '{_shown(raw)}' is not a date (dd/mm/yyyy or yyyy-mm-dd)",
                )
            )
        else:
            row.result.values[name] = parsed


def _read_star(row: _Row, cells: dict[str, Any]) -> None:
    raw = cells.get("star")
    if _blank(raw):
        _missing(row, "star")
        return
    star = _star(raw)
    problem = checks.certified_star(star, f"ghi «{_shown(raw)}»", f"the file says '{_shown(raw)}'")
    if problem is not None:
        row.result.problems.append(problem.text())
    else:
        row.result.values["star"] = star


def _check_certificate(row: _Row, today: date) -> None:
    """``checks``' rules for the certificate the row's cells make (as the API's)."""
    values = row.result.values
    decided, issued = values["decision_date"], values["issue_date"]
    authority, star = values["issuing_authority"], values["star"]
    level = council_level_of(authority) if authority else None
    day = decided or issued
    found = [
        checks.decision_in_order(decided, issued) if decided and issued else None,
        (
            checks.council_may_certify(
                level, star, day, f"«{authority}»", f"'{authority}' ({level} level)"
            )
            if level is not None and star is not None and day is not None
            else None
        ),
        checks.not_in_future("issue_date", issued, today) if issued else None,
    ]
    row.result.problems.extend(problem.text() for problem in found if problem is not None)


def _read_gtin(row: _Row, cells: dict[str, Any]) -> None:
    gtin = _text(cells.get("gtin"))
    formula = _formula_problem("gtin", gtin) if gtin else None
    if formula:
        row.result.problems.append(formula)
    elif gtin is not None:
        compact = gtin.replace(" ", "")
        try:
            validate_gtin(compact)
        except ValidationError as exc:
            row.result.problems.append(
                _problem(f"GTIN «{gtin}» không hợp lệ", f"Invalid GTIN '{gtin}': {exc.messages[0]}")
            )
        else:
            row.gtin = compact.zfill(14)


def _read_producer(row: _Row, cells: dict[str, Any]) -> None:
    """The producer's code and the product's name, which find the product without a GTIN."""
    code = _registration_code(cells.get("registration_code"))
    formula = _formula_problem("registration_code", code) if code else None
    if formula:
        row.result.problems.append(formula)
    elif code is not None:
        try:
            row.code = normalise_registration_code(code)
        except ValidationError as exc:
            row.result.problems.append(
                _problem(
                    f"Mã số thuế/ĐKKD «{code}» không hợp lệ",
                    f"Invalid registration code '{code}': {exc.messages[0]}",
                )
            )
    row.name = _text(cells.get("product_name"))
    if _text(cells.get("gtin")) is None:
        if code is None:
            _missing(row, "registration_code")
        if row.name is None:
            _missing(row, "product_name")


def _parse_row(line: int, cells: dict[str, Any], today: date) -> _Row:
    """Read one row's cells and check what it says on its own (``_check_across`` checks it
    against the other rows and the database)."""
    row = _Row(RowResult(line, [], dict.fromkeys(VALUE_KEYS)))
    _read_texts(row, cells)
    _read_dates(row, cells)
    _read_star(row, cells)
    _check_certificate(row, today)
    # The product: by GTIN when given, else by the producer's code and the product's name.
    _read_gtin(row, cells)
    _read_producer(row, cells)
    return row


def _in_chunks(
    session: Session, stmt: Callable[[Sequence[Any]], Any], values: Iterable[Any]
) -> Iterator[Any]:
    """The rows of ``stmt(chunk)`` for the sorted distinct ``values``, a chunk at a time."""
    for chunk in _chunks(sorted(set(values))):
        yield from session.scalars(stmt(chunk))


def _products_by_gtin(session: Session, rows: list[_Row]) -> dict[str, Product]:
    return {
        product.gtin14 or "": product
        for product in _in_chunks(
            session,
            lambda chunk: (
                select(Product)
                .where(Product.gtin14.in_(chunk))
                .options(selectinload(Product.producer))
            ),
            (r.gtin for r in rows if r.gtin),
        )
    }


def _producers_by_code(session: Session, rows: list[_Row]) -> dict[str, Producer]:
    return {
        producer.registration_code: producer
        for producer in _in_chunks(
            session,
            lambda chunk: select(Producer).where(Producer.registration_code.in_(chunk)),
            (r.code for r in rows if r.code),
        )
    }


def _products_of(session: Session, producers: Iterable[Producer]) -> dict[int, list[Product]]:
    products: dict[int, list[Product]] = defaultdict(list)
    for product in _in_chunks(
        session,
        lambda chunk: select(Product).where(Product.producer_id.in_(chunk)).order_by(Product.id),
        (p.id for p in producers),
    ):
        products[product.producer_id].append(product)
    return products


def _match_gtin(row: _Row, gtin: str, product: Product | None) -> str | int:
    """The product id of a row that gives a GTIN, or the problem."""
    shown = gtin.lstrip("0")
    if product is None:
        return _problem(
            f"Không có sản phẩm nào mang GTIN {shown}", f"No product has the GTIN {shown}"
        )
    owner = product.producer.registration_code
    if row.code is not None and owner != row.code:
        return _problem(
            f"GTIN {shown} là của «{product.name_vi}» thuộc chủ thể mã số {owner}, "
            f"không phải {row.code}",
            f"GTIN {shown} belongs to '{product.name_vi}' of the producer {owner}, not {row.code}",
        )
    return product.id


def _match_name(row: _Row, name: str, producer: Producer, owned: list[Product]) -> str | int:
    """The product id of a row found by its producer and the product's name, or the problem."""
    matches = [p for p in owned if fold(p.name_vi) == fold(name)]
    if len(matches) == 1:
        return matches[0].id
    if matches:
        return _problem(
            f"Chủ thể {producer.name} có {len(matches)} sản phẩm tên «{name}»; hãy ghi GTIN",
            f"The producer {producer.name} has {len(matches)} products named '{name}'; "
            "give the GTIN",
        )
    known = "; ".join(p.name_vi for p in owned[:5]) + ("; …" if len(owned) > 5 else "")
    return _problem(
        f"Chủ thể {producer.name} ({row.code}) không có sản phẩm tên «{name}»"
        + (f" (có: {known})" if owned else " (chưa đăng ký sản phẩm nào)"),
        f"The producer {producer.name} ({row.code}) has no product named '{name}'"
        + (f" (it has: {known})" if owned else " (it has no products registered)"),
    )


def _find_products(session: Session, rows: list[_Row]) -> None:
    """Set ``values["product_id"]`` of each row, or say why its product cannot be found."""
    by_gtin = _products_by_gtin(session, rows)
    producers = _producers_by_code(session, rows)
    products_of = _products_of(session, producers.values())
    for row in rows:
        if row.gtin is not None:
            found = _match_gtin(row, row.gtin, by_gtin.get(row.gtin))
        elif row.code is None or row.name is None:
            continue  # already reported
        elif (producer := producers.get(row.code)) is None:
            found = _problem(
                f"Không có chủ thể nào có mã số thuế/ĐKKD {row.code}",
                f"No producer has the registration code {row.code}",
            )
        else:
            found = _match_name(row, row.name, producer, products_of.get(producer.id, []))
        if isinstance(found, int):
            row.result.values["product_id"] = found
        else:
            row.result.problems.append(found)


def _repeats(
    rows: list[_Row], key_of: Callable[[dict[str, Any]], Hashable | None]
) -> dict[int, list[int]]:
    """Row index -> the lines of the other rows with the same key."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        key = key_of(row.result.values)
        if key is not None:
            groups[key].append(index)
    others: dict[int, list[int]] = {}
    for indexes in groups.values():
        if len(indexes) > 1:
            for index in indexes:
                others[index] = [rows[i].result.line for i in indexes if i != index]
    return others


def _lines(lines: list[int]) -> str:
    return ", ".join(str(n) for n in lines)


def _certificates_of(session: Session, product_ids: Iterable[int]) -> dict[int, list[Certificate]]:
    """The products' certificates, oldest first."""
    by_product: dict[int, list[Certificate]] = defaultdict(list)
    for cert in _in_chunks(
        session,
        lambda chunk: (
            select(Certificate)
            .where(Certificate.product_id.in_(chunk))
            .order_by(Certificate.issue_date, Certificate.id)
        ),
        product_ids,
    ):
        by_product[cert.product_id].append(cert)
    return by_product


_SAME_AS_RECORDED = ("product_id", "star", "issue_date", "decision_number", "decision_date")


def _recorded(values: dict[str, Any], cert: Certificate | None) -> bool:
    """The row is this certificate as it is recorded (an exported list sent back)."""
    return cert is not None and all(values[k] == getattr(cert, k) for k in _SAME_AS_RECORDED)


def _check_numbers(session: Session, rows: list[_Row]) -> None:
    """Each certificate number is new, or the row is that certificate exactly as recorded;
    and used once in the file."""
    existing = {
        cert.number: cert
        for cert in _in_chunks(
            session,
            lambda chunk: select(Certificate).where(Certificate.number.in_(chunk)),
            (r.result.values["number"] for r in rows if r.result.values["number"]),
        )
    }
    repeated = _repeats(rows, lambda v: v["number"])
    for index, row in enumerate(rows):
        number = row.result.values["number"]
        if _recorded(row.result.values, existing.get(number)):
            row.result.recorded = True
        elif number:
            problem = checks.number_free(number, existing)
            if problem is not None:
                row.result.problems.append(problem.text())
        if index in repeated:
            others = _lines(repeated[index])
            row.result.problems.append(
                _problem(
                    f"Số GCN {number} trùng với dòng {others}",
                    f"The certificate number {number} repeats line {others}",
                )
            )


def _check_history(session: Session, rows: list[_Row]) -> None:
    """Each certificate fits its product's history: one per issue date, in the file and in
    the database, and none slotted in between two already chained."""
    existing = _certificates_of(
        session, (r.result.values["product_id"] for r in rows if r.result.values["product_id"])
    )
    successors = {c.superseded_by_id for certs in existing.values() for c in certs}
    same_day = _repeats(
        rows,
        lambda v: (
            (v["product_id"], v["issue_date"]) if v["product_id"] and v["issue_date"] else None
        ),
    )
    for index, row in enumerate(rows):
        product_id, issued = row.result.values["product_id"], row.result.values["issue_date"]
        if product_id is None or issued is None or row.result.recorded:
            continue
        if index in same_day:
            others = _lines(same_day[index])
            row.result.problems.append(
                _problem(
                    f"Sản phẩm này có giấy chứng nhận cùng ngày cấp {vn_date(issued)} "
                    f"ở dòng {others}",
                    f"The same product has a certificate issued on {issued.isoformat()} "
                    f"on line {others}",
                )
            )
        certs = existing.get(product_id, [])
        later = [c for c in certs if c.issue_date > issued]
        found = [checks.same_day(cert, issued) for cert in certs]
        found.append(checks.chained_around(later[0], successors) if later else None)
        row.result.problems.extend(problem.text() for problem in found if problem is not None)


def _check_across(session: Session, rows: list[_Row]) -> None:
    """Rules that need the other rows or the database: repeated numbers, dates, chains."""
    _check_numbers(session, rows)
    _check_history(session, rows)


# -- the issuing authority's unit --------------------------------------------------------------

_UNIT_LEVEL = {CouncilLevel.DISTRICT: UnitLevel.DISTRICT, CouncilLevel.PROVINCE: UnitLevel.PROVINCE}
MAX_CANDIDATES = 8


def _unit_key(name: str) -> str:
    """ "UBND huyện Đắk Mil" and "Huyện Đắk Mil" alike: "huyen dak mil"."""
    folded = fold(name.split(",")[0])  # "UBND huyện Đắk Mil, tỉnh Đắk Nông"
    for prefix in ("uy ban nhan dan ", "ubnd "):
        folded = folded.removeprefix(prefix)
    return " ".join(folded.split())


def _row_days(values: dict[str, Any]) -> list[date]:
    return [d for d in (values["decision_date"], values["issue_date"]) if d is not None]


def _unmatched(
    authority: str, level: CouncilLevel, units: list[AdministrativeUnit], day: date
) -> str:
    """No unit has the authority's name: say which units of its level existed that day."""
    near = [u.name for u in units if _UNIT_LEVEL[level] is u.level and u.is_valid_on(day)]
    shown = ", ".join(f"UBND {n[0].lower()}{n[1:]}" for n in near[:MAX_CANDIDATES]) or "—"
    return _problem(
        f"Không tìm thấy đơn vị hành chính của «{authority}» ({COUNCIL_LEVEL_VI[level]}); "
        f"có thể là: {shown}",
        f"'{authority}' matches no administrative unit ({level} level); candidates: {shown}",
    )


def _match_unit(row: _Row, units: list[AdministrativeUnit]) -> None:
    """Link the row to its issuing authority's unit, which must have existed on the
    decision and issue dates (``checks.authority_existed``, as the API checks it); a 5★
    certificate names the ministry of its day (``checks.central_authority``)."""
    values = row.result.values
    authority, days = values["issuing_authority"], _row_days(values)
    level = council_level_of(authority) if authority else None
    if level is None or not days:
        return
    if level is CouncilLevel.CENTRAL:
        found = [checks.central_authority(authority, day) for day in days[:1]]
        row.result.problems.extend(p.text() for p in found if p is not None)
        return
    named = [
        u
        for u in units
        if u.level is _UNIT_LEVEL[level] and _unit_key(u.name) == _unit_key(authority)
    ]
    if not named:
        row.result.problems.append(_unmatched(authority, level, units, days[0]))
        return
    unit = next((u for u in named if all(u.is_valid_on(d) for d in days)), None)
    if unit is not None:
        values["issuing_unit_id"] = unit.id
        return
    day = next(d for d in days if not named[-1].is_valid_on(d))
    problem = checks.authority_existed("issuing_unit_id", named[-1], day)
    if problem is not None:
        row.result.problems.append(problem.text())


def _match_authorities(session: Session, rows: list[_Row]) -> None:
    units = list(
        session.scalars(
            select(AdministrativeUnit)
            .where(AdministrativeUnit.level.in_(list(_UNIT_LEVEL.values())))
            .options(selectinload(AdministrativeUnit.successor))
            .order_by(AdministrativeUnit.valid_from, AdministrativeUnit.id)
        )
    )
    for row in rows:
        _match_unit(row, units)


def check_rows(session: Session, table: Table) -> ImportReport:
    """Check every row of ``table`` (from ``read_table``) without writing anything."""
    today = today_vn()
    rows = [_parse_row(line, cells, today) for line, cells in table]
    _match_authorities(session, rows)
    _find_products(session, rows)
    _check_across(session, rows)
    return ImportReport(rows=[row.result for row in rows], imported=0)


# -- importing --------------------------------------------------------------------------------


def _supersede(session: Session, product_ids: Iterable[int]) -> dict[Certificate, Certificate]:
    """Chain each product's certificates by issue date, as ``issue_certificate`` does: every
    open certificate followed by a newer one is superseded by the next one.
    Returns ``{superseded: successor}``."""
    superseded: dict[Certificate, Certificate] = {}
    for certs in _certificates_of(session, product_ids).values():
        successors = {c.superseded_by_id for c in certs if c.superseded_by_id is not None}
        for older, newer in pairwise(certs):
            if is_open(older) and newer.id not in successors:
                older.superseded_by_id, older.superseded_on = newer.id, newer.issue_date
                successors.add(newer.id)
                superseded[older] = newer
    return superseded


def _product_name(session: Session, product_id: int) -> str:
    product = session.get(Product, product_id)
    return product.name_vi if product is not None else ""


def _new_certificate(session: Session, values: dict[str, Any]) -> Certificate:
    return Certificate(
        number=values["number"],
        decision_number=values["decision_number"],
        decision_date=values["decision_date"],
        issuing_unit_id=values["issuing_unit_id"],
        issuing_authority=values["issuing_authority"],
        product_id=values["product_id"],
        product_name=_product_name(session, values["product_id"]),
        evaluation_id=None,
        star=values["star"],
        issue_date=values["issue_date"],
        valid_until=certificate_valid_until(
            session.get(AdministrativeUnit, values["issuing_unit_id"])
            if values["issuing_unit_id"]
            else None,
            values["issue_date"],
            values["decision_date"],
        ),
    )


def import_certificates(
    session: Session,
    actor: Principal,
    filename: str,
    content: bytes,
    *,
    dry_run: bool,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Check the file and, unless ``dry_run`` or any row has a problem, create its
    certificates; all or nothing. Flushes but never commits."""
    table = read_table(filename, content, limits)
    report = check_rows(session, table)
    report.dry_run = dry_run
    if dry_run or not report.ok:
        return report
    certs = [_new_certificate(session, row.values) for row in report.new_rows]
    if not certs:
        return report  # every row recorded already: nothing to write, nothing to audit
    session.add_all(certs)
    session.flush()
    superseded = _supersede(session, (c.product_id for c in certs))
    session.flush()
    record_event(
        session,
        actor,
        Tag.CERTIFICATES_IMPORTED,
        "certificate_import",
        None,
        {
            "filename": filename,
            "rows": len(certs),
            "certificate_ids": [c.id for c in certs],
            "superseded": {str(old.id): new.id for old, new in superseded.items()},
        },
    )
    for cert in certs:
        announce(session, CertificateChange.ISSUED, cert)
    for old in superseded:
        announce(session, CertificateChange.SUPERSEDED, old)
    report.imported = len(certs)
    return report


class ImportRefused(InvalidInput):
    """Some rows have problems, so nothing was imported: the rows under ``errors.rows``."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            "Tệp có dòng lỗi; không nhập dòng nào.",
            "Some rows have problems; nothing was imported.",
            errors={"rows": [row.as_json() for row in report.rows if row.problems]},
        )
        self.report = report


def import_all_or_nothing(
    session: Session,
    actor: Principal,
    filename: str,
    content: bytes,
    *,
    dry_run: bool,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """``import_certificates``, and a refused import (not a dry run) raised as
    ``ImportRefused`` (422), as the API answers it."""
    report = import_certificates(session, actor, filename, content, dry_run=dry_run, limits=limits)
    if not report.ok and not dry_run:
        raise ImportRefused(report)
    return report
