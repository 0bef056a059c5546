"""A run built in parts (the job queue's way) gives what one pass gives, and a part whose
builder dies is drawn again from the same labels without a half file ever in place. These
run the job functions in this process; tests/queue/test_worker_kill.py runs them on RQ."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.databases import fresh_database
from tests.queue.helpers import ACTOR, make_app, order, seed, serials, sha256
from trace_service.db import session_scope
from trace_service.labels import build, build_parts, jobs
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.queue import tasks


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 200)  # 3 parts of a 500-stamp run


def _run(app, run_id) -> PrintRun:
    with app.app_context(), session_scope(app, writes=False) as session:
        run = session.get_one(PrintRun, run_id)
        session.expunge(run)
        return run


def test_parts_joined_give_the_files_of_one_pass(backend, tmp_path, small_parts):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        run_id = order(app, seed(app, 1000), 500)
        with app.app_context():
            assert tasks.build_in_parts_inline(app, run_id, ACTOR)
        run = _run(app, run_id)
        assert run.status is RunStatus.READY and run.labels_drawn == 500
        folder = build.run_dir(jobs.files_root(app), run_id)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [f"labels-{dpi}dpi-{part}.zpl" for dpi in (203, 300) for part in (1, 2, 3)]
            + ["sheet-1.pdf", "sheet-2.pdf", "sheet-3.pdf"]
        )  # the parts' folder is gone, nothing half-written is left
        assert [s["labels"] for s in run.files["sheets"]] == [200, 200, 100]
        zpl_files = [file for entry in run.files["zpl"] for file in entry["parts"]]
        for entry in [*run.files["sheets"], *zpl_files]:
            assert sha256(folder / entry["name"]) == entry["sha256"]

        # One pass over the same labels draws the same files: ZPL byte for byte, sheets alike.
        with app.app_context(), session_scope(app, writes=False) as session:
            one = build.draw_files(
                session, session.get_one(PrintRun, run_id), tmp_path / "one", None, lambda _: 0
            )
        assert one["zpl"] == run.files["zpl"]
        assert [[p["labels"] for p in z["parts"]] for z in run.files["zpl"]] == [
            [200, 200, 100]
        ] * 2
        assert [(s["pages"], s["labels"]) for s in one["sheets"]] == [
            (s["pages"], s["labels"]) for s in run.files["sheets"]
        ]


def test_parts_are_drawn_on_the_runs_stock_from_its_start_position(backend, tmp_path, small_parts):
    # A die-cut stock of 21 a sheet, the first 5 positions used: each part draws as one pass.
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        stock = {"stock": "avery_l7160", "start_position": 6}
        run_id = order(app, seed(app, 1000), 400, **stock)
        with app.app_context():
            assert tasks.build_in_parts_inline(app, run_id, ACTOR)
        run = _run(app, run_id)
        with app.app_context(), session_scope(app, writes=False) as session:
            one = build.draw_files(
                session, session.get_one(PrintRun, run_id), tmp_path / "one", None, lambda _: 0
            )
        parts = [(s["pages"], s["labels"], s["per_page"]) for s in run.files["sheets"]]
        assert parts == [(s["pages"], s["labels"], s["per_page"]) for s in one["sheets"]]
        # 200 from position 6 of 21: 16 on the first sheet, then 184 → 10 sheets; then 200.
        assert parts == [(10, 200, 21), (10, 200, 21)]


def test_a_part_whose_builder_dies_is_drawn_again_from_the_same_labels(
    backend, tmp_path, small_parts, monkeypatch
):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path, LABEL_BUILD_LEASE_SECONDS=60)
        run_id = order(app, seed(app, 1000), 500)
        issued = serials(app, run_id)
        root = jobs.files_root(app)
        with app.app_context():
            with session_scope(app) as session:
                assert build_parts.start(session, run_id, root, tasks.lease(app)) == [1, 2, 3]
            assert tasks.build_part_now(app, run_id, 1)

            real = build_parts.render_sheet_pdf

            def dies_midway(facts, labels, out, **kwargs):
                for n, _label in enumerate(labels):
                    if n == 150:
                        raise KeyboardInterrupt  # a SIGKILL as far as files are concerned
                return real(facts, labels, out, **kwargs)

            monkeypatch.setattr(build_parts, "render_sheet_pdf", dies_midway)
            with pytest.raises(KeyboardInterrupt):
                tasks.build_part_now(app, run_id, 2)
            monkeypatch.setattr(build_parts, "render_sheet_pdf", real)
            parts = build_parts.parts_dir(root, run_id)
            assert sorted(p.name for p in parts.iterdir() if "part-2" in p.name) == []
            assert not (build.run_dir(root, run_id) / "sheet-2.pdf").exists()
            # The join refuses to put a run together while a part is missing.
            assert tasks.join_now(app, run_id, ACTOR).endswith("left to the lease")

            with session_scope(app) as session:  # the lease is still held: nobody takes over
                assert build_parts.start(session, run_id, root, tasks.lease(app)) is None
            with session_scope(app) as session:
                session.get_one(PrintRun, run_id).lease_until = build.utcnow() - timedelta(
                    seconds=1
                )
            with session_scope(app) as session:  # lapsed: only the missing parts are drawn
                assert build_parts.start(session, run_id, root, tasks.lease(app)) == [2, 3]
            assert _run(app, run_id).labels_drawn == 200  # part 1's, drawn before
            for part in (2, 3):
                assert tasks.build_part_now(app, run_id, part)
            assert tasks.join_now(app, run_id, ACTOR) == f"run {run_id}: ready"
        run = _run(app, run_id)
        assert run.status is RunStatus.READY and run.labels_drawn == 500
        assert serials(app, run_id) == issued  # no serial made twice, none new
        assert sum(z["labels"] for z in run.files["zpl"]) == 1000


def test_progress_of_parts_adds_up_and_never_passes_the_quantity(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        run_id = order(app, seed(app, 100), 100)
        with app.app_context():
            with session_scope(app) as session:
                build_parts.start(session, run_id, jobs.files_root(app), tasks.lease(app))
            first, second = (
                build_parts.progress_writer(lambda: session_scope(app), run_id, tasks.lease(app))
                for _ in range(2)
            )
            first(30)
            second(50)
            assert _run(app, run_id).labels_drawn == 80  # each part adds its own share
            first(60)  # 30 more: 110, but a run has 100 labels
            assert _run(app, run_id).labels_drawn == 100


def test_a_part_drawn_by_an_older_build_is_drawn_again(backend, tmp_path, small_parts):
    # Parts once left ZPL stretches for a join to copy; a manifest without this build's
    # format is not a done part (its ZPL would lack the graphic a printer needs first).
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = make_app(url, tmp_path)
        run_id = order(app, seed(app, 1000), 500)
        root = jobs.files_root(app)
        with app.app_context():
            with session_scope(app) as session:
                assert build_parts.start(session, run_id, root, tasks.lease(app)) == [1, 2, 3]
            assert tasks.build_part_now(app, run_id, 1) and tasks.build_part_now(app, run_id, 2)
            manifest = build_parts.parts_dir(root, run_id) / "part-2.json"
            older = json.loads(manifest.read_text(encoding="utf-8"))
            del older["format"]
            manifest.write_text(json.dumps(older), encoding="utf-8")
            assert sorted(build_parts.done_parts(root, _run(app, run_id))) == [1]
            assert tasks.join_zpl(run_id, 203).endswith("drawn by each part")  # queued before
