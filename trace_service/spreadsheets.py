"""Spreadsheets from outside, and spreadsheets we write: the checks both need.

An XLSX file is a ZIP archive of XML parts. Its size on the wire says little about the work
of reading it: a few megabytes can unpack to gigabytes (a "zip bomb") or hold millions of
rows. ``check_xlsx`` reads only the archive's directory and streams the one sheet that will be
read, counting rows, so a workbook over the limits is refused before any spreadsheet library
parses it. (Python's ``zipfile`` stops every member at the size the directory declares and
fails its checksum beyond it, so the declared sizes bound what a later parse can unpack.)

A cell that begins with ``=``, ``+``, ``-`` or ``@`` is run as a formula by spreadsheet
programs when a file is opened ("CSV/formula injection": ``=cmd|' /C calc'!A0``). Identifiers
that look like that are refused on import (``looks_like_formula``), and every value written
to a CSV export goes through ``escape_formula``. An XLSX export needs no escaping: its text
cells are written as text (``xlsx_row``: an inline string, never a formula, whatever it begins
with), so a phone number "+84 263 …" reads back as it was, without an apostrophe.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any
from xml.parsers import expat

from trace_service.errors import DomainError, InvalidInput
from trace_service.fields import FORMULA_STARTS

# Also escaped on export: a tab or carriage return before the formula hides it from some
# checks while spreadsheet programs still run it (OWASP's list).
_EXPORT_ESCAPED = (*FORMULA_STARTS, "\t", "\r")

# A member unpacking to more than this many times its packed size is no spreadsheet data:
# real sheets of text and numbers pack 5-30 to 1 (a sheet of 5,000 identical rows about 60).
MAX_RATIO = 100
RATIO_CHECKED_ABOVE = 1 << 20  # small parts (styles, an empty sheet) may pack better
MAX_MEMBERS = 1_000
_CHUNK = 1 << 16
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    expat.ExpatError,
    OSError,
    EOFError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKSHEET = f"{_OFFICE_REL}/worksheet"
_OFFICE_DOCUMENT = f"{_OFFICE_REL}/officeDocument"


class SpreadsheetTooLarge(DomainError):
    """A file that would cost more to read than the service allows (413)."""

    status = 413
    code = "payload_too_large"


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet program run ``text`` as a formula?"""
    return text.startswith(FORMULA_STARTS)


def escape_formula(value: Any) -> Any:
    """A value made safe for a CSV or XLSX export: text that a spreadsheet program would run
    as a formula gets a leading apostrophe (shown as text, never run); anything else is
    returned unchanged. Use it on every cell of every export."""
    if isinstance(value, str) and value.startswith(_EXPORT_ESCAPED):
        return "'" + value
    return value


def xlsx_row(sheet: Any, values: Sequence[Any]) -> list[Any]:
    """A row for a write-only openpyxl sheet: text as text cells (openpyxl would make a
    formula of any text beginning with ``=``), numbers, dates and blanks as they are."""
    # openpyxl (~8 MiB) is imported on use, not with the app: a queue worker never needs
    # it, and its memory counts (issue 15).
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


@dataclass(frozen=True)
class XlsxFacts:
    uncompressed_bytes: int
    rows: int  # rows of the first worksheet with a value, counted up to one past the cap


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def _unreadable() -> InvalidInput:
    return InvalidInput(
        "Tệp Excel không đọc được: cần tệp .xlsx hợp lệ.",
        "The Excel file cannot be read: it is not a valid .xlsx workbook.",
    )


class _Stop(Exception):
    """Raised inside an expat handler to stop parsing early."""


def _parser(*, on_start: Any = None) -> Any:
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse_doctype(*_args: Any) -> None:
        # Spreadsheet parts never declare a DTD; one that does may define entities that
        # expand without bound ("billion laughs").
        raise _Stop("doctype")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    if on_start is not None:
        parser.StartElementHandler = on_start
    return parser


def _feed(parser: Any, stream: IO[bytes]) -> None:
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _no_doctype(archive: zipfile.ZipFile, name: str) -> None:
    """Read ``name`` up to its root element: refused if its prolog declares a DTD."""

    def at_root(*_args: Any) -> None:
        raise _Stop("root")

    with archive.open(name) as stream:
        try:
            _feed(_parser(on_start=at_root), stream)
        except _Stop as stop:
            if str(stop) == "doctype":
                raise _unreadable() from None


def _relationships(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_REL_NS} Relationship":
            found.append(attrs)

    with archive.open(name) as stream:
        _feed(_parser(on_start=start), stream)
    return found


