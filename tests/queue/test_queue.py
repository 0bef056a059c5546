"""The job queue in this process: RQ's SimpleWorker runs the same jobs as ``flask jobs worker``
on the Redis of OCOP_TEST_REDIS_URL, under a queue name and key prefix of each test's own."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.databases import fresh_database
from tests.queue.helpers import ACTOR, make_app, order, seed, serials
from trace_service import jobqueue
from trace_service.audit.models import AuditEvent
from trace_service.db import session_scope
from trace_service.labels import build, build_parts, jobs
from trace_service.labels.models import PrintRun, RunStatus
from trace_service.migrate import upgrade
from trace_service.queue import tasks, worker

P = "/api/v1"


def _forget(app) -> None:
    redis = jobqueue.connection(app)
    for pattern in (f"{app.config['REDIS_KEY_PREFIX']}:*", f"rq:*{jobqueue.queue_name(app)}*"):
        for key in redis.scan_iter(match=pattern, count=1000):
            redis.delete(key)


@pytest.fixture
def queued(app, redis_url, monkeypatch):
    """The suite's app with a job queue of this test's own, and a worker registered on it."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "REDIS_KEY_PREFIX", f"ocop-test-{uuid.uuid4().hex[:10]}")
    app.extensions.pop(jobqueue.EXTENSION, None)
    with _listening(app):
        yield worker.make_worker(app, kind=worker.InProcessWorker)
    _forget(app)
    app.extensions.pop(jobqueue.EXTENSION, None)


@contextmanager
def _listening(app):
    """A worker registered on the queue (so orders go to it), and the app bound for jobs;
    the tests' own worker runs them (``work`` registers it anew)."""
    tasks.bind_app(app)
    placeholder = worker.make_worker(app, kind=worker.InProcessWorker)
    placeholder.register_birth()
    try:
        yield
    finally:
        placeholder.register_death()


def _run(app, run_id) -> PrintRun:
    with app.app_context(), session_scope(app, writes=False) as session:
        run = session.get_one(PrintRun, run_id)
        session.expunge(run)
        return run


def test_a_run_is_built_in_parts_on_the_queue(tmp_path, redis_url, monkeypatch):
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 150)
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(
            url,
            tmp_path,
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX=f"ocop-test-{uuid.uuid4().hex[:10]}",
        )
        run_id = order(app, seed(app, 1000), 400)
        issued = serials(app, run_id)
        try:
            with _listening(app), app.app_context():
                jobs.start_build(run_id, ACTOR, app)
                queue = jobqueue.get_queue(app)
                assert queue.count == 1  # on the queue, not built by the web process
                worker.make_worker(app, kind=worker.InProcessWorker).work(burst=True)
            names = sorted(job.func_name.rsplit(".", 1)[1] for job in _finished(queue))
        finally:
            _forget(app)
        # Each part draws whole ZPL files: nothing is copied after the last part.
        assert names == ["build_part"] * 3 + ["build_run", "join_run"]
        run = _run(app, run_id)
        assert run.status is RunStatus.READY and run.labels_drawn == 400
        assert [s["name"] for s in run.files["sheets"]] == [
            "sheet-1.pdf",
            "sheet-2.pdf",
            "sheet-3.pdf",
        ]
        assert serials(app, run_id) == issued


def _finished(queue):
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    return Job.fetch_many(ids, connection=queue.connection)


def test_without_a_worker_listening_the_web_process_builds(tmp_path, redis_url):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(
            url,
            tmp_path,
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX=f"ocop-test-{uuid.uuid4().hex[:10]}",
        )
        run_id = order(app, seed(app, 100), 20)
        try:
            with app.app_context():
                jobs.start_build(run_id, ACTOR, app)  # no worker: the builder threads
            assert jobqueue.get_queue(app).count == 0
            deadline = time.monotonic() + 60
            while _run(app, run_id).status is not RunStatus.READY:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            _forget(app)


