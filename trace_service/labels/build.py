"""Drawing a print run's files from its issued labels, resumable and with visible progress.

A build takes a lease on the run (status ``building``, ``lease_until``), so two builders
never draw the same run; a builder that dies leaves a lease that runs out, and the run can
be built again (``resume``) from the same labels: no serial is ever made twice. Every file is
written to a temporary name and renamed into place only when complete, and downloads serve
only the files a ready run lists, so a half-drawn file is never offered for download.

One pass over the labels draws every file: the A4 sheet PDF(s) and the thermal ZPL at 203 and
300 dpi, from the same QR matrices, so a ZPL file is never drawn in a download request and is
ready when the run is. A run over 10,000 labels comes in parts, a PDF and a ZPL file per dpi
for each 10,000 (the parts the queue's workers draw at once, ``build_parts``). For a
10,000-label run the ZPL adds 1.8 s of CPU to a 6.1 s build and 60 MB of disk (27 and 33 MB,
beside 14.4 MB of PDF); drawing each file on its first download instead (a queued job) would
cost 2.0-2.3 s of CPU per file asked for, its QR codes made again, and a second job state
(status, lease, progress) per file beside the run's (``bench/zpl_bench.py``). The files are
a cache of the labels: a ready run whose files are gone is drawn again (``missing_files``,
``reopen``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.clock import vn_date
from trace_service.db import utcnow
from trace_service.errors import DomainError
from trace_service.labels import payload, serials
from trace_service.labels.art import LabelArt, StampFacts
from trace_service.labels.models import Label, PrintRun, RunStatus
from trace_service.labels.print_settings import sheet_options
from trace_service.labels.qrbatch import encode_batch
from trace_service.labels.render.sheet_pdf import render_sheet_pdf
from trace_service.labels.render.zpl import ZplWriter
from trace_service.labels.services import claims_for
from trace_service.labels.tags import LabelTag
from trace_service.principal import Principal

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
CHUNK = 256  # labels encoded together: numpy batches, bounded memory
# reportlab keeps a document's pages until it saves (their deflated streams wait in a
# temporary file: sheet_pdf._PageStream), so a run is drawn as PDFs of at most this many
# labels: parts that queue workers draw at once, each well under 300 MiB (issue 15).
SHEET_PART_LABELS = 10_000


@dataclass(frozen=True)
class LabelRow:
    seq: int
    serial: str
    signature: bytes


def stamp_facts(run: PrintRun) -> StampFacts:
    certificate = run.certificate
    return StampFacts(
        star=run.star,
        product_name=certificate.product_name,  # the certified name, as on the certificate
        producer_name=run.producer.name,
        certificate_number=certificate.number,
        valid_until=run.valid_until,
    )


def label_rows(
    session: Session,
    run_id: int,
    chunk: int = CHUNK,
    seqs: tuple[int, int | None] = (0, None),
) -> Iterator[list[LabelRow]]:
    """The run's labels in sheet order, a chunk at a time (keyset pagination); ``seqs``:
    only those with ``first < seq <= last`` (a part of the run; None: to its end)."""
    after, last = seqs
    while True:
        query = select(Label.seq, Label.serial, Label.signature).where(
            Label.run_id == run_id, Label.seq > after
        )
        if last is not None:
            query = query.where(Label.seq <= last)
        rows = session.execute(query.order_by(Label.seq).limit(chunk)).all()
        if not rows:
            return
        yield [LabelRow(r.seq, r.serial, r.signature) for r in rows]
        after = rows[-1].seq


def label_art(
    session: Session,
    run: PrintRun,
    scratch_key: bytes | None,
    chunk: int = CHUNK,
    seqs: tuple[int, int | None] = (0, None),
) -> Iterator[LabelArt]:
    """Every label of the run (or of ``seqs``: see ``label_rows``), ready to draw: URL, QR
    matrix, printed codes."""
    for rows in label_rows(session, run.id, chunk, seqs):
        urls = [payload.label_url(claims_for(run, r.serial), r.signature) for r in rows]
        matrices = encode_batch(urls, version=run.qr_version)
        for row, url, matrix in zip(rows, urls, matrices, strict=True):
            scratch = serials.scratch_code(scratch_key, row.serial) if scratch_key else None
            yield LabelArt(url, serials.grouped(row.serial), matrix, scratch)


def run_dir(files_root: Path, run_id: int) -> Path:
    return files_root / f"run-{run_id}"


def sheet_name(part: int, parts: int) -> str:
    return "sheet.pdf" if parts == 1 else f"sheet-{part}.pdf"


def sheet_parts(quantity: int) -> int:
    return -(-quantity // SHEET_PART_LABELS)


def partial_progress(progress: Callable[[int], None], offset: int) -> Callable[[int], None]:
    """``progress`` of the whole run, for a part whose labels start after ``offset``."""
    return lambda done: progress(offset + done)


# A progress report is a write transaction of its own (on SQLite it takes the database's
# write lock, beside the label pages counting their views): reported after every page of 18
# stamps, the reports cost a part of 10,000 stamps 0.7 s of its 5 s. A progress bar needs
# one a second; the lease it keeps fresh lasts minutes.
PROGRESS_SECONDS = 1.0


def reported_every(
    progress: Callable[[int], None], final: int, seconds: float = PROGRESS_SECONDS
) -> Callable[[int], None]:
    """``progress``, passed on at most once every ``seconds``, and always when ``final``
    (the whole count) is reached."""
    last = float("-inf")

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done >= final or now - last >= seconds:
            last = now
            progress(done)

    return report


def claim(
    session: Session, run_id: int, now: datetime | None = None, lease: timedelta = LEASE
) -> bool:
    """Take the build lease: a queued or failed run, or one whose builder went silent."""
    now = now or utcnow()
    result = session.execute(
        update(PrintRun)
        .where(
            PrintRun.id == run_id,
            or_(
                PrintRun.status.in_([RunStatus.QUEUED, RunStatus.FAILED]),
                (PrintRun.status == RunStatus.BUILDING) & (PrintRun.lease_until < now),
            ),
        )
        .values(status=RunStatus.BUILDING, lease_until=now + lease, labels_drawn=0, error=None)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def lease_expired(run: PrintRun, now: datetime | None = None) -> bool:
    return run.lease_until is None or run.lease_until < (now or utcnow())


def footer(run: PrintRun, part: int, parts: int) -> str:
    text = (
        f"Đợt in / Run {run.id} · Lô / Lot {run.lot_code} · {run.quantity} tem / labels · "
        f"GCN hiệu lực đến / Cert. valid until {vn_date(run.valid_until)}"
    )
    return text if parts == 1 else f"{text} · Phần / Part {part}/{parts}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


ZPL_DPIS = (203, 300)  # the print heads of Zebra-type label printers


def zpl_name(dpi: int, part: int = 1, parts: int = 1) -> str:
    return f"labels-{dpi}dpi.zpl" if parts == 1 else f"labels-{dpi}dpi-{part}.zpl"


def zpl_parts(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """A run's ZPL files at one dpi, one per part (a run built before parts drew their own
    ZPL has one file, described by the entry itself)."""
    parts: list[dict[str, Any]] = entry.get("parts") or [entry]
    return parts


def zpl_entry(dpi: int, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's ``files["zpl"]`` item for one dpi: its parts' files, in sheet order."""
    return {
        "dpi": dpi,
        "labels": sum(p["labels"] for p in parts),
        "bytes": sum(p["bytes"] for p in parts),
        "parts": parts,
    }


