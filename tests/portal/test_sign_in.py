"""Signing in to the portal: a session cookie, CSRF on every form, the API's throttle,
sessions that end with the password."""

from __future__ import annotations

from sqlalchemy import select

from tests.portal.conftest import BROWSER, PASSWORD, csrf_of, sign_in
from trace_service.audit.models import AuditEvent


def test_does_a_producer_sign_in_and_land_on_their_home(client, producer_user):
    answer = sign_in(client, producer_user.username)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/chu-the/")
    cookie = answer.headers["Set-Cookie"]
    assert "ocop_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here
    home = client.get("/chu-the/", headers=BROWSER)
    assert home.status_code == 200 and "Đăng xuất" in home.get_data(as_text=True)


def test_is_the_office_sent_to_its_own_home_and_back_where_it_was_going(client, office_user):
    first = client.get("/van-phong/", headers=BROWSER)
    assert first.status_code == 302 and "/dang-nhap?next=/van-phong/" in first.headers["Location"]
    page = client.get(first.headers["Location"], headers=BROWSER)
    token = csrf_of(page.get_data(as_text=True))
    answer = client.post(
        first.headers["Location"],
        data={"csrf_token": token, "username": office_user.username, "password": PASSWORD},
        headers=BROWSER,
    )
    assert answer.headers["Location"].endswith("/van-phong/")


def test_is_a_next_page_on_another_host_ignored(client, office_user):
    page = client.get("/dang-nhap?next=//evil.example/x", headers=BROWSER)
    token = csrf_of(page.get_data(as_text=True))
    answer = client.post(
        "/dang-nhap?next=//evil.example/x",
        data={"csrf_token": token, "username": office_user.username, "password": PASSWORD},
        headers=BROWSER,
    )
    assert answer.headers["Location"].endswith("/van-phong/")


def test_does_a_wrong_password_show_beside_the_field_and_keep_the_username(
    client, producer_user, db_session
):
    answer = sign_in(client, producer_user.username, "not the password")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200  # the form again, with the message beside the field
    assert "Sai tên đăng nhập hoặc mật khẩu." in html and 'id="password-error"' in html
    assert f'value="{producer_user.username}"' in html
    failed = db_session.scalars(
        select(AuditEvent).where(AuditEvent.tag == "auth:sign_in:failed")
    ).all()
    assert failed and PASSWORD not in str(failed[-1].details)


def test_is_the_portal_throttled_like_the_api(client, producer_user):
    for _ in range(10):
        assert "Sai tên" in sign_in(client, producer_user.username, "wrong pw!").get_data(True)
    held = sign_in(client, producer_user.username)  # even the right password waits
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert "Đăng xuất" not in held.get_data(as_text=True)


def test_is_a_form_posted_without_its_csrf_token_refused(client, producer_user):
    answer = client.post(
        "/dang-nhap",
        data={"username": producer_user.username, "password": PASSWORD},
        headers=BROWSER,
    )
    assert answer.status_code == 400
    assert "Biểu mẫu đã hết hạn" in answer.get_data(as_text=True)
    sign_in(client, producer_user.username)
    out = client.post("/dang-xuat", data={}, headers=BROWSER)  # a forged sign-out
    assert out.status_code == 400
    assert client.get("/chu-the/", headers=BROWSER).status_code == 200


def test_does_signing_out_end_the_session(client, producer_user):
    sign_in(client, producer_user.username)
    home = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    out = client.post("/dang-xuat", data={"csrf_token": csrf_of(home)}, headers=BROWSER)
    assert out.status_code == 302
    assert client.get("/chu-the/", headers=BROWSER).status_code == 302


def test_does_a_new_password_end_every_other_session(app, client, producer_user):
    other = app.test_client()
    sign_in(other, producer_user.username)
    sign_in(client, producer_user.username)
    page = client.get("/tai-khoan/mat-khau", headers=BROWSER).get_data(as_text=True)
    new = "một mật khẩu mới, dài"
    changed = client.post(
        "/tai-khoan/mat-khau",
        data={"csrf_token": csrf_of(page), "current": PASSWORD, "new": new, "confirm": new},
        headers=BROWSER,
    )
    assert changed.status_code == 200 and "Đã đổi mật khẩu" in changed.get_data(as_text=True)
    assert client.get("/chu-the/", headers=BROWSER).status_code == 200  # this browser stays
    assert other.get("/chu-the/", headers=BROWSER).status_code == 302  # the other is out
    assert sign_in(app.test_client(), producer_user.username, new).status_code == 302


def test_is_a_weak_new_password_refused_beside_its_field(client, producer_user):
    sign_in(client, producer_user.username)
    page = client.get("/tai-khoan/mat-khau", headers=BROWSER).get_data(as_text=True)
    refused = client.post(
        "/tai-khoan/mat-khau",
        data={"csrf_token": csrf_of(page), "current": PASSWORD, "new": "short", "confirm": "short"},
        headers=BROWSER,
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'id="new-error"' in html and "10 ký tự" in html


def test_does_a_disabled_account_lose_its_session(client, producer_user, db_session):
    sign_in(client, producer_user.username)
    producer_user.is_active = False
    db_session.flush()
    assert client.get("/chu-the/", headers=BROWSER).status_code == 302


def test_does_a_producer_get_403_on_office_pages(client, producer_user):
    sign_in(client, producer_user.username)
    assert client.get("/van-phong/", headers=BROWSER).status_code == 403


def test_is_the_session_cookie_secure_over_https(app, producer_user):
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    page = client.get("/dang-nhap", headers=BROWSER, **https)
    answer = client.post(
        "/dang-nhap",
        data={
            "csrf_token": csrf_of(page.get_data(as_text=True)),
            "username": producer_user.username,
            "password": PASSWORD,
        },
        # Over https Flask-WTF also wants the form to come from this site's own page.
        headers={**BROWSER, "Referer": "https://localhost/dang-nhap"},
        **https,
    )
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]
