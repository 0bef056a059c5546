"""A print run built in parts by several workers at once, then joined (the job queue's way).

A part is a fixed range of the run's labels in sheet order (``seq``), one A4 sheet file's
worth (``build.SHEET_PART_LABELS``): each part draws its sheet PDF whole, so joining needs no
PDF surgery (reportlab cannot continue another process's document, and re-assembling pages
with their "Trang x/y" numbers would cost a single-threaded pass over every page), and its
stretch of the two ZPL files, which are plain text and join by concatenation: the joined
ZPL is byte for byte what one pass draws.

Parts leave their work under ``run-N/.parts/``: each file under a name unique to its builder,
then a manifest naming them, renamed into place last. A part is done when its manifest is
there; a builder that dies leaves no manifest, and the part is drawn again from the same
labels. The join renames the sheets into place, writes each ZPL file to a temporary name and
renames it when complete, so a download never sees a half file, then marks the run ready.

Whoever builds parts holds the run's lease (``build.claim``) and keeps it fresh with each
progress report; a run whose lease runs out is claimed again and only its missing parts are
drawn (``start``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from trace_service.db import utcnow
from trace_service.labels import build
from trace_service.labels.art import LabelArt
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.labels.print_settings import sheet_options
from trace_service.labels.render.sheet_pdf import render_sheet_pdf
from trace_service.labels.render.zpl import ZplWriter

_COPY_BLOCK = 1 << 22  # 4 MiB: joining hundreds of megabytes of ZPL in few system calls


def parts_of(run: PrintRun) -> int:
    return build.sheet_parts(run.quantity)


def part_range(part: int) -> tuple[int, int]:
    """The part's labels: ``first < seq <= last`` (seq counts from 1 in sheet order)."""
    first = (part - 1) * build.SHEET_PART_LABELS
    return first, first + build.SHEET_PART_LABELS


def parts_dir(files_root: Path, run_id: int) -> Path:
    return build.run_dir(files_root, run_id) / ".parts"


def _manifest_path(files_root: Path, run_id: int, part: int) -> Path:
    return parts_dir(files_root, run_id) / f"part-{part}.json"


def done_parts(files_root: Path, run: PrintRun) -> dict[int, dict[str, Any]]:
    """The parts whose manifest and files are all there."""
    found: dict[int, dict[str, Any]] = {}
    folder = parts_dir(files_root, run.id)
    for part in range(1, parts_of(run) + 1):
        path = _manifest_path(files_root, run.id, part)
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            continue
        names = [manifest["sheet"]["file"], *(z["file"] for z in manifest["zpl"] if "file" in z)]
        if all((folder / name).is_file() for name in names):
            found[part] = manifest
    return found


def start(session: Session, run_id: int, files_root: Path, lease: timedelta) -> list[int] | None:
    """Claim the run (queued, failed, or its builders silent past the lease) and say which
    parts are still to draw; None when another builder holds it. A ready run whose files
    are missing is opened again first. The progress shown starts at the parts already done."""
    run = session.get(PrintRun, run_id)
    if run is None:
        return None
    if run.status is RunStatus.READY and build.missing_files(run, files_root):
        build.reopen(session, run)
    if not build.claim(session, run_id, lease=lease):
        return None
    run = session.get_one(PrintRun, run_id)
    done = done_parts(files_root, run)
    run.labels_drawn = sum(m["sheet"]["labels"] for m in done.values())
    return [part for part in range(1, parts_of(run) + 1) if part not in done]


def progress_writer(
    session_factory: Callable[[], Any], run_id: int, lease: timedelta
) -> Callable[[int], None]:
    """``progress(done)`` for one part: adds what it drew since its last report to the run's
    count (parts report at once, each its own share) and keeps the lease fresh. The count
    never passes the quantity, should a part drawn twice report twice."""
    reported = 0

    def progress(done: int) -> None:
        nonlocal reported
        delta, reported = done - reported, done
        added = PrintRun.labels_drawn + delta
        with session_factory() as writer:
            writer.execute(
                update(PrintRun)
                .where(PrintRun.id == run_id, PrintRun.status == RunStatus.BUILDING)
                .values(
                    labels_drawn=case((added > PrintRun.quantity, PrintRun.quantity), else_=added),
                    lease_until=utcnow() + lease,
                )
            )

    return progress


