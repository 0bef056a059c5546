"""A request addressed to a host the service does not answer to is refused before any URL
is built from it: the resolver's links, the linkset and the typed lookup's redirect can
never name a host a client chose (OCOP_TRUSTED_HOSTS)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.labels.test_scans import _labels
from trace_service.config import trusted_hosts
from trace_service.labels import serials

EVIL = "evil.example"


def _paths(label):
    parts = urlsplit(label["url"])
    return [
        f"{parts.path}?{parts.query}&linkType=all",
        "/.well-known/gs1resolver",
        f"/?ma={serials.grouped(label['serial'])}",
        f"{parts.path}?{parts.query}",
    ]


def test_a_hostile_host_header_is_refused_everywhere_links_are_built(client, packed):
    _, (label,) = _labels(client, packed, quantity=1)
    for path in _paths(label):
        for headers in ({"Host": EVIL}, {"Host": f"{EVIL}:443"}):
            answer = client.get(path, headers={**headers, "Accept": "application/json"})
            assert answer.status_code == 400, path
            assert answer.json["code"] == "untrusted_host" and answer.json["message"]
            assert EVIL not in answer.get_data(as_text=True)
            assert EVIL not in answer.headers.get("Location", "")
    page = client.get("/", headers={"Host": EVIL, "Accept": "text/html"})
    assert page.status_code == 400 and "Host" in page.get_data(as_text=True)


def test_the_label_host_and_this_machine_are_answered(client, packed):
    _, (label,) = _labels(client, packed, quantity=1)
    linkset = _paths(label)[0]
    for host in ("tem.ocop.example.vn", "localhost", "127.0.0.1:8000"):
        answer = client.get(linkset, headers={"Host": host})
        assert answer.status_code == 200, host
        pip = answer.json["linkset"][0]["https://gs1.org/voc/pip"][0]["href"]
        assert pip.startswith(f"http://{host}/")  # built from the host that was answered
    typed = client.get(f"/?ma={label['serial'].lower()}", headers={"Host": "tem.ocop.example.vn"})
    assert typed.status_code == 303 and EVIL not in typed.headers["Location"]


@pytest.mark.parametrize(
    "values, expected",
    [
        (
            {"LABEL_BASE_URL": "https://tem.ocop.vn", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"},
            ["localhost", "127.0.0.1", "tem.ocop.vn"],
        ),
        ({"TRUSTED_HOSTS": "ocop.vn, .ocop.vn"}, ["ocop.vn", ".ocop.vn"]),
        ({"TRUSTED_HOSTS": "*"}, None),
    ],
)
def test_the_setting_and_its_default(values, expected):
    assert trusted_hosts(values) == expected


def test_a_host_setting_with_a_scheme_is_refused_at_start(monkeypatch):
    from trace_service.config import ConfigError, load_settings

    monkeypatch.setenv("OCOP_TRUSTED_HOSTS", "https://tem.ocop.vn")
    with pytest.raises(ConfigError, match="OCOP_TRUSTED_HOSTS"):
        load_settings()
