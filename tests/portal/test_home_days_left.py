"""The producer's home counts days left only for a certificate in force: none for a revoked
one, whatever its printed end date (review user1, F9)."""

from __future__ import annotations

import re

from tests.portal.conftest import BROWSER, sign_in
from trace_service.certificates.services import revoke_certificate
from trace_service.clock import today_vn
from trace_service.principal import system_principal


def _days_left(client) -> list[str]:
    html = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    return re.findall(r"còn [\d.]+ ngày", html)


def test_a_revoked_certificate_shows_no_days_left(client, certified, db_session):
    sign_in(client, certified.user.username)
    assert len(_days_left(client)) == 1  # in force: counted
    revoke_certificate(
        db_session,
        system_principal("test"),
        certified.certificate,
        {"revoked_on": today_vn(), "decision": "9/QĐ-UBND", "reason": "Gian lận"},
        today_vn(),
    )
    db_session.flush()
    html = client.get("/chu-the/", headers=BROWSER).get_data(as_text=True)
    assert "Đã bị thu hồi" in html and certified.certificate.number in html
    assert _days_left(client) == []