def _digest(path: Path) -> str:
    # file_digest reads into one small buffer it reuses: reading 4 MiB blocks held two of
    # them at once (the next read before the last was let go), 8 MiB on a part's peak.
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sync_close(out: Any) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()


class _Stretches:
    """A part's stretch of each ZPL file, written as the sheet draws the labels: labels only
    (the join writes each file's head once), under names unique to this builder. A dpi whose
    label cannot hold the QR code is dropped with the reason, as in one pass."""

    def __init__(self, run: PrintRun, part: int, folder: Path, token: str) -> None:
        self.folder, self.written = folder, []
        self.writers: dict[int, tuple[ZplWriter, Any, str]] = {}
        self.refused: dict[int, str] = {}
        facts = build.stamp_facts(run)
        for dpi in build.ZPL_DPIS:
            name = f"part-{part}-{dpi}dpi.{token}.zpl"
            out = (folder / name).open("w", encoding="utf-8", newline="")
            self.written.append(folder / name)
            writer = ZplWriter(facts, StringIO(), dpi=dpi)  # its head is for the join
            writer.out = out
            self.writers[dpi] = (writer, out, name)

    def passing(self, labels: Iterator[LabelArt]) -> Iterator[LabelArt]:
        for label in labels:
            for dpi, (writer, _out, _name) in list(self.writers.items()):
                try:
                    writer.write(label)
                except ValueError as exc:  # a QR code too large for the thermal label
                    self.refused[dpi] = str(exc)
                    self.writers.pop(dpi)[1].close()
            yield label

    def finish(self) -> list[dict[str, Any]]:
        zpl: list[dict[str, Any]] = []
        for dpi in build.ZPL_DPIS:
            if dpi in self.refused:
                zpl.append({"dpi": dpi, "error": self.refused[dpi]})
                continue
            writer, out, name = self.writers.pop(dpi)
            _sync_close(out)
            zpl.append({"dpi": dpi, "file": name, "labels": writer.count})
        return zpl

    def discard(self) -> None:
        for _writer, out, _name in self.writers.values():
            out.close()
        for path in self.written:
            path.unlink(missing_ok=True)


