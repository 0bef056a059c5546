"""A print run built in parts by several workers at once, then joined (the job queue's way).

A part is a fixed range of the run's labels in sheet order (``seq``), one A4 sheet file's
worth (``build.SHEET_PART_LABELS``): each part draws its sheet PDF whole and a whole ZPL file
per dpi (``build.ThermalPart``), the files one pass draws for the same labels, byte for byte.
So joining moves files and copies none: reportlab cannot continue another process's
document, and re-assembling pages with their "Trang x/y" numbers, or copying hundreds of
megabytes of ZPL into one file after the last part (1.2-1.35 s of a 100,000-stamp order's
28 s, bench/README.md), would be a single-threaded pass after the parallel ones.

Parts leave their work under ``run-N/.parts/``: each file under a name unique to its builder,
then a manifest naming them, renamed into place last. A part is done when its manifest is
there; a builder that dies leaves no manifest, and the part is drawn again from the same
labels. The join renames the parts' files into place, so a download never sees a half
file, then marks the run ready.

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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from trace_service.db import utcnow
from trace_service.labels import build
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.labels.print_settings import sheet_options
from trace_service.labels.render.sheet_pdf import render_sheet_pdf

# A part's manifest says how its files were drawn; one from an older build (ZPL stretches
# to be joined, not whole files) is not done, and the part is drawn again.
_FORMAT = 2


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
        if manifest.get("format") != _FORMAT:
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


def draw_part(
    session: Session,
    run: PrintRun,
    part: int,
    files_root: Path,
    scratch_key: bytes | None,
    progress: Callable[[int], None],
) -> dict[str, Any]:
    """Draw one part: its sheet PDF and a ZPL file per dpi. Returns its manifest, written
    last: until then the part is not done, and whatever it left is not used."""
    folder = parts_dir(files_root, run.id)
    # The run's folder too, not left to the worker's umask: its files hold signed stamps.
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.mkdir(exist_ok=True, mode=0o700)
    token = secrets.token_hex(6)  # this builder's names: a stale one of the same part has others
    facts = build.stamp_facts(run)
    thermal = build.ThermalPart(
        facts, {dpi: folder / f"part-{part}-{dpi}dpi.{token}.zpl" for dpi in build.ZPL_DPIS}
    )
    first, last = part_range(part)
    progress = build.reported_every(progress, min(last, run.quantity) - first)
    pdf_path = folder / f"part-{part}.{token}.pdf"
    try:
        with pdf_path.open("wb") as pdf:
            info = render_sheet_pdf(
                facts,
                thermal.passing(build.label_art(session, run, scratch_key, seqs=part_range(part))),
                pdf,
                footer=build.footer(run, part, parts_of(run)),
                progress=progress,
                **sheet_options(run, part),  # the stock, offset and start, as one pass draws
            )
            pdf.flush()
            os.fsync(pdf.fileno())
        zpl: list[dict[str, Any]] = []
        for dpi, outcome in thermal.finish().items():
            if "error" in outcome:
                zpl.append({"dpi": dpi, "error": outcome["error"]})
            else:
                path = thermal.paths[dpi]
                zpl.append({"dpi": dpi, "file": path.name, **_described(path), **outcome})
        # Hashed here, so that parts hash at once.
        sheet = {"file": pdf_path.name, **_described(pdf_path)}
        sheet |= {"pages": info.pages, "labels": info.labels, "per_page": info.per_page}
        manifest = {"format": _FORMAT, "part": part, "sheet": sheet, "zpl": zpl}
        temporary = folder / f".part-{part}.{token}.json"
        temporary.write_text(json.dumps(manifest), encoding="utf-8")
        temporary.replace(_manifest_path(files_root, run.id, part))
        return manifest
    except BaseException:
        thermal.discard()
        pdf_path.unlink(missing_ok=True)
        raise


def _described(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _digest(path)}


def join(files_root: Path, run: PrintRun) -> dict[str, Any] | None:
    """Put the parts' files into place as the run's files (``{"sheets", "zpl"}``, as one
    pass gives them); None while a part is missing."""
    done = done_parts(files_root, run)
    parts = parts_of(run)
    if len(done) < parts:
        return None
    folder = parts_dir(files_root, run.id)
    manifests = [done[part] for part in range(1, parts + 1)]
    zpl = []
    for dpi in build.ZPL_DPIS:
        entries = [next(z for z in m["zpl"] if z["dpi"] == dpi) for m in manifests]
        errors = [z["error"] for z in entries if "error" in z]
        if errors:  # the code is the run's: no part of it prints at this dpi
            zpl.append({"dpi": dpi, "error": errors[0]})
            continue
        files = []
        for part, entry in enumerate(entries, start=1):
            name = build.zpl_name(dpi, part, parts)
            (folder / entry["file"]).replace(folder.parent / name)
            described = {key: entry[key] for key in ("bytes", "sha256", "labels")}
            files.append({"name": name, **described})
        zpl.append(build.zpl_entry(dpi, files))
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
    joined = {"sheets": sheets, "zpl": zpl}
    build.remove_unlisted(files_root, run.id, joined)
    return joined