def _partial(final: Path) -> Path:
    """A temporary name beside ``final`` that no download ever serves, unique to this
    builder (a stale builder of the same run, in this process or another, has its own)."""
    return final.with_name(f".{final.name}.{os.getpid()}-{threading.get_ident()}.part")


def _finish(partial: Path, final: Path) -> dict[str, Any]:
    """Rename a complete file into place; its size and digest for the run's ``files``."""
    partial.replace(final)
    return {"name": final.name, "bytes": final.stat().st_size, "sha256": _sha256(final)}


class ThermalPart:
    """One part's ZPL files, one per dpi, written label by label as the part's sheet draws
    them, to the paths its builder names. Each is a whole file a printer takes alone (the
    static graphic, then the part's labels), so parts drawn at once need no joining. A dpi
    whose label cannot hold the run's QR code is left out with the reason, never failing
    the sheet."""

    def __init__(self, facts: StampFacts, paths: dict[int, Path]) -> None:
        self.paths = paths
        self.open: dict[int, tuple[Any, TextIO]] = {}
        self.refused: dict[int, str] = {}
        try:
            for dpi, path in paths.items():
                out = path.open("w", encoding="utf-8", newline="")
                self.open[dpi] = (None, out)  # discarded with the rest if the next fails
                self.open[dpi] = (ZplWriter(facts, out, dpi=dpi), out)
        except BaseException:
            self.discard()
            raise

    def passing(self, labels: Iterable[LabelArt]) -> Iterator[LabelArt]:
        for label in labels:
            for dpi, (writer, _out) in list(self.open.items()):
                try:
                    writer.write(label)
                except ValueError as exc:  # e.g. a QR code too large for 50 x 30 mm
                    self._drop(dpi)
                    self.refused[dpi] = str(exc)
            yield label

    def _drop(self, dpi: int) -> None:
        _writer, out = self.open.pop(dpi)
        out.close()
        self.paths[dpi].unlink(missing_ok=True)

    def finish(self) -> dict[int, dict[str, Any]]:
        """Each dpi's outcome: ``{"labels": n}`` (its file complete on disk, synced) or
        ``{"error": reason}``."""
        outcomes: dict[int, dict[str, Any]] = {}
        for dpi in self.paths:
            if dpi in self.refused:
                outcomes[dpi] = {"error": self.refused[dpi]}
                continue
            writer, out = self.open.pop(dpi)
            out.flush()
            os.fsync(out.fileno())
            out.close()
            outcomes[dpi] = {"labels": writer.count}
        return outcomes

    def discard(self) -> None:
        """Remove what a failed part left half-written (a finished file was renamed away)."""
        for dpi in list(self.open):
            self._drop(dpi)
        for path in self.paths.values():
            path.unlink(missing_ok=True)


