"""Behind the documented proxy setting (OCOP_TRUSTED_PROXIES, the proxy setting
X-Forwarded-Proto), a request that came over HTTPS gets HSTS and cookies marked Secure;
over plain HTTP, or with the header from a client no proxy vouches for, neither."""

from __future__ import annotations

from pathlib import Path

from tests.ops.conftest import make_app

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def _cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_https_behind_the_trusted_proxy(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    page = client.get("/dang-nhap?lang=en", headers=HTTPS)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookies = _cookies(page)
    assert any(c.startswith("ocop_session=") for c in cookies), cookies
    assert any(c.startswith("lang=") for c in cookies), cookies
    assert all("; Secure" in c for c in cookies), cookies
    assert "Strict-Transport-Security" in client.get("/healthz", headers=HTTPS).headers

    plain = app.test_client().get("/dang-nhap?lang=en")
    assert "Strict-Transport-Security" not in plain.headers
    assert _cookies(plain) and not any("; Secure" in c for c in _cookies(plain))


def test_a_client_cannot_claim_https_without_a_trusted_proxy(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)  # TRUSTED_PROXIES=0
    page = app.test_client().get("/dang-nhap?lang=en", headers=HTTPS)
    assert "Strict-Transport-Security" not in page.headers
    assert not any("; Secure" in c for c in _cookies(page))
