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
from tests.conftest import Account
from tests.databases import fresh_database
from tests.labels.conftest import pack
from trace_service import create_app
from trace_service.auth.passwords import hash_password
from trace_service.auth.services import issue_token
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope, utcnow
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.registry.models import Product
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
                "LABEL_BASE_URL": "https://tem.ocop.example.vn",
                "LABEL_FILES_DIR": str(tmp / "runs"),
                "LABEL_BUILD": "inline",
                "OFFLINE_SNAPSHOT_DIR": str(tmp / "offline"),
                "REDIS_URL": "",
                "SECRET_KEY": "test secret key, long enough",
            }
        )
        init_keys(app)
        stamp = _stamp(app)
        with app.app_context(), session_scope(app) as session:
            factories.bind(session)
            office = factories.UserFactory(role=Role.ADMIN, password_hash=hash_password(PASSWORD))
            inspector = factories.UserFactory(role=Role.INSPECTOR, display_name="Lê Thị Hoa")
            product = session.get(Product, stamp["product_id"])
            cert = session.get(Certificate, stamp["cert_id"])

            def proposed(client_id, proposal, notes, **more):
                found = FieldInspection(
                    client_id=client_id,
                    inspector_id=inspector.id,
                    product_id=product.id,
                    checked_at=utcnow(),
                    place="Chợ Gia Nghĩa",
                    result=InspectionResult.FAILED,
                    notes=notes,
                    proposal=proposal,
                    **more,
                )
                session.add(found)
                session.flush()
                return found.id

            revoke = proposed(
                "office-revoke-01", Proposal.REVOCATION, "Nhãn sai <script>x</script>"
            )
            recall = proposed(
                "office-recall-01",
                Proposal.RECALL,
                "Không rõ lô",
                serial=stamp["serial"],
                lot_id=stamp["lot_id"],
                verdict="genuine",
                service_verdict="voided",  # the device's data was older than the void
            )
            doubtful = proposed("office-doubt-01", None, "Nhãn mờ", verdict="invalid_signature")
            session.get(FieldInspection, doubtful).result = InspectionResult.DOUBTFUL
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
                "doubtful": doubtful,
                "cert_number": cert.number,
                **stamp,
                "device": device.id,
            }
        with live_server(app) as base:
            yield base, names, app
        get_db(app).engine.dispose()


def _stamp(app):
    """A real stamp of a packed lot, through the API as a producer orders it."""
    with app.app_context(), session_scope(app) as session:
        factories.bind(session)
        producer = factories.ProducerFactory(name="Hợp tác xã Mật ong Đắk Mil")
        user = factories.UserFactory(role=Role.PRODUCER, producer_id=producer.id)
        token = issue_token(session, system_principal("test"), user, "test", ttl_days=30).token
        area = factories.AreaFactory(producer=producer, name="Vườn cà phê Đắk Mil 1")
        product = factories.ProductFactory(
            producer=producer, name_vi="Mật ong hoa cà phê <b>Đắk Mil</b>"
        )
        cert = factories.CertificateFactory(
            product=product, issue_date=today_vn() - timedelta(days=100)
        )
        account, ids = Account(user=user, token=token), (product.id, cert.id, area.id)
    client = app.test_client()
    product, area = type("P", (), {"id": ids[0]}), type("A", (), {"id": ids[2]})
    _, lot_id = pack(client, account, product, area, bags=10, code="MO2601-A", harvest_code="H1")
    run = client.post(
        "/api/v1/print-runs",
        headers=account.headers,
        json={"product_id": ids[0], "lot_id": lot_id, "quantity": 1},
    )
    assert run.status_code == 202, run.json
    items = client.get(f"/api/v1/print-runs/{run.json['id']}/labels", headers=account.headers)
    label = items.json["items"][0]
    return {
        "product_id": ids[0],
        "cert_id": ids[1],
        "lot_id": lot_id,
        "serial": label["serial"],
        "code": label["code"],
        "url": label["url"],
    }


def _proposals_name_what_they_are_about(page, names):
    """A proposal's card says which product, lot, producer, certificate, inspector and stamp
    it is about, with the verdict in words, not its code (a new user's review)."""
    card = page.locator(f"#bien-ban-{names['recall']}").inner_text()
    assert "Mật ong hoa cà phê <b>Đắk Mil</b>" in card
    assert "Hợp tác xã Mật ong Đắk Mil" in card
    assert "MO2601-A" in card and names["cert_number"] in card
    assert "Lê Thị Hoa" in card
    assert names["code"] in card and names["serial"] not in card  # grouped as printed
    assert "Tem chính hãng" in card and "genuine" not in card
    assert "Tem, theo hệ thống (ngày kiểm tra)\nTem đã hủy" in card and "voided" not in card
    link = page.locator(f"#bien-ban-{names['recall']}").get_by_role("link", name="Mở trang của tem")
    assert link.get_attribute("href") == names["url"]
    revoke = page.locator(f"#bien-ban-{names['revoke']}").inner_text()
    assert names["cert_number"] in revoke and "Hợp tác xã Mật ong Đắk Mil" in revoke
    main = page.locator("main").inner_text()
    assert "Nghi vấn, cần xem thêm" in main and "Không xác nhận được tem này" in main
    assert "invalid_signature" not in main
    page.goto(page.url + "?lang=en")
    main = page.locator("main").inner_text()
    assert "Genuine OCOP stamp" in main and "Doubtful, to look into" in main
    assert "genuine ·" not in main and "This stamp could not be confirmed" in main
    assert "Stamp, as the service judged it (on the day)\nStamp voided" in main
    page.goto(page.url.split("?")[0] + "?lang=vi")


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
        _proposals_name_what_they_are_about(page, names)
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
        # a review step first, as revoking from the certificate's page has: nothing yet
        review = page.locator(f"#bien-ban-{names['revoke']}")
        assert "Kiểm tra trước khi thu hồi giấy chứng nhận" in review.inner_text()
        assert _record(app, Certificate, names["cert"]).revoked_on is None
        assert serious_accessibility_problems(page) == []
        review.get_by_role("button", name=f"Thu hồi giấy chứng nhận {names['cert_number']}").click()
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
        assert "Lê Thị Hoa" in row.inner_text() and "Đang dùng" in row.inner_text()
        # revoking is a second step, behind a secondary first one (a new user's review)
        confirm = row.get_by_role("button", name="Xác nhận thu hồi")
        assert confirm.is_hidden()
        row.get_by_text("Thu hồi…").click()
        assert "danger" in (confirm.get_attribute("class") or "")
        assert _record(app, InspectorDevice, names["device"]).revoked_at is None
        confirm.click()
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