@dataclass
class _OnePass:
    """What one pass has put into place so far, part after part."""

    folder: Path
    sheets: list[dict[str, Any]]
    zpl: dict[int, list[dict[str, Any]]]
    refused: dict[int, str]  # a dpi whose label cannot hold the run's code, and why


def _draw_part(
    run: PrintRun,
    art: Iterator[LabelArt],
    part: int,
    drawn: _OnePass,
    facts: StampFacts,
    progress: Callable[[int], None],
) -> None:
    """One part of one pass: its sheet and a ZPL file per dpi still printable, each renamed
    into place when complete; ``progress`` counts the whole run."""
    folder = drawn.folder
    parts = sheet_parts(run.quantity)
    final = folder / sheet_name(part, parts)
    partial = _partial(final)
    names = {dpi: folder / zpl_name(dpi, part, parts) for dpi in ZPL_DPIS}
    thermal = ThermalPart(
        facts, {dpi: _partial(name) for dpi, name in names.items() if dpi not in drawn.refused}
    )
    try:
        with partial.open("wb") as out:
            info = render_sheet_pdf(
                facts,
                thermal.passing(islice(art, SHEET_PART_LABELS)),
                out,
                footer=footer(run, part, parts),
                progress=partial_progress(progress, (part - 1) * SHEET_PART_LABELS),
                **sheet_options(run, part),
            )
            out.flush()
            os.fsync(out.fileno())
        sheet = _finish(partial, final)
        for dpi, outcome in thermal.finish().items():
            if "error" in outcome:
                drawn.refused[dpi] = outcome["error"]
            else:
                done = _finish(thermal.paths[dpi], names[dpi])
                drawn.zpl[dpi].append({**done, "labels": outcome["labels"]})
    finally:
        partial.unlink(missing_ok=True)
        thermal.discard()
    drawn.sheets.append(
        {**sheet, "pages": info.pages, "labels": info.labels, "per_page": info.per_page}
    )