def _resolve(base: str, target: str) -> str:
    """A relationship's target as an archive member name (targets are relative to the part
    that holds them, or absolute from the package root)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def first_worksheet(archive: zipfile.ZipFile) -> str | None:
    """The member holding the workbook's first worksheet: the one a reader such as
    openpyxl opens as ``worksheets[0]`` (sheets in the workbook's order, chart sheets left
    out)."""
    names = set(archive.namelist())
    if "_rels/.rels" not in names:
        return None
    workbook = next(
        (
            _resolve("", rel.get("Target", ""))
            for rel in _relationships(archive, "_rels/.rels")
            if rel.get("Type") == _OFFICE_DOCUMENT
        ),
        None,
    )
    if workbook is None or workbook not in names or _rels_of(workbook) not in names:
        return None
    worksheets = {
        rel.get("Id"): _resolve(workbook, rel.get("Target", ""))
        for rel in _relationships(archive, _rels_of(workbook))
        if rel.get("Type") == _WORKSHEET
    }
    order: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN} sheet":
            order.append(attrs.get(f"{_OFFICE_REL} id", ""))

    with archive.open(workbook) as stream:
        _feed(_parser(on_start=start), stream)
    return next((worksheets[rid] for rid in order if worksheets.get(rid) in names), None)


def _count_rows(stream: IO[bytes], cap: int) -> int:
    """Rows with at least one value (a ``<v>`` or inline string), up to ``cap`` + 1: blank
    rows that only carry formatting do not count, as they are skipped when read."""
    state = {"rows": 0, "in_row": False, "counted": False}

    def start(tag: str, _attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN} row":
            state["in_row"], state["counted"] = True, False
        elif state["in_row"] and not state["counted"] and tag in (f"{_MAIN} v", f"{_MAIN} is"):
            state["counted"] = True
            state["rows"] += 1
            if state["rows"] > cap:
                raise _Stop("cap")

    def end(tag: str) -> None:
        if tag == f"{_MAIN} row":
            state["in_row"] = False

    parser = _parser(on_start=start)
    parser.EndElementHandler = end
    try:
        _feed(parser, stream)
    except _Stop as stop:
        if str(stop) == "doctype":
            raise _unreadable() from None
    return int(state["rows"])


def check_xlsx(content: bytes, *, max_uncompressed_bytes: int, count_rows_to: int) -> XlsxFacts:
    """Refuse a workbook that would unpack to more than ``max_uncompressed_bytes``, packs
    suspiciously well or declares a DTD, reading only the ZIP directory and the parts'
    prologs; then count the first worksheet's rows with values as it streams, stopping past
    ``count_rows_to`` (the caller refuses a workbook with more rows than it reads).

    Raises ``SpreadsheetTooLarge`` (413) for the size, ``InvalidInput`` (422) for a file
    that is no workbook."""
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable() from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _unreadable()
        total = sum(member.file_size for member in members)
        if total > max_uncompressed_bytes:
            raise SpreadsheetTooLarge(
                f"Tệp Excel giải nén ra {_mib(total)}, quá giới hạn "
                f"{_mib(max_uncompressed_bytes)}; hãy xoá các trang, hình ảnh và định dạng "
                "không cần thiết hoặc chia thành nhiều tệp nhỏ hơn.",
                f"The Excel file unpacks to {_mib(total)}, over the limit of "
                f"{_mib(max_uncompressed_bytes)}; remove unneeded sheets, pictures and "
                "formatting, or split it into smaller files.",
            )
        for member in members:
            packed = max(member.compress_size, 1)
            if member.file_size > RATIO_CHECKED_ABOVE and member.file_size > MAX_RATIO * packed:
                raise SpreadsheetTooLarge(
                    f"Tệp Excel có phần «{member.filename}» nén bất thường "
                    f"({member.file_size // packed}:1); không đọc tệp này.",
                    f"The Excel file's part '{member.filename}' is compressed suspiciously "
                    f"well ({member.file_size // packed} to 1); the file is not read.",
                )
        try:
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    _no_doctype(archive, member.filename)
            sheet = first_worksheet(archive)
            if sheet is None:
                raise _unreadable()
            with archive.open(sheet) as stream:
                rows = _count_rows(stream, count_rows_to)
        except _READ_ERRORS as exc:  # a damaged, encrypted or oddly packed archive
            raise _unreadable() from exc
    return XlsxFacts(uncompressed_bytes=total, rows=rows)
