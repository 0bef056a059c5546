"""An error inside the signed-in portal keeps the portal's layout: the office's 404 for a
product that is not there shows the office's navigation and "Đăng xuất", a producer's its
own home link, and nobody signed in still gets the public page."""

from __future__ import annotations

from tests.portal.conftest import BROWSER, sign_in


def test_does_an_office_404_keep_the_office_layout(client, office_user):
    sign_in(client, office_user.username)
    for path in ("/van-phong/san-pham/999999", "/van-phong/khong-co-trang-nay"):
        answer = client.get(path, headers=BROWSER)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 404, path
        assert "Đăng xuất" in html and 'href="/van-phong/ke-hoach"' in html, path
        assert 'href="/van-phong/"' in html and "Về trang kiểm tra tem OCOP" not in html


def test_does_a_producer_404_keep_the_producer_layout(client, producer_user):
    sign_in(client, producer_user.username)
    answer = client.get("/chu-the/dot-in/999999", headers=BROWSER)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "Đăng xuất" in html and "Trang chủ thể" in html and 'href="/chu-the/"' in html
    assert "/van-phong/ke-hoach" not in html  # never the office's navigation
    refused = client.get("/van-phong/ke-hoach", headers=BROWSER)  # the office's page: 403
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "Đăng xuất" in html and 'href="/chu-the/"' in html
    assert 'href="/van-phong/ke-hoach"' not in html


def test_does_the_public_still_get_the_public_error_page(client, office_user):
    answer = client.get("/van-phong/khong-co-trang-nay", headers=BROWSER)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404 and "Đăng xuất" not in html
    sign_in(client, office_user.username)
    public = client.get("/khong-co-trang-nay", headers=BROWSER)  # outside the portal
    assert public.status_code == 404 and "Về trang kiểm tra tem OCOP" in public.get_data(True)
