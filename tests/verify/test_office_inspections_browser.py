"""The office in a real browser: accepts a failed check's revocation proposal with its
decision number and reason (the certificate is revoked), rejects a recall proposal only with
a reason, revokes an inspector's device; the inspectors' page offers "Thêm vào màn hình
chính" only when the browser offers to install it. One browser for the module."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser import chromium, live_server, screenshot, serious_accessibility_problems
from tests.databases import fresh_database
from trace_service import create_app
from trace_service.auth.passwords import hash_password
from trace_service.auth.services import issue_token
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope, utcnow
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.signing.service import init_keys
from trace_service.verify.models import (
    Decision,
    FieldInspection,
    InspectionResult,
    InspectorDevice,
    Proposal,
)

pytestmark = pytest.mark.browser
PASSWORD = "mật khẩu văn phòng 2026"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("office-inspections")
    with fresh_database("sqlite", tmp) as url:
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "KEYS_DIR": str(tmp / "keys"),
                "KEYS_PASSPHRASE": "test passphrase, long enough to be a real one",
                "OFFLINE_SNAPSHOT_DIR": str(tmp / "offline"),
                "REDIS_URL": "",
                "SECRET_KEY": "test secret key, long enough",
            }
        )
        init_keys(app)
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            office = factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
            inspector = factories.UserFactory(role=Role.INSPECTOR, display_name="Lê Thị Hoa")
            product = factories.ProductFactory(name_vi="Mật ong hoa cà phê <b>Đắk Mil</b>")
            cert = factories.CertificateFactory(
                product=product, issue_date=today_vn() - timedelta(days=100)
            )

            def proposed(client_id, proposal, notes):
                found = FieldInspection(
                    client_id=client_id,
                    inspector_id=inspector.id,
                    product_id=product.id,
                    checked_at=utcnow(),
                    place="Chợ Gia Nghĩa",
                    result=InspectionResult.FAILED,
                    notes=notes,
                    proposal=proposal,
                )
                session.add(found)
                session.flush()
                return found.id

            revoke = proposed(
                "office-revoke-01", Proposal.REVOCATION, "Nhãn sai <script>x</script>"
            )
            recall = proposed("office-recall-01", Proposal.RECALL, "Không rõ lô")
            token = issue_token(session, system_principal("test"), inspector, "Điện thoại Hoa", 30)
            device = InspectorDevice(
                user_id=inspector.id, token_id=token.record.id, name="Điện thoại Hoa"
            )
            session.add(device)
            session.flush()
            names = {
                "office": office.username,
                "cert": cert.id,
                "revoke": revoke,
                "recall": recall,
                "device": device.id,
            }
        with live_server(app) as base:
            yield base, names, app
        get_db(app).engine.dispose()


def _record(app, model, record_id):
    with app.app_context(), session_scope(app) as session:
        found = session.scalar(select(model).where(model.id == record_id))
        session.expunge(found)
        return found


def test_the_office_decides_proposals_with_reasons_and_revokes_a_device(served):
    base, names, app = served
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
        elsewhere: list[str] = []
        page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
        page.goto(f"{base}/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(names["office"])
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{base}/van-phong/", wait_until="load")
        page.get_by_text("Trình đơn").click()  # the office's menu is folded on a phone
        page.get_by_role("link", name="Kiểm tra thị trường").click()
        page.wait_for_load_state()
        assert "<script>x</script>" in page.locator("main").inner_text()  # shown, escaped
        assert serious_accessibility_problems(page) == []
        screenshot(page, "office-inspections-390x844")
        waiting = page.locator(f"#bien-ban-{names['revoke']}")
        # accepting needs the decision's number; nothing is revoked without it
        waiting.get_by_label("Lý do").fill("Nhãn ghi sai hạng sao")
        waiting.get_by_role("button", name="Chấp nhận và thu hồi giấy chứng nhận").click()
        page.wait_for_load_state()
        assert "Cần số quyết định" in page.locator(f"#bien-ban-{names['revoke']}").inner_text()
        assert _record(app, Certificate, names["cert"]).revoked_on is None
        waiting = page.locator(f"#bien-ban-{names['revoke']}")
        waiting.get_by_label("Lý do").fill("Nhãn ghi sai hạng sao")
        waiting.get_by_label("Số quyết định").fill("21/QĐ-VPĐP")
        waiting.get_by_role("button", name="Chấp nhận và thu hồi giấy chứng nhận").click()
        page.wait_for_load_state()
        cert = _record(app, Certificate, names["cert"])
        assert cert.revoked_on == today_vn() and cert.revocation_decision == "21/QĐ-VPĐP"
        assert cert.revocation_reason == "Nhãn ghi sai hạng sao"
        # rejecting needs a reason too
        other = page.locator(f"#bien-ban-{names['recall']}")
        other.get_by_role("button", name="Từ chối đề xuất").click()
        page.wait_for_load_state()
        assert "Hãy điền mục này" in page.locator(f"#bien-ban-{names['recall']}").inner_text()
        other = page.locator(f"#bien-ban-{names['recall']}")
        other.get_by_label("Lý do").fill("Không xác định được lô hàng")
        other.get_by_role("button", name="Từ chối đề xuất").click()
        page.wait_for_load_state()
        rejected = _record(app, FieldInspection, names["recall"])
        assert rejected.decision is Decision.REJECTED
        assert rejected.decision_reason == "Không xác định được lô hàng"
        assert "Không có đề xuất nào đang chờ" in page.locator("main").inner_text()
        # the devices
        page.get_by_text("Trình đơn").click()
        page.get_by_role("link", name="Thiết bị kiểm tra").click()
        page.wait_for_load_state()
        assert serious_accessibility_problems(page) == []
        screenshot(page, "office-devices-390x844")
        row = page.locator(f"#thiet-bi-{names['device']}")
        assert "Lê Thị Hoa" in row.inner_text()
        row.get_by_role("button", name="Thu hồi").click()
        page.wait_for_load_state()
        assert "Đã thu hồi" in page.locator(f"#thiet-bi-{names['device']}").inner_text()
        assert _record(app, InspectorDevice, names["device"]).revoked_at is not None
        assert elsewhere == []

        # The inspectors' page: the hint only once the browser offers to install.
        page.goto(f"{base}/kiem-tra-vien/")
        hint = page.locator("#install")
        assert hint.is_hidden()
        page.evaluate(
            """() => {
              const offer = new Event("beforeinstallprompt", { cancelable: true });
              offer.prompt = () => { window.promptedToInstall = true; return Promise.resolve(); };
              window.dispatchEvent(offer);
            }"""
        )
        assert hint.is_visible()
        button = hint.get_by_role("button", name="Thêm vào màn hình chính")
        button.click()
        assert page.evaluate("window.promptedToInstall") is True
        assert hint.is_hidden()
