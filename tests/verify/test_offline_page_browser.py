"""The inspectors' offline page in headless Chromium: installable, then, with the server
stopped (no network at all, service worker and kept data only), the right verdict for a
genuine stamp from pasted text, from a photo and from the camera, a tampered one, one signed
by a compromised key, one whose certificate expired after the snapshot, and amber for old
data or a clock earlier than the data."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from tests import factories
from tests.browser import CHROMIUM, CHROMIUM_ARGS, screenshot, serious_accessibility_problems
from tests.conftest import Account
from tests.databases import fresh_database
from tests.labels.conftest import pack
from trace_service import create_app
from trace_service.auth.passwords import hash_password
from trace_service.auth.services import issue_token
from trace_service.clock import today_vn
from trace_service.db import get_db, session_scope
from trace_service.labels.qrbatch import encode
from trace_service.labels.render.qr_image import qr_png
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.signing.service import get_keystore, init_keys, publish_trust_list
from trace_service.verify.models import FieldInspection, InspectorDevice

pytestmark = pytest.mark.browser
PAGE = "/kiem-tra-vien/"
INSPECTOR, PASSWORD = "kiemtra.gianghia", "mật khẩu đủ dài 2026"


@dataclass
class Stamps:
    genuine: str
    compromised: str
    expiring: str  # its certificate's last valid day is tomorrow


def _app(tmp: Path, database_url: str) -> Any:
    return create_app(
        {
            "DATABASE_URL": database_url,
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


def _seed(app: Any) -> tuple[Account, list[tuple[int, Any]]]:
    with app.app_context(), session_scope(app) as session:
        factories.bind(session)
        producer = factories.ProducerFactory(name="Hợp tác xã Nông nghiệp Dịch vụ Thuận An")
        user = factories.UserFactory(role=Role.PRODUCER, producer_id=producer.id)
        factories.UserFactory(
            username=INSPECTOR, role=Role.INSPECTOR, password_hash=hash_password(PASSWORD)
        )
        token = issue_token(session, system_principal("test"), user, "test", ttl_days=30).token
        area = factories.AreaFactory(producer=producer, name="Vườn cà phê Thuận An 1")
        coffee = factories.ProductFactory(producer=producer, name_vi="Cà phê bột Robusta Đắk Mil")
        honey = factories.ProductFactory(producer=producer, name_vi="Mật ong hoa cà phê")
        factories.CertificateFactory(product=coffee, issue_date=today_vn() - timedelta(days=200))
        factories.CertificateFactory(
            product=honey,
            issue_date=today_vn() - timedelta(days=1000),
            valid_until=today_vn() + timedelta(days=1),
        )
        return Account(user=user, token=token), [(coffee.id, area), (honey.id, area)]


def _label(client: Any, account: Account, product_id: int, lot_id: int) -> str:
    run = client.post(
        "/api/v1/print-runs",
        headers=account.headers,
        json={"product_id": product_id, "lot_id": lot_id, "quantity": 1},
    )
    assert run.status_code == 202, run.json
    items = client.get(f"/api/v1/print-runs/{run.json['id']}/labels", headers=account.headers)
    return str(items.json["items"][0]["url"])


def _stamps(app: Any) -> Stamps:
    init_keys(app)
    account, products = _seed(app)
    client = app.test_client()
    lots = []
    for i, (product_id, area) in enumerate(products):
        product = type("P", (), {"id": product_id})
        _, bags = pack(client, account, product, area, bags=10, code=f"L{i}", harvest_code=f"H{i}")
        lots.append((product_id, bags))
    store = get_keystore(app)
    lost = _label(client, account, *lots[0])
    lost_kid = store.active_signing_key().kid
    store.rotate()
    store.mark_compromised(lost_kid)
    stamps = Stamps(_label(client, account, *lots[0]), lost, _label(client, account, *lots[1]))
    publish_trust_list(store)
    return stamps


def _camera_video(path: Path, text: str) -> Path:
    """A few seconds of a camera filming the stamp's QR code, as Chromium's fake camera reads
    it (YUV4MPEG2, 4:2:0, grey: the QR drawn as we print it, on white)."""
    from PIL import Image

    width, height = 800, 600
    code = Image.open(io.BytesIO(qr_png(encode(text)))).convert("L").resize((560, 560))
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - 560) // 2, (height - 560) // 2))
    chroma = bytes([128]) * (width * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(20):
            out.write(b"FRAME\n" + frame.tobytes() + chroma)
    return path


@contextmanager
def _phone(profile: Path, video: Path) -> Iterator[Any]:
    """A browser with a profile on disk, as a phone's is (Chromium offers to install no page
    in an incognito context, what ``new_context`` makes), and a camera filming ``video``."""
    if not shutil.which(CHROMIUM):
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
            permissions=["camera"],
            viewport={"width": 360, "height": 640},
            locale="vi-VN",
        )
        try:
            yield context
        finally:
            context.close()


def _check(page: Any, text: str) -> dict[str, Any]:
    page.fill("#scanned", text)
    page.get_by_role("button", name="Kiểm tra tem").click()
    return _verdict(page)


def _verdict(page: Any, keep: str | None = None) -> dict[str, Any]:
    """The verdict shown, then cleared (``keep``: a screenshot's name, taken before)."""
    verdict = page.wait_for_selector("#result .verdict")
    shown = {
        "verdict": verdict.get_attribute("data-verdict"),
        "colour": verdict.get_attribute("data-colour"),
        "text": verdict.inner_text(),
    }
    opener = page.query_selector("#result summary")  # "Chi tiết cho kiểm tra viên"
    shown["opener_px"] = opener.bounding_box()["height"] if opener else 0
    if keep:
        screenshot(page, keep)
        assert serious_accessibility_problems(page) == []
    page.evaluate("document.getElementById('result').replaceChildren()")
    return shown


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#app[data-ready=yes]", timeout=20_000)


class _Server:
    """The app on a real socket, stopped and started again on the same port (the page's
    origin, which its service worker and kept data belong to)."""

    def __init__(self, app: Any) -> None:
        self.app, self.port, self.server, self.thread = app, 0, None, None

    def start(self) -> str:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)  # type: ignore[union-attr]
            self.server = None


