"""What every page shares: language, dates and numbers, the stylesheet, compression."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import brotli

from trace_service.web.formatting import vn_datetime, vn_day, vn_number

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MISSING = "/01/08935012345678"  # a damaged label link: an HTML error page


def test_is_a_page_vietnamese_unless_the_browser_prefers_english(client):
    vi = client.get(MISSING, headers=BROWSER)
    assert '<html lang="vi">' in vi.get_data(as_text=True)
    assert "Accept-Language" in vi.headers["Vary"]
    en = client.get(MISSING, headers={**BROWSER, "Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in en.get_data(as_text=True)
    french = client.get(MISSING, headers={**BROWSER, "Accept-Language": "fr"})
    assert '<html lang="vi">' in french.get_data(as_text=True)


def test_is_the_visitors_language_switch_remembered(client):
    switched = client.get(f"{MISSING}?lang=en", headers=BROWSER)
    assert '<html lang="en">' in switched.get_data(as_text=True)
    cookie = switched.headers["Set-Cookie"]
    assert "lang=en" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    later = client.get(MISSING, headers={**BROWSER, "Accept-Language": "vi"})
    assert '<html lang="en">' in later.get_data(as_text=True)
    back = client.get(f"{MISSING}?lang=vi", headers=BROWSER)
    assert "English" in back.get_data(as_text=True)  # the switch offers the other language
    assert client.get(f"{MISSING}?lang=xx", headers=BROWSER).headers.get("Set-Cookie") is None


def test_is_the_language_switch_a_link_of_the_query_alone(client):
    """A crafted path (``/\\evil.example``: browsers read ``/\\`` as ``//``) never makes the
    switch a link to another site: the link holds the query only (the attacker's F5)."""
    for path in ("/%5Cevil.example", "/%5C%5Cevil.example/x", f"{MISSING}?S=AB&src=scan"):
        page = client.get(path, headers=BROWSER).get_data(as_text=True)
        links = re.findall(r'<a href="([^"]*)" hreflang="en"', page)
        assert links and all(link.startswith("?") for link in links), (path, links)
        assert "lang=en" in links[0]
    kept = client.get(f"{MISSING}?S=AB&lang=vi", headers=BROWSER).get_data(as_text=True)
    assert 'href="?S=AB&amp;lang=en"' in kept


def test_is_the_stylesheet_served_by_content_version_and_kept_a_year(client, app):
    page = client.get(MISSING, headers=BROWSER).get_data(as_text=True)
    href = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    assert href.startswith("/static/ocop.css?v=")
    css = client.get(href)
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "max-age=31536000" in css.headers["Cache-Control"]
    css.close()


def test_are_pages_compressed_for_browsers_that_accept_it(client):
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        css = client.get("/static/ocop.css", headers={"Accept-Encoding": encoding})
        assert css.headers["Content-Encoding"] == encoding
        assert b".verdict" in decode(css.get_data())
        css.close()
    plain = client.get("/static/ocop.css")
    assert "Content-Encoding" not in plain.headers
    plain.close()


def test_are_dates_times_and_numbers_written_as_in_vietnam():
    vn = timezone(timedelta(hours=7))
    recall = datetime(2026, 11, 6, 0, 30, tzinfo=vn)  # still 05/11 in UTC
    assert vn_day(recall.astimezone(UTC)) == "06/11/2026"
    assert vn_day(date(2026, 12, 3)) == "03/12/2026"
    assert vn_datetime(datetime(2026, 12, 3, 0, 30, tzinfo=UTC)) == "07:30 03/12/2026"
    assert vn_number(1234.5, 1) == "1.234,5"
    assert vn_number(Decimal("1234567")) == "1.234.567"


def test_a_static_file_asked_without_its_version_is_revalidated_not_kept_a_year(client):
    """JavaScript modules import each other by relative paths, without ?v=: a browser must
    ask again (cheaply, by ETag) or it would keep an old module for a year."""
    module = client.get("/static/verify/label.js")
    assert module.status_code == 200 and module.mimetype == "text/javascript"
    assert "max-age=0" in module.headers["Cache-Control"] and module.headers["ETag"]
    again = client.get("/static/verify/label.js", headers={"If-None-Match": module.headers["ETag"]})
    assert again.status_code == 304
    wasm = client.get("/static/vendor/zxing-wasm/reader/zxing_reader.wasm?v=1")
    assert (
        wasm.mimetype == "application/wasm" and "max-age=31536000" in wasm.headers["Cache-Control"]
    )
    assert (
        client.get(
            "/static/vendor/zxing-wasm/reader/zxing_reader.wasm?v=1",
            headers={"Accept-Encoding": "br"},
        ).headers["Content-Encoding"]
        == "br"
    )
