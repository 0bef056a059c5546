"""Past one machine (issue 15): two web instances (gunicorn, on different ports) and one RQ
worker (the README's command) share one PostgreSQL database, one Redis and one print-files
directory. A producer orders a print run on instance A, the worker builds it, and instance
B serves the same file (a PDF poppler reads, with the run's stamps on it).

The database is a fresh one on the server of OCOP_TEST_POSTGRES_URL, dropped after; the
Redis keys are under a prefix of this test's own, deleted after (the Redis is never
flushed)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry

from tests.databases import fresh_database
from tests.labels.conftest import P
from tests.ops.pg_pair import free_port
from tests.queue.helpers import make_app, seed
from tests.queue.processes import forget, kill_hard, process_env, start_web, start_worker, wait_for
from trace_service import jobqueue
from trace_service.migrate import upgrade

pytestmark = pytest.mark.postgres_only
STAMPS = 40


def _call(url: str, headers: dict[str, str], body: dict | None = None) -> tuple[int, bytes]:
    """One request to an instance (http://127.0.0.1 only): its status and body."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {**headers, "Content-Type": "application/json"}
    request = Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except URLError as error:
        code = getattr(error, "code", 0)  # an HTTPError answers; a refused connection: 0
        return code, error.read() if hasattr(error, "read") else b""


def _ready(base: str) -> bool:
    return _call(f"{base}/readyz", {})[0] == 200


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF read by poppler: fails on anything that is not a whole, valid PDF."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed (pdftotext)")
    path = tmp_path / "downloaded.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _built_by_worker(app, run_id: int) -> bool:
    queue = jobqueue.get_queue(app)
    registry = FinishedJobRegistry(queue=queue)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=queue.connection)
    return any(job and job.description == f"print run {run_id}" for job in jobs)


def _start(env, tmp_path: Path, prefix: str) -> tuple[list[subprocess.Popen], str, str]:
    """Instances A and B (gunicorn, each on a free port) and one worker; their addresses."""
    ports = free_port(), free_port()
    processes = [start_web(env, port, tmp_path / f"web-{port}.log") for port in ports]
    processes.append(start_worker(env, f"{prefix}-worker", tmp_path / "worker.log"))
    return processes, f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"


def test_an_order_on_one_instance_is_built_by_the_worker_and_served_by_the_other(
    tmp_path, redis_url
):
    prefix = f"ocop-test-{uuid.uuid4().hex[:10]}"
    with fresh_database("postgresql", tmp_path) as url:
        upgrade(url)
        # Every instance needs the same secret key (session cookies, scan hashes).
        shared = {"SECRET_KEY": uuid.uuid4().hex, "OFFLINE_SNAPSHOT_DIR": str(tmp_path / "off")}
        app = make_app(url, tmp_path, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix, **shared)
        committed = seed(app, STAMPS)
        env = process_env(app, url, *shared, "LABEL_BUILD")
        processes, a, b = _start(env, tmp_path, prefix)
        try:
            queue = jobqueue.get_queue(app)
            wait_for(lambda: Worker.count(queue=queue) == 1 and _ready(a) and _ready(b), 90, 0.3)
            body = {"product_id": committed.product_id, "lot_id": committed.lot_id}
            body["quantity"] = STAMPS
            status, answer = _call(f"{a}{P}/print-runs", committed.headers, body)
            assert status == 202, answer
            run_id = json.loads(answer)["id"]
            on_b = f"{b}{P}/print-runs/{run_id}"
            state = lambda: json.loads(_call(on_b, committed.headers)[1])  # noqa: E731
            run = wait_for(lambda: (r := state())["status"] == "ready" and r, 120, 0.3)
            assert _built_by_worker(app, run_id)  # not by a web instance's builder threads

            status, pdf = _call(f"{on_b}/sheet.pdf", committed.headers)
            assert status == 200 and pdf.startswith(b"%PDF-")
            assert hashlib.sha256(pdf).hexdigest() == run["files"]["sheets"][0]["sha256"]
            assert _call(f"{a}{P}/print-runs/{run_id}/sheet.pdf", committed.headers)[1] == pdf
            listed = json.loads(_call(f"{on_b}/labels?page_size=1", committed.headers)[1])
            assert listed["items"][0]["code"] in "".join(_pdf_text(pdf, tmp_path).split())
        finally:
            for process in processes:
                if process.poll() is None:
                    kill_hard(process)
            forget(Redis.from_url(redis_url), prefix, jobqueue.queue_name(app))