def test_an_inspector_installs_the_page_goes_offline_and_checks_stamps(tmp_path):
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)
        app = _app(tmp_path, url)
        stamps = _stamps(app)
        server = _Server(app)
        base = server.start()
        try:
            video = _camera_video(tmp_path / "camera.y4m", stamps.genuine)
            with _phone(tmp_path / "profile", video) as context:
                page = context.pages[0] if context.pages else context.new_page()
                problems: list[str] = []
                page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
                page.on("console", lambda m: m.type == "error" and problems.append(m.text))
                elsewhere: list[str] = []
                page.on("request", lambda r: r.url.startswith(base) or elsewhere.append(r.url))
                _online(page, context, base)
                server.stop()
                _offline(page, base, stamps)
                server.start()
                _sent_once(page, app, base)
                assert elsewhere == []
                assert [p for p in problems if "Failed to load resource" not in p] == []
        finally:
            server.stop()
            get_db(app).engine.dispose()


def _online(page: Any, context: Any, base: str) -> None:
    _open(page, f"{base}{PAGE}")
    assert page.get_attribute("#app", "data-snapshot-version") == "1"
    assert "Đã cập nhật dữ liệu" in page.inner_text("#data-status")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    page.fill("#username", INSPECTOR)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập thiết bị").click()
    page.wait_for_selector("#device-signout", state="visible")
    assert INSPECTOR in page.inner_text("#queue-status")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "kiem-tra-vien-online-360x640")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert serious_accessibility_problems(page) == []
    screenshot(page, "kiem-tra-vien-online-1280x800")
    page.set_viewport_size({"width": 360, "height": 640})


def _offline(page: Any, base: str, stamps: Stamps) -> None:
    _open(page, f"{base}{PAGE}")  # from the service worker: the server is gone
    assert "Không có mạng" in page.inner_text("#data-status")
    genuine = _check(page, stamps.genuine)
    assert (genuine["verdict"], genuine["colour"]) == ("genuine", "green")
    assert "Tem chính hãng" in genuine["text"] and "Dữ liệu lúc" in genuine["text"]
    assert "Genuine" not in genuine["text"]  # one language, the page's
    assert genuine["opener_px"] >= 44  # review user16: a 24 px line opened the details
    # The code printed under the QR, typed as a new user would: no signature is in it, and
    # the page says so (amber) instead of calling a genuine stamp fake (a new user's review).
    serial = stamps.genuine.split("?")[0].rsplit("/", 1)[1]
    printed = _check(page, f"{serial[:5]}-{serial[5:10]}-{serial[10:]}".lower())
    assert (printed["verdict"], printed["colour"]) == ("printed_code", "amber")
    assert "mã in dưới mã QR" in printed["text"]
    _record_inspection(page)
    head, data = stamps.genuine.split("?S=")
    # A link a consumer shared from a social network reads as the label page reads it.
    shared = _check(page, f"{head}?utm_source=zalo&S={data}&fbclid=IwAR0x#_=_")
    assert (shared["verdict"], shared["colour"]) == ("genuine", "green")
    twice = _check(page, f"{stamps.genuine}&fbclid=IwAR0x&S={data}")
    assert (twice["verdict"], twice["colour"]) == ("malformed", "red")
    tampered = _check(page, f"{head}?S={data[:-1]}{(int(data[-1]) + 1) % 10}")
    assert tampered["colour"] == "red" and tampered["verdict"] != "genuine"
    lost = _check(page, stamps.compromised)
    assert (lost["verdict"], lost["colour"]) == ("compromised_key", "red")
    assert _check(page, stamps.expiring)["colour"] == "green"  # expires tomorrow
    page.set_input_files(
        "#photo",
        files=[
            {"name": "tem.png", "mimeType": "image/png", "buffer": qr_png(encode(stamps.genuine))}
        ],
    )
    from_photo = _verdict(page, keep="kiem-tra-vien-offline-photo-360x640")
    assert (from_photo["verdict"], from_photo["colour"]) == ("genuine", "green")
    assert page.inner_text("#photo-message") == ""
    _photo_of_two_stamps(page, stamps)
    page.get_by_role("button", name="Bật máy ảnh để quét tem").click()
    from_camera = _verdict(page)
    assert (from_camera["verdict"], from_camera["colour"]) == ("genuine", "green")
    assert page.locator("#camera").is_hidden()  # the camera is turned off once it read a code
    _with_clock(page, base, stamps)


