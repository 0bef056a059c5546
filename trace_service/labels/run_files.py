"""A print run's files: which file a download gets, and building a run's files again.

The files live under the label files directory (``jobs.files_root``), which the caller
passes in; drawing them is ``build.py``'s, scheduling the drawing ``jobs.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def _on_disk(path: Path) -> Path:
    if not path.is_file():
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
    path = _on_disk(build.run_dir(files_root, run.id) / sheet["name"])
    suffix = "" if len(sheets) == 1 else f"-phan-{part}"
    return RunFile(path, f"tem-ocop-dot-in-{run.id}{suffix}.pdf", sheet["sha256"])


def zpl_file(
    session: Session, actor: Principal, run_id: int, dpi: int, files_root: Path
) -> RunFile:
    """The thermal-printer file of a ready run at ``dpi``, drawn by its build."""
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
    path = _on_disk(build.run_dir(files_root, run.id) / entry["name"])
    return RunFile(path, f"tem-ocop-dot-in-{run.id}-{dpi}dpi.zpl", entry["sha256"])
