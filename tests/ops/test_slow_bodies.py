"""A client sending its body slowly holds no lock (the attacker's review, F1), and a chunked
body over a limit is refused, not cut at the limit and read as if whole (F2).

Every write waits for SQLite's one write lock, and every label page view writes (its scan):
a write route that began its transaction before reading the body let anyone stall every
page of the service for as long as a worker waits on a sender."""

from __future__ import annotations

import io
import json
import socket
import time
import urllib.request
from urllib.parse import urlsplit

from tests.browser import served_app
from tests.labels.conftest import P, seed_committed


def _stalled_post(base: str, path: str, headers: dict[str, str]) -> socket.socket:
    """A POST that promises 1,000 bytes of body and sends one."""
    host = urlsplit(base)
    sock = socket.create_connection((host.hostname, host.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {host.netloc}", "Content-Length: 1000"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n{").encode())
    return sock


def _seconds_to_view(url: str) -> float:
    started = time.monotonic()
    phone = {"User-Agent": "Mozilla/5.0 (iPhone) Mobile"}
    request = urllib.request.Request(url, headers=phone)  # noqa: S310 - the test server
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the test server
        assert answer.status == 200
    return time.monotonic() - started


def test_a_slow_body_holds_no_write_lock_from_any_page(tmp_path):
    with served_app(tmp_path) as (app, base):
        seed = seed_committed(app, bags=10)
        client = app.test_client()
        body = {"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 2}
        run = client.post(f"{P}/print-runs", headers=seed.headers, json=body).json
        labels = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
        first, second = (urlsplit(item["url"]) for item in labels["items"])
        stalls = [
            # an API write with a token (its principal is read before the view)
            _stalled_post(
                base, f"{P}/trace/harvests", {**seed.headers, "Content-Type": "application/json"}
            ),
            # the public scratch form, no account
            _stalled_post(
                base,
                f"{first.path}?{first.query}",
                {"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ]
        time.sleep(0.5)  # both requests are waiting for their bodies
        try:
            assert _seconds_to_view(f"{base}{second.path}?{second.query}") < 3
        finally:
            for sock in stalls:
                sock.close()


def _chunked(client, path: str, data: bytes, headers: dict[str, str]):
    return client.post(
        path,
        input_stream=io.BytesIO(data),
        headers={**headers, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_refused_not_cut(app, client, inspector):
    url = "HTTPS://TEM.OCOP.EXAMPLE.VN/01/08936000000001/10/L1/21/0000000000000?S=AAAA"
    padded = json.dumps({"url": url}).encode() + b" " * 10_000
    answer = _chunked(client, f"{P}/labels/verify", padded, inspector.headers)
    assert answer.status_code == 413, answer.json
    small = _chunked(client, f"{P}/labels/verify", json.dumps({"url": url}).encode(), {})
    assert small.status_code == 401  # read whole, then judged as any request
    big = json.dumps({"name": "x" * app.config["MAX_BODY_BYTES"]}).encode()
    assert _chunked(client, f"{P}/producers", big, inspector.headers).status_code == 413
