"""The inspectors' offline page at ``/kiem-tra-vien/``: public, installable on a phone's home
screen, and able to check a stamp with no network at all.

The page, its web app manifest, its icons and its service worker are served here; the
verifier's modules are the shared ``static/verify/*.js``. The service worker lives at
``/kiem-tra-vien/sw.js`` so that its scope is the page. This page alone may compile
WebAssembly (``'wasm-unsafe-eval'``): the QR decoder is ZXing-C++ compiled to it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, send_from_directory

from trace_service.errors import DomainError
from trace_service.signing.service import get_keystore, root_public_key
from trace_service.web import STATIC_DIR, static_url

PATH = "/kiem-tra-vien"
HERE = Path(__file__).parent
PAGE_FILES = ("app.js", "inspections.js", "icon-192.png", "icon-512.png")
page = Blueprint(
    "offline_page",
    __name__,
    url_prefix=PATH,
    template_folder="templates",
    static_folder="static",
    static_url_path="/tep",
)

PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'"
)
# What the service worker keeps for use with no network (besides the page itself).
MODULES = (
    "verify/encoding.js",
    "verify/ed25519.js",
    "verify/label.js",
    "verify/trustlist.js",
    "verify/snapshot.js",
    "verify/verdict.js",
    "verify/qr.js",
    "vendor/noble-ed25519/index.js",
    "vendor/zxing-wasm/es/reader/index.js",
    "vendor/zxing-wasm/es/share.js",
    "vendor/zxing-wasm/reader/zxing_reader.wasm",
)


def _root_key() -> dict[str, str] | None:
    try:
        return root_public_key(get_keystore())
    except DomainError:  # no key store or no root key yet: the page says so
        return None


@page.get("")
def no_slash() -> Any:
    return redirect(f"{PATH}/", code=301)


@page.get("/")
def offline_page() -> Response:
    html = render_template(
        "verify/offline.html",
        root_key=_root_key(),
        stale_days=current_app.config["OFFLINE_STALE_AFTER_DAYS"],
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@page.get("/manifest.webmanifest")
def manifest() -> Response:
    response = send_from_directory(page.static_folder or "", "manifest.webmanifest")
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@page.get("/sw.js")
def service_worker() -> Response:
    """The worker, with the list of what it keeps filled in. Modules import each other by
    plain paths, so those are kept; the cache is named by the files' contents, so a release
    that changes any is a new worker that fetches them again."""
    assets = [f"/static/{name}" for name in MODULES] + [static_url("ocop.css")]
    assets += [f"{PATH}/tep/{name}" for name in PAGE_FILES]
    body = render_template(
        "verify/sw.js",
        assets=assets,
        page=f"{PATH}/",
        cache_name=f"ocop-kiem-tra-vien-{_release()}",
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@cache
def _release() -> str:
    digest = hashlib.sha256()
    files = [STATIC_DIR / name for name in MODULES] + [STATIC_DIR / "ocop.css"]
    files += [HERE / "static" / name for name in PAGE_FILES]
    files += [HERE / "templates" / "verify" / name for name in ("offline.html", "sw.js")]
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@page.after_request
def _policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response
