"""A worker killed with SIGKILL in the middle of a 10,000-stamp build: another worker takes
the run over once its lease runs out and finishes it from the same labels, and no file is
ever in place half-written (issue 15). Real RQ workers (``flask jobs worker``) in
subprocesses, on the Redis of OCOP_TEST_REDIS_URL, under a queue name and key prefix of this
test's own (the shared Redis is never flushed)."""

from __future__ import annotations

import uuid

from redis import Redis
from rq import Worker

from tests.databases import fresh_database
from tests.queue.helpers import ACTOR, make_app, order, seed, serials, sha256
from tests.queue.processes import forget, kill_hard, process_env, start_worker, wait_for
from trace_service import jobqueue
from trace_service.db import session_scope
from trace_service.labels import build, jobs
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.migrate import upgrade

STAMPS = 10_000
LEASE_S = 3


def _run(app, run_id) -> PrintRun:
    with app.app_context(), session_scope(app, writes=False) as session:
        run = session.get_one(PrintRun, run_id)
        session.expunge(run)
        return run


def test_a_worker_killed_mid_build_leaves_the_run_to_another(tmp_path, redis_url):
    url_redis = redis_url
    prefix = f"ocop-test-{uuid.uuid4().hex[:10]}"
    with fresh_database("sqlite", tmp_path) as url:  # the queue's test: one backend will do
        upgrade(url)
        app = make_app(
            url,
            tmp_path,
            REDIS_URL=url_redis,
            REDIS_KEY_PREFIX=prefix,
            LABEL_BUILD_LEASE_SECONDS=LEASE_S,
        )
        committed = seed(app, STAMPS)
        redis = Redis.from_url(url_redis)
        env, workers = process_env(app, url), []
        try:
            for name in "ab":  # both at once: starting a worker takes seconds
                workers.append(start_worker(env, f"{prefix}-{name}", tmp_path / f"{name}.log"))
            queue = jobqueue.get_queue(app)
            wait_for(lambda: Worker.count(queue=queue) == 2, 60)
            run_id = order(app, committed, STAMPS)
            issued = serials(app, run_id)
            with app.app_context():
                jobs.start_build(run_id, ACTOR, app)  # on the queue: a worker listens
            wait_for(lambda: _run(app, run_id).labels_drawn >= 1000, 120)
            busy = wait_for(
                lambda: [w.name for w in Worker.all(queue=queue) if w.get_state() == "busy"], 5
            )
            victim = workers["ab".index(busy[0][-1])]
            survivor = workers[1 - workers.index(victim)]
            kill_hard(victim)

            folder = build.run_dir(jobs.files_root(app), run_id)
            killed = _run(app, run_id)
            assert killed.status is RunStatus.BUILDING and killed.labels_drawn < STAMPS
            assert not [p for p in folder.glob("*") if p.is_file()]  # nothing in place
            survivor_log = tmp_path / f"{survivor.args[-1][-1]}.log"
            wait_for(lambda: _run(app, run_id).status is RunStatus.READY, 240, 0.5)
        finally:
            for process in workers:
                if process.poll() is None:
                    kill_hard(process)
            forget(redis, prefix, jobqueue.queue_name(app))

        run = _run(app, run_id)
        assert run.labels_drawn == STAMPS and run.error is None
        assert serials(app, run_id) == issued  # the same labels: none made again, none new
        assert [s["labels"] for s in run.files["sheets"]] == [STAMPS]
        assert [z["labels"] for z in run.files["zpl"]] == [STAMPS, STAMPS]
        for entry in [*run.files["sheets"], *(f for z in run.files["zpl"] for f in z["parts"])]:
            assert sha256(folder / entry["name"]) == entry["sha256"]
        assert sorted(p.name for p in folder.iterdir()) == [
            "labels-203dpi.zpl",
            "labels-300dpi.zpl",
            "sheet.pdf",
        ]
        log = survivor_log.read_text()
        assert "taken over" in log, log[-3000:]
