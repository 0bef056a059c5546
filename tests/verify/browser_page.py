"""The browser verifier's modules on a test page, in headless Chromium, served by a live
test server (the page and its harness live in tests/verify/www, never in the application)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response

from tests.browser import chromium, live_server
from trace_service import create_app

WWW = Path(__file__).with_name("www")
# The verifier page needs WebAssembly for the QR decoder: 'wasm-unsafe-eval' allows compiling
# it, and nothing else (no eval of scripts, no inline script).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'"
)


def test_app(database_url: str) -> Flask:
    app = create_app({"DATABASE_URL": database_url})
    page = Blueprint(
        "verify_test_page", __name__, static_folder=WWW, static_url_path="/test-verify"
    )

    @page.after_request
    def _policy(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["Cache-Control"] = "no-store"
        return response

    app.register_blueprint(page)
    return app


@contextmanager
def harness_page(database_url: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """(page, requests to other hosts, console errors and page errors) with the harness
    loaded; every request to another host is refused and recorded."""
    with live_server(test_app(database_url)) as base, chromium() as browser:
        page = browser.new_page()
        outside: list[str] = []
        problems: list[str] = []

        def only_this_server(route: Any) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.goto(f"{base}/test-verify/index.html")
        page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
        try:
            yield page, outside, problems
        finally:
            page.close()
