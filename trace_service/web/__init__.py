"""What every page of the service shares: the layout and stylesheet, the language of the
page (Vietnamese first, English when the visitor prefers it), dates and numbers as people in
Vietnam write them, and compressed responses.

The label page, the inspectors' page and the portal all extend ``templates/base.html`` and
link the one stylesheet ``static/ocop.css``, so the three faces look and speak alike.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, Response, has_request_context, request, url_for
from flask_compress import Compress

from trace_service.web import formatting, i18n
from trace_service.web.security import init_security

STATIC_DIR = Path(__file__).parent / "static"
# Static files are named by content (``?v=``), so browsers may keep them for a year.
STATIC_MAX_AGE = 365 * 24 * 3600


class _StaticBlueprint(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        # Kept a year only when asked by content version; a file asked without one (a
        # JavaScript module imported by a relative path) is revalidated by its ETag instead,
        # so a changed module reaches every browser.
        return STATIC_MAX_AGE if request.args.get("v") else 0

    def send_static_file(self, filename: str) -> Response:
        # Small text files, read whole so that they can be compressed (a file streamed
        # straight to the socket cannot be).
        response = super().send_static_file(filename)
        body = response.response  # the open file: closed here, not left to the GC
        if response.status_code == 200:
            response.direct_passthrough = False
            response.set_data(response.get_data())
        elif response.status_code == 304:  # revalidated by its ETag: no body
            response.response = []
        if hasattr(body, "close") and response.status_code in (200, 304):
            body.close()
        return response


web = _StaticBlueprint("web", __name__, static_folder="static", static_url_path="/static")

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/ld+json",
    "application/linkset+json",
    "application/geo+json",
    "application/manifest+json",
    "image/svg+xml",
    "application/wasm",  # the QR decoder of the verifier page: 947 KB, 389 KB in brotli
]


@cache
def _version(filename: str) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]


_STATIC_URLS: dict[tuple[str, str], str] = {}


def static_url(filename: str) -> str:
    """A static file's URL with its content's hash, so a changed file is fetched anew; built
    once per file and mount point (every page asks for its style sheet)."""
    key = (request.script_root if has_request_context() else "", filename)
    if (known := _STATIC_URLS.get(key)) is None:
        known = url_for("web.static", filename=filename, v=_version(filename))
        _STATIC_URLS[key] = known
    return known


def init_web(app: Flask) -> None:
    app.register_blueprint(web)
    init_security(app)
    i18n.init_app(app)
    formatting.init_app(app)
    app.jinja_env.globals["static_url"] = static_url
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    # Files streamed from disk (downloads) go as they are: flask-compress would not close them.
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)
