"""scripts/audit_deps.py runs the real pip-audit against a stand-in for PyPI's advisory data
(tests/ops/fake_pypi.py): a clean lock passes, a known-vulnerable pin fails unless a
reviewed, unexpired ignore entry covers it, and an unreachable or unanswering service is
said plainly without failing the run."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.fake_pypi import FakePyPI

ROOT = Path(__file__).resolve().parents[2]
HASH = "--hash=sha256:" + "ab" * 32
LOCK = f"flask==3.1.3 \\\n    {HASH}\nwerkzeug==3.0.0 \\\n    {HASH}\n"
ADVISORY = {
    "id": "GHSA-test-0000-0001",
    "aliases": ["CVE-2099-0001"],
    "summary": "Debugger allows remote code execution",
    "fixed_in": ["3.0.6"],
    "withdrawn": None,
}


def vulnerable_werkzeug(name: str, version: str) -> tuple[int, dict[str, object]]:
    vulns = [ADVISORY] if name == "werkzeug" else []
    return 200, {"info": {"name": name, "version": version}, "vulnerabilities": vulns}


def audit(
    tmp_path: Path, env: dict[str, str], ignore: str = ""
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test.lock").write_text(LOCK)
    (tmp_path / "ignore.toml").write_text(ignore)
    files = ["--lock", tmp_path / "test.lock", "--ignore-file", tmp_path / "ignore.toml"]
    files += ["--cache-dir", tmp_path / "cache"]
    return subprocess.run(
        [sys.executable, ROOT / "scripts" / "audit_deps.py", "--timeout", "5", *files],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_clean_lock_passes(tmp_path: Path) -> None:
    clean = lambda name, version: (200, {"info": {}, "vulnerabilities": []})  # noqa: E731
    with FakePyPI(tmp_path, clean) as fake:
        done = audit(tmp_path, fake.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no known vulnerability in 2 locked packages" in done.stdout
    assert sorted(fake.asked) == [("flask", "3.1.3"), ("werkzeug", "3.0.0")]


def test_known_vulnerable_pin_fails(tmp_path: Path) -> None:
    with FakePyPI(tmp_path, vulnerable_werkzeug) as fake:
        done = audit(tmp_path, fake.env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "werkzeug==3.0.0 has CVE-2099-0001 (also GHSA-test-0000-0001)" in done.stdout
    assert "fixed in: 3.0.6" in done.stdout
    assert "FAILED" in done.stdout


def _ignore(look_again: datetime.date) -> str:
    return (
        '[[ignore]]\nid = "CVE-2099-0001"\npackage = "werkzeug"\n'
        f'reason = "The debugger is never enabled."\nlook_again = {look_again.isoformat()}\n'
    )


def test_reviewed_ignore_entry_passes_until_its_date(tmp_path: Path) -> None:
    today = datetime.date.today()
    with FakePyPI(tmp_path, vulnerable_werkzeug) as fake:
        ignored = audit(tmp_path, fake.env, _ignore(today + datetime.timedelta(days=30)))
        expired = audit(tmp_path, fake.env, _ignore(today - datetime.timedelta(days=1)))
        no_reason = audit(tmp_path, fake.env, '[[ignore]]\nid = "X"\npackage = "werkzeug"\n')
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    assert expired.returncode == 1
    assert "CVE-2099-0001 (werkzeug) was to be looked at again" in expired.stdout
    assert no_reason.returncode != 0
    assert "needs id, package, reason and a look_again date" in no_reason.stderr


def test_unreachable_service_is_said_plainly_and_does_not_fail(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": "", "NO_PROXY": ""}
    env["https_proxy"] = env["HTTPS_PROXY"]
    done = audit(tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dependency audit: NOT DONE - PyPI's advisory service could not be reached" in (
        done.stdout
    )


@pytest.mark.parametrize("status", [404, 503])
def test_unanswering_service_is_said_plainly_and_does_not_fail(tmp_path: Path, status: int) -> None:
    with FakePyPI(tmp_path, lambda name, version: (status, {})) as fake:
        done = audit(tmp_path, fake.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dependency audit: NOT DONE" in done.stdout
