"""What a newcomer does on a fresh machine: clone, run the README's Run command as written,
follow "First requests", then run the command again.

The command is read from the README (the ``sh`` block under ``## Run``), not copied here, so
the README cannot drift from what works. It runs in a clone of HEAD with no ``instance/``,
keys or ``.venv``, every inherited ``OCOP_*`` variable cleared, on a port of its own.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.decode import read_qr_codes
from trace_service.signing.keystore import KeyRole

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 900  # a first run installs every package into a new .venv

pytestmark = pytest.mark.newcomer


def readme_block(heading: str) -> str:
    """The first ``sh`` code block under ``heading`` in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, f"no sh block under {heading!r} in the README"
    return match.group(1).strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our own server
        url, data=data, method=method, headers=headers or {}
    )
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextmanager
def served(clone: Path, command: str, port: int, log: Path) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_")}
    env.pop("VIRTUAL_ENV", None)
    env["OCOP_BIND"] = f"127.0.0.1:{port}"
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the Run command exited ({process.returncode}):\n{log.read_text()}")
            try:
                if _request(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready after {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(1)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _decode_pdf(pdf: bytes, folder: Path) -> set[str]:
    from PIL import Image

    (folder / "sheet.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", str(folder / "sheet.pdf"), str(folder / "p")],
        check=True,
    )
    found: set[str] = set()
    for page in sorted(folder.glob("p*.png")):
        found |= {code.text for code in read_qr_codes(Image.open(page))}
    return found


def _counts(base: str, headers: dict[str, str]) -> dict[str, int]:
    def total(path: str) -> int:
        status, _, body = _request(f"{base}/api/v1/{path}", headers=headers)
        assert status == 200, body
        return int(json.loads(body)["total"])

    return {
        "producers": total("producers?page_size=1"),
        "products": total("products?page_size=1"),
        "print_runs": total("print-runs?page_size=1"),
        "demo_loaded": total("audit-events?tag=demo:data:loaded&page_size=1"),
        "keys_created": total("audit-events?tag=signing:key:created&page_size=1"),
    }


def test_the_readme_run_command_works_the_first_time_and_again(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    if shutil.which("pdftoppm") is None:
        pytest.skip("needs pdftoppm (apt-get install poppler-utils)")
    clone = tmp_path / "ocop"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    command = readme_block("## Run")
    port = _free_port()
    log = tmp_path / "run.log"

    with served(clone, command, port, log) as base:
        credentials = (clone / "instance" / "demo-credentials.txt").read_text(encoding="utf-8")
        accounts = dict(line.split("\t")[::2] for line in credentials.splitlines())
        basic = base64.b64encode(f"admin:{accounts['admin']}".encode()).decode()
        status, _, body = _request(
            f"{base}/api/v1/auth/tokens",
            method="POST",
            headers={"Authorization": f"Basic {basic}"},
            body={"name": "my laptop"},
        )
        assert status == 201, body
        bearer = {"Authorization": f"Bearer {json.loads(body)['token']}"}

        status, _, body = _request(f"{base}/api/v1/products?q=ca%20phe", headers=bearer)
        assert status == 200 and json.loads(body)["total"] > 0, body

        status, _, pdf = _request(f"{base}/api/v1/print-runs/1/sheet.pdf", headers=bearer)
        assert status == 200 and pdf.startswith(b"%PDF-"), pdf[:200]
        status, _, body = _request(
            f"{base}/api/v1/print-runs/1/labels?page_size=100", headers=bearer
        )
        urls = {label["url"] for label in json.loads(body)["items"]}
        assert urls and _decode_pdf(pdf, tmp_path) == urls

        status, _, page = _request(sorted(urls)[0])
        assert status == 200 and "chính hãng" in page.decode(), page[:500]
        first = _counts(base, bearer)
        assert first["demo_loaded"] == 1 and first["keys_created"] == len(KeyRole), first

    with served(clone, command, port, log) as base:
        assert _counts(base, bearer) == first  # the token survives; nothing loaded twice
    assert log.read_text().count("Demo data already present; nothing loaded.") == 1