def test_a_silent_run_is_taken_over_a_few_times_then_failed(tmp_path, redis_url):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = make_app(
            url,
            tmp_path,
            REDIS_URL=redis_url,
            REDIS_KEY_PREFIX=f"ocop-test-{uuid.uuid4().hex[:10]}",
        )
        run_id = order(app, seed(app, 100), 20)
        queue = jobqueue.get_queue(app)
        try:
            with app.app_context():
                with session_scope(app) as session:
                    build_parts.start(session, run_id, jobs.files_root(app), tasks.lease(app))
                assert worker.take_over_silent_runs(app) == []  # its lease holds
                for lapse in range(1, worker.MAX_TAKEOVERS + 2):
                    later = build.utcnow() + timedelta(minutes=6 * lapse)
                    with session_scope(app) as session:  # claimed again, silent again
                        session.get_one(PrintRun, run_id).lease_until = later - timedelta(1)
                    taken = worker.take_over_silent_runs(app, later)
                    assert worker.take_over_silent_runs(app, later) == []  # once a lapse
                    if lapse <= worker.MAX_TAKEOVERS:
                        assert taken == [run_id] and queue.count == lapse
            run = _run(app, run_id)
            assert taken == [] and run.status is RunStatus.FAILED and "OCOP" in run.error
        finally:
            _forget(app)


def test_dead_letters_are_listed_and_sent_again(queued, app, client, admin, db_session):
    job = jobqueue.enqueue(app, tasks.PREFIX + "join_run", 987_654, ACTOR, retry=None)
    queued.work(burst=True)
    listed = client.get(f"{P}/jobs/failed", headers=admin.headers)
    assert listed.status_code == 200, listed.json
    assert listed.json["enabled"] is True and listed.json["total"] == 1
    (letter,) = listed.json["items"]
    assert letter["id"] == job.id and letter["job"] == "join_run"
    assert "NoResultFound" in letter["error"]

    again = client.post(f"{P}/jobs/failed/{job.id}/retry", headers=admin.headers)
    assert again.status_code == 202, again.json
    assert jobqueue.get_queue(app).count == 1
    assert client.get(f"{P}/jobs/failed", headers=admin.headers).json["total"] == 0
    event = db_session.query(AuditEvent).filter_by(tag="queue:job:retried").one()
    assert event.object_id == job.id

    for unknown in (job.id, "0" * 32, "not-a-job"):
        gone = client.post(f"{P}/jobs/failed/{unknown}/retry", headers=admin.headers)
        assert gone.status_code == 404, gone.json


def test_dead_letters_are_the_office_s(queued, client, inspector):
    assert client.get(f"{P}/jobs/failed", headers=inspector.headers).status_code == 403


def test_without_a_queue_there_are_no_dead_letters(client, admin):
    listed = client.get(f"{P}/jobs/failed", headers=admin.headers)
    assert listed.json == {"enabled": False, "total": 0, "items": []}
    assert (
        client.post(f"{P}/jobs/failed/{'0' * 32}/retry", headers=admin.headers).status_code == 404
    )


