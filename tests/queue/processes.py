"""The service's own processes started by a test, as an operator would: RQ workers
(``flask jobs worker``) and gunicorn web instances, each in its own process group, with the
settings of the test's app in their environment; and the Redis keys they leave, forgotten."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis

ROOT = Path(__file__).resolve().parents[2]
SHARED = (
    "KEYS_DIR",
    "KEYS_PASSPHRASE",
    "LABEL_BASE_URL",
    "LABEL_FILES_DIR",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "LABEL_BUILD_LEASE_SECONDS",
)


def process_env(app, url: str, *more: str) -> dict[str, str]:
    """This environment without any OCOP_ setting, then the app's ``SHARED`` and ``more``
    settings and the database ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_")}
    env.update({f"OCOP_{n}": str(app.config[n]) for n in (*SHARED, *more)}, OCOP_DATABASE_URL=url)
    return env


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes its children too
        )


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen:
    """The README's worker command: ``flask --app wsgi jobs worker``."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--name", name]
    return _start(command, env, log)


def start_web(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """A web instance as the README serves it: gunicorn with ``wsgi:app``."""
    bind = f"127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", "1", "wsgi:app"]
    return _start(command, env, log)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL to the process and everything it started (a worker's work horse has a group
    of its own), as when its machine is lost."""
    for pid in [*_descendants(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(what, seconds: float, step: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := what():
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds} s")


def forget(redis: Redis, prefix: str, queue: str) -> None:
    """Delete this test's keys (its prefix, its queue's); the shared Redis is never flushed."""
    for pattern in (f"{prefix}:*", f"rq:*{queue}*"):
        for key in redis.scan_iter(match=pattern, count=1000):
            redis.delete(key)