def draw_part(
    session: Session,
    run: PrintRun,
    part: int,
    files_root: Path,
    scratch_key: bytes | None,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Draw one part: its sheet PDF and its stretch of each ZPL file. Returns its manifest,
    written last: until then the part is not done, and whatever it left is not used."""
    folder = parts_dir(files_root, run.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(6)  # this builder's names: a stale one of the same part has others
    stretches = _Stretches(run, part, folder, token)
    first, last = part_range(part)
    progress = build.reported_every(progress, min(last, run.quantity) - first)
    pdf_path = folder / f"part-{part}.{token}.pdf"
    try:
        with pdf_path.open("wb") as pdf:
            info = render_sheet_pdf(
                build.stamp_facts(run),
                stretches.passing(
                    build.label_art(session, run, scratch_key, seqs=part_range(part))
                ),
                pdf,
                footer=build.footer(run, part, parts_of(run)),
                progress=progress,
                **sheet_options(run, part),  # the stock, offset and start, as one pass draws
            )
            pdf.flush()
            os.fsync(pdf.fileno())
        zpl = stretches.finish()
        sheet = {"file": pdf_path.name, "bytes": pdf_path.stat().st_size}
        sheet["sha256"] = _digest(pdf_path)  # here, so that parts hash at once
        sheet |= {"pages": info.pages, "labels": info.labels, "per_page": info.per_page}
        manifest = {"part": part, "sheet": sheet, "zpl": zpl}
        temporary = folder / f".part-{part}.{token}.json"
        temporary.write_text(json.dumps(manifest), encoding="utf-8")
        temporary.replace(_manifest_path(files_root, run.id, part))
        return manifest
    except BaseException:
        stretches.discard()
        pdf_path.unlink(missing_ok=True)
        raise


def _join_zpl(
    run: PrintRun, dpi: int, folder: Path, manifests: list[dict[str, Any]]
) -> dict[str, Any]:
    """One ZPL file from its head and every part's stretch, complete before it is renamed
    into place; hashed as it is written."""
    entries = [next(z for z in m["zpl"] if z["dpi"] == dpi) for m in manifests]
    errors = [z["error"] for z in entries if "error" in z]
    if errors:
        return {"dpi": dpi, "error": errors[0]}
    head = StringIO()
    ZplWriter(build.stamp_facts(run), head, dpi=dpi)
    final = folder.parent / build.zpl_name(dpi)
    partial = folder / f"{final.name}.{secrets.token_hex(6)}.joining"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            first = head.getvalue().encode("utf-8")
            digest.update(first)
            out.write(first)
            for entry in entries:
                with (folder / entry["file"]).open("rb") as source:
                    while block := source.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "dpi": dpi,
        "name": final.name,
        "bytes": final.stat().st_size,
        "sha256": digest.hexdigest(),
        "labels": sum(z["labels"] for z in entries),
    }


def _zpl_manifest(files_root: Path, run_id: int, dpi: int) -> Path:
    return parts_dir(files_root, run_id) / f"zpl-{dpi}.json"


def join_zpl(files_root: Path, run: PrintRun, dpi: int) -> dict[str, Any] | None:
    """Join one ZPL file (the queue runs the two at once: copying and hashing hundreds of
    megabytes is the join's longest step); None while a part is missing."""
    done = done_parts(files_root, run)
    if len(done) < parts_of(run):
        return None
    manifests = [done[part] for part in range(1, parts_of(run) + 1)]
    entry = _join_zpl(run, dpi, parts_dir(files_root, run.id), manifests)
    temporary = parts_dir(files_root, run.id) / f".zpl-{dpi}.{secrets.token_hex(6)}.json"
    temporary.write_text(json.dumps(entry), encoding="utf-8")
    temporary.replace(_zpl_manifest(files_root, run.id, dpi))
    return entry


def _joined_zpl(files_root: Path, run_id: int, dpi: int) -> dict[str, Any] | None:
    """A ZPL file this build joined already (its manifest and the file in place)."""
    try:
        entry: dict[str, Any] = json.loads(
            _zpl_manifest(files_root, run_id, dpi).read_text(encoding="utf-8")
        )
    except (FileNotFoundError, ValueError):
        return None
    if "name" in entry and not (build.run_dir(files_root, run_id) / entry["name"]).is_file():
        return None
    return entry


def join(files_root: Path, run: PrintRun) -> dict[str, Any] | None:
    """Put the parts' files into place as the run's files (``{"sheets", "zpl"}``, as one
    pass gives them), joining the ZPL files not joined yet; None while a part is missing."""
    done = done_parts(files_root, run)
    parts = parts_of(run)
    if len(done) < parts:
        return None
    folder = parts_dir(files_root, run.id)
    manifests = [done[part] for part in range(1, parts + 1)]
    zpl = [
        _joined_zpl(files_root, run.id, dpi) or _join_zpl(run, dpi, folder, manifests)
        for dpi in build.ZPL_DPIS
    ]
    sheets = []
    for part, manifest in enumerate(manifests, start=1):
        sheet = manifest["sheet"]
        name = build.sheet_name(part, parts)
        (folder / sheet["file"]).replace(folder.parent / name)
        sheets.append(
            {
                "name": name,
                "bytes": sheet["bytes"],
                "sha256": sheet["sha256"],
                "pages": sheet["pages"],
                "labels": sheet["labels"],
                "per_page": sheet["per_page"],
            }
        )
    shutil.rmtree(folder, ignore_errors=True)  # the parts are spent; a rebuild starts afresh
    return {"sheets": sheets, "zpl": zpl}
