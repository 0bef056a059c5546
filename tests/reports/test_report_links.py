"""Every stamp's page offers a way to report: a small link on a green page, the form itself
under any other verdict, with the hotline when one is set."""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import parse_qs, urlsplit

from tests.reports.test_reports import _label


def _page(client, label, tamper: bool = False) -> str:
    parts = urlsplit(label["url"])
    query = parts.query.replace("S=", "S=A") if tamper else parts.query
    return client.get(f"{parts.path}?{query}").get_data(as_text=True)


def test_a_green_page_has_a_small_link_to_report_a_suspected_fake(client, app, packed, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE", "0263 3822 000")
    label = _label(client, packed)
    green = _page(client, label)
    assert 'class="verdict v-green"' in green and 'action="/bao-cao"' not in green
    link = re.search(r'<a href="([^"]+)">Báo cáo sản phẩm nghi giả</a>', green)
    assert link is not None
    target = urlsplit(htmllib.unescape(link.group(1)))
    assert target.path == "/bao-cao" and parse_qs(target.query)["verdict"] == ["genuine"]
    form = client.get(htmllib.unescape(link.group(1))).get_data(as_text=True)
    assert f'name="code" value="{label["code"]}"' in form and 'href="tel:02633822000"' in form


def test_a_red_page_has_the_form_itself_under_its_verdict(client, app, packed, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE", "0263 3822 000")
    red = _page(client, _label(client, packed), tamper=True)
    assert "v-red" in red and "Báo cáo sản phẩm nghi giả" not in red
    assert red.index('class="verdict v-red"') < red.index('action="/bao-cao"')
    assert 'href="tel:02633822000"' in red