def test_redis_down_answers_503_not_500(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens
    app.extensions.pop(jobqueue.EXTENSION, None)
    try:
        listed = client.get(f"{P}/jobs/failed", headers=admin.headers)
        assert listed.status_code == 503 and "Redis" in listed.json["message_en"]
        retried = client.post(f"{P}/jobs/failed/{'0' * 32}/retry", headers=admin.headers)
        assert retried.status_code == 503
    finally:
        app.extensions.pop(jobqueue.EXTENSION, None)


def test_the_daily_sweep_and_periodic_jobs_are_queued_once(queued, app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER", True)
    monkeypatch.setitem(app.config, "SCHEDULER_TIME", "06:00")
    before = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # 05:00 in Vietnam
    assert worker.queue_periodic(app, before) == ["deliver_notices", "refresh_snapshot"]
    assert worker.queue_periodic(app, before) == []  # another worker, the same minute
    after = before + timedelta(hours=1, minutes=1)
    assert worker.queue_periodic(app, after) == ["daily_sweep"]
    assert worker.queue_periodic(app, after + timedelta(hours=2)) == []  # once a day
    # The worker's own maintenance asks the real clock: from 06:00 in Vietnam it would queue
    # today's sweep as well (this test failed 18 hours a day). Only what was queued runs.
    monkeypatch.setitem(app.config, "SCHEDULER", False)
    queued.work(burst=True)  # the jobs themselves, and the deliveries the sweep queues
    queue = jobqueue.get_queue(app)
    assert sorted(job.func_name.rsplit(".", 1)[1] for job in _finished(queue)) == [
        "daily_sweep",
        "deliver_notices",
        "deliver_notices",
        "refresh_snapshot",
    ]
    assert worker.queue_periodic(app, after + timedelta(days=1)) == []


def test_the_office_page_lists_dead_letters_and_sends_one_again(queued, app, client, db_session):
    from tests import factories
    from tests.portal.conftest import BROWSER, PASSWORD, csrf_of, sign_in
    from trace_service.auth.passwords import hash_password
    from trace_service.principal import Role

    office = factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
    job = jobqueue.enqueue(
        app, tasks.PREFIX + "join_run", 987_655, ACTOR, retry=None, description="<b>đợt in</b>"
    )
    queued.work(burst=True)
    sign_in(client, office.username)
    page = client.get("/van-phong/cong-viec-loi/", headers=BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Công việc lỗi" in html and job.id in html
    assert "&lt;b&gt;đợt in&lt;/b&gt;" in html  # escaped
    sent = client.post(
        f"/van-phong/cong-viec-loi/{job.id}/gui-lai",
        data={"csrf_token": csrf_of(html)},
        headers=BROWSER,
    )
    assert sent.status_code == 303
    after = client.get(sent.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Đã gửi lại công việc" in after and "Không có công việc lỗi." in after
    assert jobqueue.get_queue(app).count == 1


def test_a_run_whose_queued_build_redis_lost_is_queued_again(tmp_path, redis_url):
    """The operator's drill (F2): Redis restarted without its data lost a queued build; the
    run waited in 'queued' forever. A worker's maintenance now queues it again, once."""
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        prefix = f"ocop-test-{uuid.uuid4().hex[:10]}"
        app = make_app(url, tmp_path, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
        tasks.bind_app(app)
        run_id = order(app, seed(app, 100), 20)  # ordered: queued, its job never reached Redis
        queue = jobqueue.get_queue(app)
        try:
            now = build.utcnow()
            assert worker.requeue_lost_runs(app, now) == []  # within a lease of its order
            jobqueue.mark_queued_run(app, run_id)
            later = now + timedelta(seconds=app.config["LABEL_BUILD_LEASE_SECONDS"] + 1)
            assert worker.requeue_lost_runs(app, later) == []  # its job is on the queue
            jobqueue.connection(app).delete(jobqueue.queued_run_mark(app, run_id))  # flushed
            assert worker.requeue_lost_runs(app, later) == [run_id]
            assert worker.requeue_lost_runs(app, later) == []  # once
            assert queue.count == 1
            worker.make_worker(app, kind=worker.InProcessWorker).work(burst=True)
            assert _run(app, run_id).status is RunStatus.READY
        finally:
            _forget(app)


def test_a_worker_that_redis_forgot_registers_again(tmp_path, redis_url):
    """The operator's drill (F1): after Redis restarted empty, the web processes saw no
    worker and built every order themselves until the workers were restarted."""
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        prefix = f"ocop-test-{uuid.uuid4().hex[:10]}"
        app = make_app(url, tmp_path, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix)
        listening = worker.make_worker(app, kind=worker.InProcessWorker)
        listening.register_birth()
        queue = jobqueue.get_queue(app)
        try:
            redis = jobqueue.connection(app)
            # What a restart without persistence leaves (this queue's keys only: other
            # tests share the Redis): no worker key, no registration.
            redis.delete(listening.key, f"rq:workers:{queue.name}")
            redis.srem("rq:workers", listening.key)
            assert jobqueue.Worker.count(queue=queue) == 0
            listening.run_maintenance_tasks()
            assert jobqueue.Worker.count(queue=queue) == 1
            listening.run_maintenance_tasks()  # registered: nothing more to do
            assert jobqueue.Worker.count(queue=queue) == 1
        finally:
            listening.register_death()
            _forget(app)
