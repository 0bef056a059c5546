"""The language of a page: Vietnamese by default, English when the browser prefers it or
the visitor switches with ``?lang=en`` (remembered in a cookie for a year).

Templates call ``t("tiếng Việt", "English")``; every message of the services already comes
in both languages (``DomainError.message`` / ``message_en``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, g, request

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def current() -> str:
    return str(g.get("lang", DEFAULT))


def t(vi: str, en: str) -> str:
    """The text in the page's language."""
    return en if current() == "en" else vi


def _vi(vi: str, _en: str) -> str:
    return vi


def _en(_vi: str, en: str) -> str:
    return en


def _bound() -> dict[str, object]:
    """``t`` and ``lang`` for one rendering, bound to the page's language once (a page
    calls ``t`` dozens of times; each ``current()`` goes through Flask's context)."""
    language = current()
    return {"t": _en if language == "en" else _vi, "lang": lambda: language}


def _choose() -> None:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.lang, g.lang_switched = asked, True
        return
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        g.lang = remembered
        return
    g.lang = request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def _remember(response: Response) -> Response:
    if g.get("lang_switched"):
        response.set_cookie(
            COOKIE,
            current(),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def switch_url(language: str) -> str:
    """This page in ``language``: a link of the query alone (``?…&lang=en``), which a browser
    resolves against the page's own path: a path is never written into the link, so no
    crafted one (``/\\evil.example``) can make it point to another site."""
    if "lang" not in request.args:  # most pages: the query as sent, one parameter more
        query = request.query_string.decode("latin-1")
        return f"?{query}&lang={language}" if query else f"?lang={language}"
    args = request.args.to_dict(flat=False)
    args["lang"] = [language]
    return f"?{urlencode(args, doseq=True)}"


def init_app(app: Flask) -> None:
    app.before_request(_choose)
    app.after_request(_remember)
    app.jinja_env.globals.update(t=t, lang=current, switch_url=switch_url)
    app.context_processor(_bound)