def draw_files(
    session: Session,
    run: PrintRun,
    files_root: Path,
    scratch_key: bytes | None,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Write the A4 sheet PDF(s) and the thermal ZPL files of a claimed run in one pass over
    its labels; returns the files' facts (``{"sheets": [...], "zpl": [...]}``). A run over
    ``SHEET_PART_LABELS`` comes in parts, a PDF and a ZPL file per dpi each, the same
    files the queue's workers draw part by part (``build_parts``).

    Each file goes to a temporary name and is renamed into place when complete, so a
    half-written file is never served."""
    folder = run_dir(files_root, run.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    art = label_art(session, run, scratch_key)
    drawn = _OnePass(folder, [], {dpi: [] for dpi in ZPL_DPIS}, {})
    facts, report = stamp_facts(run), reported_every(progress, run.quantity)
    for part in range(1, sheet_parts(run.quantity) + 1):
        _draw_part(run, art, part, drawn, facts, report)
    files = {
        "sheets": drawn.sheets,
        "zpl": [
            {"dpi": dpi, "error": drawn.refused[dpi]}
            if dpi in drawn.refused
            else zpl_entry(dpi, drawn.zpl[dpi])
            for dpi in ZPL_DPIS
        ],
    }
    remove_unlisted(files_root, run.id, files)  # and a refused dpi's parts drawn before
    return files


def intact(path: Path, entry: dict[str, Any]) -> bool:
    """On the disk at the size its build recorded (a file cut short or altered is not)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return False
    return stat.S_ISREG(found.st_mode) and found.st_size == entry.get("bytes", found.st_size)


def missing_files(run: PrintRun, files_root: Path) -> list[str]:
    """What a ready run should offer for download and cannot: a file gone from the disk or
    not at its recorded size, or ZPL that a build from before ZPL was drawn with the sheet
    never made."""
    folder = run_dir(files_root, run.id)
    sheets = run.files.get("sheets", [])
    zpl = {entry["dpi"]: entry for entry in run.files.get("zpl", [])}
    missing = [s["name"] for s in sheets if not intact(folder / s["name"], s)] or (
        [] if sheets else ["sheet.pdf"]
    )
    for dpi in ZPL_DPIS:
        entry = zpl.get(dpi)
        if entry is None:
            missing.append(zpl_name(dpi))
        elif "error" not in entry:
            missing += [p["name"] for p in zpl_parts(entry) if not intact(folder / p["name"], p)]
    return missing


def remove_unlisted(files_root: Path, run_id: int, files: dict[str, Any]) -> None:
    """Remove the run's files that its new build does not list: those of an older build
    (one joined ZPL file where there are now parts, sheets of another count). Names that
    start with a dot are builders' work in progress, left alone."""
    folder = run_dir(files_root, run_id)
    listed = {sheet["name"] for sheet in files["sheets"]}
    for entry in files["zpl"]:
        if "error" not in entry:
            listed |= {part["name"] for part in zpl_parts(entry)}
    for path in folder.iterdir():
        if path.is_file() and not path.name.startswith(".") and path.name not in listed:
            path.unlink(missing_ok=True)


def reopen(session: Session, run: PrintRun) -> None:
    """A ready run whose files are missing goes back to the queue to be drawn again from
    its labels (its downloads answer "not ready" until then)."""
    session.execute(
        update(PrintRun)
        .where(PrintRun.id == run.id, PrintRun.status == RunStatus.READY)
        .values(status=RunStatus.QUEUED, labels_drawn=0)
        .execution_options(synchronize_session=False)
    )
    session.refresh(run)


def mark_ready(session: Session, actor: Principal, run: PrintRun, files: dict[str, Any]) -> None:
    run.files = files
    run.status = RunStatus.READY
    run.labels_drawn = run.quantity
    run.lease_until = None
    run.error = None
    run.built_at = utcnow()
    record_event(session, actor, LabelTag.RUN_BUILT, "print_run", run.id, files)


def failure_text(exc: BaseException, incident: str) -> str:
    """What the producer reads of a failed build: our own refusals as they are worded, anything
    else only as an incident number to pass on (the text of a database or file-system error
    holds SQL, paths and settings, which are for the log)."""
    if isinstance(exc, DomainError):
        return f"{exc.message} ({exc.message_en})"[:500]
    return (
        f"Lỗi khi tạo tệp in, mã sự cố {incident}: hãy thử tạo lại; nếu vẫn lỗi, báo văn phòng "
        f"OCOP mã này. (The print files could not be made, incident {incident}: build again; "
        f"if it fails again, give this code to the OCOP office.)"
    )


def mark_failed(session: Session, actor: Principal, run: PrintRun, exc: BaseException) -> None:
    incident = secrets.token_hex(4).upper()
    log.error("print run %s: build failed, incident %s: %r", run.id, incident, exc)
    run.status = RunStatus.FAILED
    run.error = failure_text(exc, incident)
    run.lease_until = None
    record_event(session, actor, LabelTag.RUN_FAILED, "print_run", run.id, {"error": run.error})
