"""Print-run files are built by a bounded pool of builder threads, and a ZPL file is drawn by
the build, never inside a download request (issue 10, finding 6: each order started its own
thread; the first ZPL download of a run drew it inside the request)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import date

import numpy as np
import pytest

from tests.databases import fresh_database
from tests.labels.conftest import P, seed_committed
from tests.labels.test_concurrency import _app
from trace_service.db import get_db
from trace_service.labels import build, jobs, run_files
from trace_service.labels.art import LabelArt, StampFacts
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.signing.service import init_keys


def _order(client, packed, quantity=30):
    response = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity},
    )
    assert response.status_code == 202, response.json
    return response.json


def _files(app, run_id):
    return sorted(p.name for p in build.run_dir(jobs.files_root(app), run_id).iterdir())


def test_two_orders_of_1000_stamps_are_built_by_one_bounded_builder(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path, build="background")
        app.config["LABEL_BUILD_THREADS"] = 1
        seed = seed_committed(app)
        init_keys(app)
        client = app.test_client()
        before = set(threading.enumerate())
        ids = []
        for n in range(2):
            body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 1000}
            ordered = client.post(
                f"{P}/print-runs", json=body, headers={**seed.headers, "Idempotency-Key": f"b{n}"}
            )
            assert ordered.status_code == 202
            ordered.close()  # the build was queued by the order's commit, not by this
            ids.append(ordered.json["id"])

        started: set[threading.Thread] = set()
        served: list[tuple[int, bytes, str]] = []  # what downloads gave while builds ran
        runs: dict[int, dict] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started |= set(threading.enumerate()) - before
            runs = {i: client.get(f"{P}/print-runs/{i}", headers=seed.headers).json for i in ids}
            for i in ids:
                zpl = client.get(f"{P}/print-runs/{i}/labels.zpl", headers=seed.headers)
                if zpl.status_code == 200:
                    served.append((i, zpl.data, zpl.headers["ETag"].strip('"')))
                else:
                    assert zpl.status_code == 409, zpl.json  # "not ready", never drawn here
                zpl.close()
            if all(r["status"] in {"ready", "failed"} for r in runs.values()):
                break
            time.sleep(0.02)

        assert {r["status"] for r in runs.values()} == {"ready"}, runs
        # Two orders, one builder thread (the setting), never two builds at once.
        assert len(started) == 1, [t.name for t in started]
        assert next(iter(started)).name == "label-builder-1"
        assert jobs.builder_pool(app).most_busy == 1
        # Whatever a download served was a whole file: every label, the recorded digest.
        assert served, "no ZPL download succeeded"
        for _run_id, data, etag in served:
            assert data.count(b"^XZ") == 1000
            assert hashlib.sha256(data).hexdigest() == etag
        get_db(app).engine.dispose()


def test_is_a_run_waiting_in_the_queue_queued_once(app):
    pool = jobs.BuilderPool(app, 0)  # no builder: whatever is submitted waits
    for run_id in (7, 8, 7, 7):
        pool.submit(run_id, None)
    assert pool.queue.qsize() == 2 and pool.waiting == {7, 8} and pool.threads == []
    # One pool per process: a forked worker does not inherit its parent's threads.
    assert jobs.builder_pool(app) is jobs.builder_pool(app)
    jobs.builder_pool(app).pid = -1
    assert jobs.builder_pool(app).pid != -1


def test_is_the_zpl_drawn_by_the_build_before_any_download(app, client, packed, db_session):
    run = _order(client, packed)

    # Before any download: both files are on disk and listed with their digests.
    assert _files(app, run["id"]) == ["labels-203dpi.zpl", "labels-300dpi.zpl", "sheet.pdf"]
    entries = db_session.get(PrintRun, run["id"]).files["zpl"]
    assert [(z["dpi"], z["labels"], len(z["parts"])) for z in entries] == [
        (203, 30, 1),
        (300, 30, 1),
    ]
    for dpi, entry in zip((203, 300), entries, strict=True):
        (file,) = entry["parts"]
        response = client.get(run["files"][f"zpl_{dpi}dpi"], headers=packed.account.headers)
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == file["sha256"]
        assert response.headers["ETag"] == f'"{file["sha256"]}"'
        response.close()


def test_does_a_run_built_before_zpl_answer_409_until_it_is_built_again(
    app, client, packed, db_session
):
    run = _order(client, packed)
    record = db_session.get(PrintRun, run["id"])
    record.files = {"sheets": record.files["sheets"]}  # as a build before this change left it
    db_session.flush()
    folder = build.run_dir(jobs.files_root(app), run["id"])
    for dpi in (203, 300):
        (folder / build.zpl_name(dpi)).unlink()

    refused = client.get(run["files"]["zpl_203dpi"], headers=packed.account.headers)

    assert refused.status_code == 409
    assert "build it again (POST …/build)" in refused.json["message_en"]
    assert _files(app, run["id"]) == ["sheet.pdf"]  # nothing drawn in the request
    rebuilt = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert rebuilt.status_code == 202, rebuilt.json
    assert client.get(f"{P}/print-runs/{run['id']}", headers=packed.account.headers).json[
        "status"
    ] == ("ready")
    zpl = client.get(run["files"]["zpl_300dpi"], headers=packed.account.headers)
    assert zpl.status_code == 200 and zpl.data.count(b"^XZ") == 30
    zpl.close()


def test_can_a_ready_run_whose_sheet_was_lost_be_built_again(app, client, packed):
    run = _order(client, packed)
    (build.run_dir(jobs.files_root(app), run["id"]) / "sheet.pdf").unlink()
    sheet_url = run["files"]["sheets"][0]["url"]

    gone = client.get(sheet_url, headers=packed.account.headers)
    assert gone.status_code == 409 and "build the run again" in gone.json["message_en"]
    again = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert again.status_code == 202, again.json
    pdf = client.get(sheet_url, headers=packed.account.headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()
    # A run with every file in place is not built again.
    built = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert built.status_code == 409


def test_does_a_build_that_fails_midway_leave_no_file_behind(
    app, client, packed, db_session, tmp_path
):
    run = db_session.get(PrintRun, _order(client, packed, quantity=60)["id"])

    def power_cut(done: int) -> None:
        if done >= 36:  # two sheet pages in: both ZPL files are half-written by now
            assert list((tmp_path / f"run-{run.id}").glob(".labels-*dpi.zpl.*.part"))
            raise OSError("no space left on device")

    with pytest.raises(OSError, match="no space left"):
        build.draw_files(db_session, run, tmp_path, None, power_cut)

    assert list((tmp_path / f"run-{run.id}").iterdir()) == []
    files = build.draw_files(db_session, run, tmp_path, None, lambda _done: None)
    assert sorted(p.name for p in (tmp_path / f"run-{run.id}").iterdir()) == [
        "labels-203dpi.zpl",
        "labels-300dpi.zpl",
        "sheet.pdf",
    ]
    assert [z["labels"] for z in files["zpl"]] == [60, 60]


def test_is_a_dpi_whose_label_cannot_hold_the_code_left_out_with_the_reason(
    app, client, packed, db_session, tmp_path
):
    run = db_session.get(PrintRun, _order(client, packed, quantity=1)["id"])
    paths = {dpi: tmp_path / f"{dpi}.zpl" for dpi in build.ZPL_DPIS}
    thermal = build.ThermalPart(build.stamp_facts(run), paths)
    too_big = np.zeros((53, 53), dtype=bool)  # version 9: more than 50 x 30 mm holds
    assert list(thermal.passing([LabelArt("HTTPS://X", "ABCDE", too_big)])) != []
    entries = [{"dpi": dpi, **outcome} for dpi, outcome in thermal.finish().items()]
    thermal.discard()
    assert [sorted(e) for e in entries] == [["dpi", "error"], ["dpi", "error"]]
    assert "does not fit this label" in entries[0]["error"]
    assert list(tmp_path.iterdir()) == []
    record = db_session.get(PrintRun, run.id)
    record.files = {**record.files, "zpl": entries}
    db_session.flush()
    refused = client.get(f"{P}/print-runs/{run.id}/labels.zpl", headers=packed.account.headers)
    assert refused.status_code == 409
    assert "cannot be printed on 50 × 30 mm thermal labels at 203 dpi" in refused.json["message_en"]
    assert StampFacts(3, "x", "y", "z", date(2027, 1, 1)).star == 3


def test_does_a_run_still_being_built_refuse_its_zpl(app, client, packed, db_session):
    run = _order(client, packed, quantity=1)
    record = db_session.get(PrintRun, run["id"])
    record.status = RunStatus.BUILDING
    db_session.flush()

    response = client.get(run["files"]["zpl_203dpi"], headers=packed.account.headers)

    assert response.status_code == 409
    assert "not ready (status building)" in response.json["message_en"]


def test_does_a_run_in_parts_offer_its_zpl_whole_and_part_by_part(
    app, client, packed, db_session, monkeypatch
):
    # A file per 10,000 stamps (here 20): a part's ZPL is a whole file, so the parts' workers
    # need no join; the whole run is still one download, its files one after another.
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 20)
    run = _order(client, packed, quantity=50)
    folder = build.run_dir(jobs.files_root(app), run["id"])
    assert _files(app, run["id"]) == sorted(
        [f"labels-{dpi}dpi-{part}.zpl" for dpi in (203, 300) for part in (1, 2, 3)]
        + ["sheet-1.pdf", "sheet-2.pdf", "sheet-3.pdf"]
    )
    headers = packed.account.headers
    listed = client.get(f"{P}/print-runs/{run['id']}", headers=headers).json["files"]["zpl"]
    assert [(z["dpi"], z["labels"], len(z["parts"])) for z in listed] == [
        (203, 50, 3),
        (300, 50, 3),
    ]
    etags = []  # the same labels drawn again give the same files
    for entry in listed:
        files = []
        for part, described in enumerate(entry["parts"], start=1):
            answer = client.get(described["url"], headers=headers)
            assert answer.status_code == 200, answer.json
            assert answer.headers["ETag"] == f'"{described["sha256"]}"'
            assert hashlib.sha256(answer.data).hexdigest() == described["sha256"]
            name = f"tem-ocop-dot-in-{run['id']}-{entry['dpi']}dpi-phan-{part}.zpl"
            assert name in answer.headers["Content-Disposition"]
            assert answer.data.startswith(b"~DG")  # each part prints alone: graphic first
            assert answer.data.count(b"^XZ") == described["labels"] == (20, 20, 10)[part - 1]
            files.append(answer.data)
            answer.close()
        whole = client.get(entry["url"], headers=headers)
        assert whole.status_code == 200 and whole.data == b"".join(files)
        assert int(whole.headers["Content-Length"]) == entry["bytes"] == len(whole.data)
        assert (
            f"tem-ocop-dot-in-{run['id']}-{entry['dpi']}dpi.zpl"
            in whole.headers["Content-Disposition"]
        )
        etag = whole.headers["ETag"]
        etags.append(etag.strip('"'))
        assert whole.headers["Accept-Ranges"] == "bytes" and "Last-Modified" in whole.headers
        joined = whole.data
        whole.close()
        unchanged = client.get(entry["url"], headers={**headers, "If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.data == b""
        unchanged.close()
        # A download cut off resumes where it stopped, across the parts' boundaries.
        start = len(files[0]) - 7
        for asked, expected in (
            (f"bytes={start}-", joined[start:]),
            (f"bytes={start}-{start + 99}", joined[start : start + 100]),
            (f"bytes=-{len(files[2]) + 5}", joined[-(len(files[2]) + 5) :]),
        ):
            resumed = client.get(
                entry["url"], headers={**headers, "Range": asked, "If-Range": etag}
            )
            assert resumed.status_code == 206 and resumed.data == expected, asked
            assert resumed.headers["Content-Range"].endswith(f"/{len(joined)}")
            resumed.close()
        changed = client.get(
            entry["url"], headers={**headers, "Range": "bytes=5-", "If-Range": '"x"'}
        )
        assert changed.status_code == 200 and changed.data == joined  # another file: all of it
        changed.close()
        beyond = client.get(entry["url"], headers={**headers, "Range": f"bytes={len(joined)}-"})
        assert beyond.status_code == 416
        beyond.close()
        for url in (entry["url"], entry["parts"][0]["url"]):  # a refusal, not the file behind it
            refused = client.get(url, headers={**headers, "If-Match": '"another"'})
            assert refused.status_code == 412 and refused.data == b""
            refused.close()

    beyond = client.get(f"{P}/print-runs/{run['id']}/labels.zpl?part=4", headers=headers)
    assert beyond.status_code == 404 and "3 ZPL file(s)" in beyond.json["message_en"]
    (folder / "labels-300dpi-2.zpl").unlink()  # lost on the server: said, never half served
    gone = client.get(listed[1]["url"], headers=headers)
    assert gone.status_code == 409 and "build the run again" in gone.json["message_en"]
    with (folder / "labels-203dpi-3.zpl").open("r+b") as cut:  # cut short on the disk
        cut.truncate(1000)
    for damaged in (listed[0]["url"], listed[0]["parts"][2]["url"]):
        refused = client.get(damaged, headers=headers)
        assert refused.status_code == 409 and "build the run again" in refused.json["message_en"]
    record = db_session.get(PrintRun, run["id"])
    assert build.missing_files(record, jobs.files_root(app)) == [
        "labels-203dpi-3.zpl",
        "labels-300dpi-2.zpl",
    ]
    # Built again: the files anew, and what an older build left (one joined file) removed.
    (folder / "labels-203dpi.zpl").write_bytes(b"~DG an older build's joined file")
    again = client.post(f"{P}/print-runs/{run['id']}/build", headers=headers)
    assert again.status_code == 202, again.json
    assert not (folder / "labels-203dpi.zpl").exists()
    rebuilt = client.get(listed[0]["url"], headers=headers)
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] == f'"{etags[0]}"'
    rebuilt.close()


def test_does_a_run_built_with_one_zpl_file_per_dpi_still_download(app, client, packed, db_session):
    # Runs built before parts drew their own ZPL list one file per dpi, without "parts".
    run = _order(client, packed)
    record = db_session.get(PrintRun, run["id"])
    flat = [{"dpi": z["dpi"], **z["parts"][0]} for z in record.files["zpl"]]
    record.files = {**record.files, "zpl": flat}
    db_session.flush()
    assert build.missing_files(record, jobs.files_root(app)) == []

    answer = client.get(run["files"]["zpl_300dpi"], headers=packed.account.headers)
    assert answer.status_code == 200
    assert answer.headers["ETag"] == f'"{flat[1]["sha256"]}"'
    answer.close()
    listed = client.get(f"{P}/print-runs/{run['id']}", headers=packed.account.headers).json
    assert [len(z["parts"]) for z in listed["files"]["zpl"]] == [1, 1]


def test_is_a_background_build_started_by_the_orders_commit_not_its_responses_close(
    backend, tmp_path
):
    # werkzeug's server skips closing a response when the client resets the connection as
    # it drains it: the run sat queued with nobody to build it (a flaky browser test).
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        app = _app(url, tmp_path, build="background")
        seed = seed_committed(app)
        init_keys(app)
        client = app.test_client()
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 30}
        ordered = client.post(f"{P}/print-runs", json=body, headers=seed.headers)
        assert ordered.status_code == 202  # and never closed
        run_url = f"{P}/print-runs/{ordered.json['id']}"
        deadline = time.monotonic() + 60
        while client.get(run_url, headers=seed.headers).json["status"] != "ready":
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.05)
        get_db(app).engine.dispose()


def test_does_a_joined_download_give_each_part_exactly_its_recorded_size(tmp_path):
    # A part changed in place mid-download must cut the download, never put another
    # part's bytes where its own belong (review attack17b).
    first, second = tmp_path / "1.zpl", tmp_path / "2.zpl"
    first.write_bytes(b"A" * 10)
    second.write_bytes(b"B" * 5)
    joined = run_files._Joined([(first.open("rb"), 10), (second.open("rb"), 5)])
    joined.seek(8)
    assert joined.tell() == 8 and b"".join(joined) == b"AABBBBB"
    joined.seek(12)
    assert b"".join(joined) == b"BBB"
    joined.seek(99)
    assert b"".join(joined) == b""
    joined.close()
    first.write_bytes(b"A" * 6)  # cut short after its size was checked
    cut = run_files._Joined([(first.open("rb"), 10), (second.open("rb"), 5)])
    with pytest.raises(OSError, match="shorter than recorded"):
        b"".join(cut)
    cut.close()