def _photo_of_two_stamps(page: Any, stamps: Any) -> None:
    """A shelf or a sheet in one photo: the verdict is one code's, and the page says so."""
    codes = [
        Image.open(io.BytesIO(qr_png(encode(url)))) for url in (stamps.genuine, stamps.expiring)
    ]
    both = Image.new(
        "RGB", (sum(c.width for c in codes) + 40, max(c.height for c in codes)), "white"
    )
    both.paste(codes[0], (0, 0))
    both.paste(codes[1], (codes[0].width + 40, 0))
    photo = io.BytesIO()
    both.save(photo, format="PNG")
    shot = {"name": "hai-tem.png", "mimeType": "image/png", "buffer": photo.getvalue()}
    page.set_input_files("#photo", files=[shot])
    page.wait_for_selector("#photo-message:has-text('Ảnh có 2 mã QR')")
    assert _verdict(page)["colour"] == "green"  # one code's verdict, cleared for the next


def _record_inspection(page: Any) -> None:
    """Recorded with no network: kept on the device, waiting."""
    rows = page.eval_on_selector_all(
        "#record .choice label", "ls => ls.map(l => l.getBoundingClientRect().height)"
    )
    assert len(rows) == 5 and min(rows) >= 44, rows  # review user16b: 34 px rows
    page.get_by_role("radio", name="Không đạt").check()
    page.select_option("#proposal", "recall")
    page.fill("#place", "Chợ Gia Nghĩa, quầy 12")
    page.fill("#notes", "Tem nghi giả, đã lấy mẫu")
    page.check("#sample")
    page.get_by_role("button", name="Lưu biên bản").click()
    page.wait_for_selector("#app[data-queued='1']")
    assert "Biên bản chờ gửi: 1" in page.inner_text("#queue-status")


def _sent_once(page: Any, app: Any, base: str) -> None:
    """The server is back: the waiting record is sent, and stored once however often the
    page is opened again."""
    for _ in range(2):
        _open(page, f"{base}{PAGE}")
        page.wait_for_selector("#app[data-queued='0']")
    with app.app_context(), session_scope(app) as session:
        stored = session.scalars(select(FieldInspection)).all()
        assert [(i.result.value, i.place, i.sample_taken, i.proposal) for i in stored] == [
            ("failed", "Chợ Gia Nghĩa, quầy 12", True, "recall")
        ]
        assert stored[0].serial is not None and stored[0].verdict == "genuine"
        devices = session.scalars(select(InspectorDevice)).all()
        assert len(devices) == 1 and devices[0].user_id == stored[0].inspector_id


def _with_clock(page: Any, base: str, stamps: Stamps) -> None:
    """The phone's clock moved: the certificate expired after the snapshot was made (red),
    data over 7 days old (amber), a clock earlier than the data (amber)."""
    now = datetime.now(UTC)
    page.clock.install(time=now + timedelta(days=3))
    _open(page, f"{base}{PAGE}")
    expired = _check(page, stamps.expiring)
    assert (expired["verdict"], expired["colour"]) == ("genuine", "red")
    assert "hết hiệu lực" in expired["text"]
    page.clock.set_system_time(now + timedelta(days=8))
    old = _check(page, stamps.genuine)
    assert old["colour"] == "amber" and "đã cũ" in old["text"]
    page.clock.set_system_time(now - timedelta(days=1))
    early = _check(page, stamps.genuine)
    assert early["colour"] == "amber" and "Đồng hồ" in early["text"]
