"""A print run's files: which file a download gets, and building a run's files again.

The files live under the label files directory (``jobs.files_root``), which the caller
passes in; drawing them is ``build.py``'s, scheduling the drawing ``jobs.py``'s.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import Response, request, send_file
from sqlalchemy.orm import Session

from trace_service.audit.services import record_event
from trace_service.errors import Conflict, NotFound
from trace_service.labels import build
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.labels.services import get_run
from trace_service.labels.tags import LabelTag
from trace_service.principal import Principal


@dataclass(frozen=True)
class RunFile:
    path: Path
    download_name: str
    sha256: str


@dataclass(frozen=True)
class JoinedFile:
    """A run's ZPL at one dpi in one download, its parts one after another: each is a whole
    ZPL file (graphic, then labels), so together they print as one roll."""

    parts: tuple[tuple[Path, int], ...]  # each file and its size
    download_name: str
    etag: str  # a digest of the parts' digests: changes whenever one of them does


def resume_print_run(session: Session, actor: Principal, run_id: int, files_root: Path) -> PrintRun:
    """Make a failed (or stalled) run's files again, from the same labels; also a ready run
    whose files are missing on the server. The caller then starts the build."""
    run = get_run(session, actor, run_id)
    if run.status is RunStatus.READY:
        if not build.missing_files(run, files_root):
            raise Conflict("Đợt in đã có tệp để tải.", "This run is built; download its files.")
        build.reopen(session, run)
    if run.status is RunStatus.BUILDING and not build.lease_expired(run):
        raise Conflict(
            "Đợt in đang được dựng; theo dõi tiến độ.",
            "This run is being built now; follow its progress.",
        )
    record_event(session, actor, LabelTag.RUN_BUILD_RESUMED, "print_run", run.id)
    return run


def _ready(run: PrintRun) -> None:
    if run.status is not RunStatus.READY:
        raise Conflict(
            "Tệp in chưa sẵn sàng; theo dõi tiến độ đợt in.",
            f"The files are not ready (status {run.status.value}); follow the run's progress.",
        )


def _gone() -> Conflict:
    return Conflict(
        "Tệp in không còn trên máy chủ; hãy dựng lại đợt in (POST …/build).",
        "The file is no longer on the server; build the run again (POST …/build).",
    )


def _on_disk(path: Path, entry: dict[str, Any]) -> Path:
    """The file, as its build recorded it: gone, or of another size (cut short, altered on
    the disk), it is not served; building the run again draws it anew."""
    if not build.intact(path, entry):
        raise _gone()
    return path


def sheet_file(
    session: Session, actor: Principal, run_id: int, part: int, files_root: Path
) -> RunFile:
    """The A4 sheet of a ready run (``part``: which PDF of a run over 10,000 labels)."""
    run = get_run(session, actor, run_id)
    _ready(run)
    sheets = run.files["sheets"]
    if part > len(sheets):
        raise NotFound(
            f"Đợt in này chỉ có {len(sheets)} tệp PDF.", f"This run has {len(sheets)} PDF(s)."
        )
    sheet = sheets[part - 1]
    path = _on_disk(build.run_dir(files_root, run.id) / sheet["name"], sheet)
    suffix = "" if len(sheets) == 1 else f"-phan-{part}"
    return RunFile(path, f"tem-ocop-dot-in-{run.id}{suffix}.pdf", sheet["sha256"])


def zpl_file(
    session: Session,
    actor: Principal,
    run_id: int,
    dpi: int,
    files_root: Path,
    part: int | None = None,
) -> RunFile | JoinedFile:
    """The thermal-printer file of a ready run at ``dpi``, drawn by its build: ``part`` of a
    run over 10,000 labels (one file per 10,000, as the PDFs), or the whole run."""
    run = get_run(session, actor, run_id)
    _ready(run)
    entry = next((z for z in run.files.get("zpl", []) if z["dpi"] == dpi), None)
    if entry is None:  # built before ZPL was drawn with the sheet
        raise Conflict(
            "Đợt in này chưa có tệp ZPL; hãy dựng lại đợt in (POST …/build) rồi tải lại.",
            "This run was built without ZPL files; build it again (POST …/build), then download.",
        )
    if "error" in entry:
        raise Conflict(
            f"Không in được đợt in này trên nhãn nhiệt 50 × 30 mm ở {dpi} dpi (mã QR quá lớn "
            "cho nhãn); hãy in tờ A4.",
            f"This run cannot be printed on 50 × 30 mm thermal labels at {dpi} dpi: "
            f"{entry['error']}; print the A4 sheet.",
        )
    parts = build.zpl_parts(entry)
    folder = build.run_dir(files_root, run.id)
    name = f"tem-ocop-dot-in-{run.id}-{dpi}dpi"
    if part is not None and part > len(parts):
        raise NotFound(
            f"Đợt in này chỉ có {len(parts)} tệp ZPL mỗi độ phân giải.",
            f"This run has {len(parts)} ZPL file(s) per resolution.",
        )
    if part is not None and len(parts) > 1:
        chosen = parts[part - 1]
        path = _on_disk(folder / chosen["name"], chosen)
        return RunFile(path, f"{name}-phan-{part}.zpl", chosen["sha256"])
    if len(parts) == 1:
        path = _on_disk(folder / parts[0]["name"], parts[0])
        return RunFile(path, f"{name}.zpl", parts[0]["sha256"])
    etag = hashlib.sha256("".join(p["sha256"] for p in parts).encode("ascii")).hexdigest()
    return JoinedFile(
        tuple((_on_disk(folder / p["name"], p), p["bytes"]) for p in parts),
        f"{name}.zpl",
        etag,
    )


class _Joined:
    """The parts read one after another as one seekable stream of blocks, so that a range
    (a download resumed on a phone's dropped connection) starts where it asks, without
    reading what comes before it (werkzeug's ``_RangeWrapper`` seeks what is seekable).
    Each part gives exactly its recorded size: one changed on the disk mid-download ends
    the download short (the client sees it cut), never with another file's bytes."""

    def __init__(self, handles: list[tuple[BinaryIO, int]]) -> None:
        self.handles = handles
        self.index, self.within, self.position = 0, 0, 0  # part, offset in it, in the whole

    def __iter__(self) -> _Joined:
        return self

    def __next__(self) -> bytes:
        while self.index < len(self.handles):
            handle, size = self.handles[self.index]
            if self.within < size:
                block = handle.read(min(1 << 20, size - self.within))
                if not block:
                    raise OSError(f"{handle.name}: shorter than recorded; download cut")
                self.within += len(block)
                self.position += len(block)
                return block
            self.index, self.within = self.index + 1, 0
            if self.index < len(self.handles):
                self.handles[self.index][0].seek(0)
        raise StopIteration

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int) -> None:
        start = 0
        for index, (handle, size) in enumerate(self.handles):
            if offset < start + size or index == len(self.handles) - 1:
                self.index, self.within = index, min(offset - start, size)
                self.position = start + self.within
                handle.seek(self.within)
                return
            start += size

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        for handle, _size in self.handles:
            handle.close()


def send(file: RunFile | JoinedFile, mimetype: str) -> Response:
    """A download of a run's file, as an attachment with its digest as ETag, ranges allowed
    (a joined ZPL streams its parts, opened now: a rebuild renaming new files into place
    mid-download does not mix two builds in one download)."""
    if isinstance(file, RunFile):
        return _without_body_if_refused(
            send_file(
                file.path,
                mimetype=mimetype,
                as_attachment=True,
                download_name=file.download_name,
                etag=file.sha256,
            )
        )
    handles: list[tuple[BinaryIO, int]] = []
    try:
        for path, size in file.parts:
            handles.append((path.open("rb"), size))
            if os.fstat(handles[-1][0].fileno()).st_size != size:  # changed since checked
                raise FileNotFoundError(path)
    except FileNotFoundError:  # removed or changed since it was listed
        for handle, _size in handles:
            handle.close()
        raise _gone() from None
    joined = _Joined(handles)
    response = Response(joined, mimetype=mimetype)
    response.call_on_close(joined.close)  # also when werkzeug wraps it for a range
    response.headers["Content-Disposition"] = f'attachment; filename="{file.download_name}"'
    complete = sum(size for _path, size in file.parts)
    response.content_length = complete
    response.set_etag(file.etag)
    modified = max(os.fstat(handle.fileno()).st_mtime for handle, _size in handles)
    response.last_modified = datetime.fromtimestamp(modified, UTC)
    response.cache_control.no_cache = True  # as send_file: revalidated by its ETag
    try:
        response.make_conditional(request, accept_ranges=True, complete_length=complete)
    except Exception:  # a range outside the file (416): the answer is an error, not the file
        joined.close()
        raise
    return _without_body_if_refused(response)


def _without_body_if_refused(response: Response) -> Response:
    """werkzeug answers a failed If-Match with 412 and the whole file still behind it (hundreds
    of megabytes for a large run's ZPL): the refusal goes without the file."""
    if response.status_code == 412:
        response.close()
        response.set_data(b"")
    return response
