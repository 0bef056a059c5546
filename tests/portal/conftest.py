"""Signing in through the portal's own form, as a browser does (with its CSRF token)."""

from __future__ import annotations

import re

import pytest

from tests import factories
from trace_service.auth.passwords import hash_password
from trace_service.principal import Role

PASSWORD = "một mật khẩu dài đủ 10"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    page = client.get("/dang-nhap", headers=BROWSER)
    form = {"csrf_token": csrf_of(page.get_data(as_text=True)), "username": username}
    return client.post("/dang-nhap", data={**form, "password": password}, headers=BROWSER, **extra)


@pytest.fixture
def producer_user(db_session):
    producer = factories.ProducerFactory()
    return factories.UserFactory(
        role=Role.PRODUCER, producer_id=producer.id, password_hash=hash_password(PASSWORD)
    )


@pytest.fixture
def office_user(db_session):
    return factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
