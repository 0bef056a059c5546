"""Drawing a print run's files from its issued labels, resumable and with visible progress.

A build takes a lease on the run (status ``building``, ``lease_until``), so two builders
never draw the same run; a builder that dies leaves a lease that runs out, and the run can
be built again (``resume``) from the same labels: no serial is ever made twice. The PDF is
written to a temporary file and renamed into place only when complete, so a half-drawn file
is never offered for download.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.auth.principal import Principal
from trace_service.clock import vn_date
from trace_service.db import utcnow
from trace_service.labels import payload, serials
from trace_service.labels.art import LabelArt, StampFacts
from trace_service.labels.models import Label, PrintRun, RunStatus
from trace_service.labels.qrbatch import encode_batch
from trace_service.labels.services import claims_for
from trace_service.labels.tags import LabelTag

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
CHUNK = 256  # labels encoded together: numpy batches, bounded memory
# reportlab keeps a document's pages in memory until it saves (~12 KB a label), so a run is
# drawn as PDFs of at most this many labels: 10,000 stay under 300 MiB, and 100,000 become
# ten files rather than one that needs more than a gigabyte.
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


def label_rows(session: Session, run_id: int, chunk: int = CHUNK) -> Iterator[list[LabelRow]]:
    """The run's labels in sheet order, a chunk at a time (keyset pagination)."""
    after = 0
    while True:
        rows = session.execute(
            select(Label.seq, Label.serial, Label.signature)
            .where(Label.run_id == run_id, Label.seq > after)
            .order_by(Label.seq)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield [LabelRow(r.seq, r.serial, r.signature) for r in rows]
        after = rows[-1].seq


def label_art(
    session: Session, run: PrintRun, scratch_key: bytes | None, chunk: int = CHUNK
) -> Iterator[LabelArt]:
    """Every label of the run, ready to draw: URL, QR matrix, printed codes."""
    for rows in label_rows(session, run.id, chunk):
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


def claim(session: Session, run_id: int, now: datetime | None = None) -> bool:
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
        .values(status=RunStatus.BUILDING, lease_until=now + LEASE, labels_drawn=0, error=None)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount == 1


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


def draw_sheet(
    session: Session,
    run: PrintRun,
    files_root: Path,
    scratch_key: bytes | None,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Write the A4 sheet PDF(s) of a claimed run; returns the files' facts.

    Each part goes to a temporary name and is renamed into place when complete, so a
    half-written file is never served."""
    from trace_service.labels.render.sheet_pdf import render_sheet_pdf

    folder = run_dir(files_root, run.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    parts = sheet_parts(run.quantity)
    art = label_art(session, run, scratch_key)
    sheets = []
    for part in range(1, parts + 1):
        name = sheet_name(part, parts)
        final, partial = folder / name, folder / f".{name}.{os.getpid()}.part"
        offset = (part - 1) * SHEET_PART_LABELS
        try:
            with partial.open("wb") as out:
                info = render_sheet_pdf(
                    stamp_facts(run),
                    islice(art, SHEET_PART_LABELS),
                    out,
                    footer=footer(run, part, parts),
                    progress=lambda done, offset=offset: progress(offset + done),
                )
                out.flush()
                os.fsync(out.fileno())
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
        sheets.append(
            {
                "name": name,
                "bytes": final.stat().st_size,
                "sha256": _sha256(final),
                "pages": info.pages,
                "labels": info.labels,
                "per_page": info.per_page,
            }
        )
    return {"sheets": sheets}


def mark_ready(session: Session, actor: Principal, run: PrintRun, files: dict[str, Any]) -> None:
    run.files = files
    run.status = RunStatus.READY
    run.labels_drawn = run.quantity
    run.lease_until = None
    run.error = None
    run.built_at = utcnow()
    record_event(session, actor, LabelTag.RUN_BUILT, "print_run", run.id, files)


def mark_failed(session: Session, actor: Principal, run: PrintRun, exc: BaseException) -> None:
    log.error("print run %s: build failed: %r", run.id, exc)
    run.status = RunStatus.FAILED
    # The type and text of the failure, never a traceback, for the producer to pass on.
    run.error = f"{type(exc).__name__}: {exc}"[:500]
    run.lease_until = None
    record_event(session, actor, LabelTag.RUN_FAILED, "print_run", run.id, {"error": run.error})
