"""A real browser (Debian's headless Chromium driven by Playwright) and a live server for it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags this machine kind needs: no sandbox as root, and no background calls to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def keep_to_this_server(page: Any) -> tuple[list[str], list[str]]:
    """Refuse and record every request ``page`` makes to another host, and record its console
    errors: (outside requests, console errors), filled as the page works."""
    outside: list[str] = []
    errors: list[str] = []

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return outside, errors


@contextmanager
def served_app(tmp: Path, **config: Any) -> Iterator[tuple[Flask, str]]:
    """The app on a fresh migrated SQLite database with its keys, served live; stamps link to
    the live server (http is allowed for 127.0.0.1 only). ``config`` adds or overrides."""
    from tests.databases import fresh_database
    from trace_service import create_app
    from trace_service.db import get_db
    from trace_service.migrate import upgrade
    from trace_service.signing.service import init_keys

    with fresh_database("sqlite", tmp) as url:
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "KEYS_DIR": str(tmp / "keys"),
                "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
                "LABEL_FILES_DIR": str(tmp / "files"),
                "LABEL_BUILD": "inline",
                **config,
            }
        )
        init_keys(app)
        with live_server(app) as base:
            app.config["LABEL_BASE_URL"] = base
            yield app, base
        get_db(app).engine.dispose()


@contextmanager
def chromium() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page (the bar is none), each as
    ``rule: what it says (where)``."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']} ({', '.join(str(n['target']) for n in v['nodes'][:3])})"
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]


def scrolls_sideways(page: Any) -> bool:
    """Whether the page is wider than the window (a phone scrolls it sideways)."""
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


# Each visible link, button or choice in the page's main part lower than 44 px.
_SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main a, main button, main .choice label, main summary')]
  .filter((e) => e.offsetParent && e.getBoundingClientRect().height < 44)
  .map((e) => `${e.innerText.trim().slice(0, 30)}: ${e.getBoundingClientRect().height}`)"""


def small_tap_targets(page: Any) -> list[str]:
    """The page's links, buttons and choices under 44 px high (PAGES.md: tap targets on a
    phone), each as ``what it says: height``; the bar is none."""
    return list(page.evaluate(_SMALL_TARGETS))


def screenshot(page: Any, name: str) -> Path:
    """Keep what the page looked like as a test artifact (``test-artifacts/``, not in git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
