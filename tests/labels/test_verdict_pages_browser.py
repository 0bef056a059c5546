"""A page of every verdict, opened as a shopper's phone opens it (headless Chromium at 360×640
and 390×844, no internet): the right verdict and no contradicting colour, the verdict,
product, stars and stamp code on the first screen, no console error, no request leaving the
server, no serious accessibility problem; screenshots kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.browser import (
    chromium,
    keep_to_this_server,
    screenshot,
    serious_accessibility_problems,
    served_app,
    small_tap_targets,
)
from tests.labels.conftest import P, seed_committed
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn
from trace_service.db import session_scope
from trace_service.labels.models import PrintRun
from trace_service.trace.models import Recall

pytestmark = pytest.mark.browser
VIEWPORTS = [(360, 640), (390, 844)]
GREEN = "rgb(29, 122, 56)"  # .v-green
GREEN_BUTTON = "rgb(29, 95, 47)"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("verdict-pages")) as (app, base):
        yield app, base


def order_stamp(app, base: str, scratch: bool = False) -> tuple[str, dict, object]:
    """One stamp of a fresh product and lot: its page's URL on the live server, the label
    as the API lists it, and the seed."""
    seed = seed_committed(app, bags=40)
    _rename_lots(app)
    client = app.test_client()
    run = client.post(
        f"{P}/print-runs",
        headers=seed.headers,
        json={
            "product_id": seed.product_id,
            "lot_id": seed.lot_id,
            "quantity": 3,
            "scratch_code": scratch,
        },
    ).json
    labels = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
    label = labels["items"][0]
    parts = urlsplit(label["url"])
    return f"{base}{parts.path}?{parts.query}", label, seed


def _rename_lots(app) -> None:
    """seed_committed names every lot alike; lot codes are unique, so rename them."""
    from trace_service.trace.models import Lot

    with app.app_context(), session_scope(app) as session:
        for lot in session.scalars(select(Lot).where(Lot.code.in_(("H-C", "B-C")))):
            lot.code = f"{lot.code}-{lot.id}"


def _certificate(app, run_id: int, change: Callable[[Certificate], None]) -> None:
    with app.app_context(), session_scope(app) as session:
        run = session.get(PrintRun, run_id)
        change(session.get(Certificate, run.certificate_id))


def _run_id(app, serial: str) -> int:
    from trace_service.labels.models import Label

    with app.app_context(), session_scope(app) as session:
        return session.scalars(select(Label.run_id).where(Label.serial == serial)).one()


def _recall(app, run_id: int) -> None:
    with app.app_context(), session_scope(app) as session:
        run = session.get(PrintRun, run_id)
        session.add(
            Recall(
                lot_id=run.lot_id,
                recalled_at=datetime.now(UTC) - timedelta(days=2),
                decision="15/QĐ-SNN",
                reason="Nấm mốc",
            )
        )


def _expire(cert: Certificate) -> None:
    cert.valid_until = today_vn() - timedelta(days=3)


def _expiring(cert: Certificate) -> None:
    cert.valid_until = today_vn() + timedelta(days=20)


def _revoke(cert: Certificate) -> None:
    cert.revoked_on = today_vn() - timedelta(days=1)
    cert.revocation_decision = "99/QĐ-UBND"


def _tamper(url: str) -> str:
    head, data = url.split("?S=")
    return f"{head}?S={data[:-1]}{(int(data[-1]) + 1) % 10}"


def _random_serial(url: str) -> str:
    parts = url.split("/21/")
    return f"{parts[0]}/21/ABCDEFGHJKMNPQR?S=1234"


# name → (how to make the stamp's page, the colour, words the verdict must hold)
def _prepare(app, base: str, name: str) -> str:
    url, label, seed = order_stamp(app, base)
    run_id = _run_id(app, label["serial"])
    if name == "voided":
        voided = app.test_client().post(
            f"{P}/print-runs/{run_id}/voids",
            headers=seed.headers,
            json={"sequences": [label["seq"]], "reason": "In hỏng"},
        )
        assert voided.status_code == 200, voided.json
    if name == "expiring":
        _certificate(app, run_id, _expiring)
    elif name == "expired":
        _certificate(app, run_id, _expire)
    elif name == "revoked":
        _certificate(app, run_id, _revoke)
    elif name == "recalled":
        _recall(app, run_id)
    elif name == "possibly_copied":
        client = app.test_client()
        parts = urlsplit(url)
        for n in range(app.config["LABEL_COPY_MAX_CLIENTS"] + 1):  # one client too many
            client.get(f"{parts.path}?{parts.query}", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    elif name == "copied_signature":  # another stamp's signature on this stamp's code
        other = app.test_client().get(f"{P}/print-runs/{run_id}/labels", headers=seed.headers)
        signature = other.json["items"][1]["url"].split("?S=")[1]
        url = f"{url.split('?S=')[0]}?S={signature}"
    elif name == "tampered":
        url = _tamper(url)
    elif name == "random_serial":
        url = _random_serial(url)
    return url


VERDICTS = {
    "genuine": ("green", "Tem chính hãng"),
    "expiring": ("green", "sắp hết hạn"),
    "expired": ("red", "Chứng nhận OCOP đã hết hiệu lực"),
    "revoked": ("red", "Chứng nhận OCOP đã bị thu hồi"),
    "recalled": ("red", "Sản phẩm bị thu hồi"),
    "voided": ("red", "Tem đã hủy"),
    "possibly_copied": ("amber", "Tem có thể bị sao chép"),
    "tampered": ("red", "Không xác nhận được tem này"),
    "random_serial": ("red", "Không xác nhận được tem này"),
    "copied_signature": ("red", "Không xác nhận được tem này"),
}


def check_page(browser, url: str, name: str, colour: str, words: str, size) -> None:
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
    outside, errors = keep_to_this_server(page)
    response = page.goto(url)
    if response is not None and response.status == 404:
        # Chromium logs the document's own 404 (an unknown stamp is "not found" to HTTP)
        # as "Failed to load resource"; any other error still counts.
        errors[:] = []
    verdict = page.locator("[role=status]")
    assert words in verdict.inner_text(), (name, verdict.inner_text())
    assert verdict.get_attribute("data-colour") == colour
    backgrounds = page.evaluate(
        "[...document.querySelectorAll('*')].map(e => getComputedStyle(e).backgroundColor)"
    )
    if colour != "green":
        assert GREEN not in backgrounds and GREEN_BUTTON not in backgrounds, name
    first_screen = [verdict]
    if page.locator(".product").count():
        first_screen += [page.locator(".product"), page.locator(".stars"), page.locator(".code")]
    for element in first_screen:
        box = element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 640, (name, size)
    assert serious_accessibility_problems(page) == [], name
    # The report form's choices too (review user15: 24 px rows on a phone).
    assert colour == "green" or page.locator("#bao-cao .choice label").count() > 1, name
    assert small_tap_targets(page) == [], (name, size)
    screenshot(page, f"label-{name}-{width}x{height}")
    page.close()
    assert outside == [] and errors == [], (name, outside, errors)


@pytest.mark.parametrize("name", list(VERDICTS))
def test_every_verdict_reads_as_one_colour_on_a_phone(served, name):
    app, base = served
    url = _prepare(app, base, name)
    colour, words = VERDICTS[name]
    with chromium() as browser:
        for size in VIEWPORTS:
            check_page(browser, url, name, colour, words, size)


def test_a_scratch_code_used_twice_says_when_it_was_first_checked(served):
    from trace_service.labels import serials
    from trace_service.signing.service import get_keystore, scratch_secret

    app, base = served
    url, label, _ = order_stamp(app, base, scratch=True)
    code = serials.scratch_code(scratch_secret(get_keystore(app)), label["serial"])
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale="vi-VN")
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(url)  # a made-up code first: said above the verdict, on the first screen
        page.fill("#scratch-code", "0000000000")
        page.get_by_role("button", name="Kiểm tra mã cào").click()
        warning = page.wait_for_selector("#scratch-wrong").bounding_box()
        verdict_box = page.locator("[role=status]").bounding_box()
        assert warning and verdict_box and warning["y"] + warning["height"] <= verdict_box["y"]
        assert small_tap_targets(page) == [] and serious_accessibility_problems(page) == []
        screenshot(page, "label-scratch-wrong-360x640")
        page.fill("#scratch-code", "abc-12")  # a slip of the finger: said as one, kept
        page.get_by_role("button", name="Kiểm tra mã cào").click()
        slip = page.wait_for_selector("#scratch-malformed").bounding_box()
        verdict_box = page.locator("[role=status]").bounding_box()
        assert slip and verdict_box and slip["y"] + slip["height"] <= verdict_box["y"]
        assert page.input_value("#scratch-code") == "abc-12"
        assert small_tap_targets(page) == [] and serious_accessibility_problems(page) == []
        screenshot(page, "label-scratch-slip-360x640")
        for attempt in ("first", "second"):
            page.goto(url)
            page.fill("#scratch-code", code.lower())
            page.get_by_role("button", name="Kiểm tra mã cào").click()
            page.wait_for_load_state()
            verdict = page.locator("[role=status]")
            if attempt == "first":
                assert "đây là lần kiểm tra đầu tiên" in page.content()
                assert verdict.get_attribute("data-colour") == "green"
        assert verdict.get_attribute("data-colour") == "amber"
        assert f"Mã này đã được kiểm tra ngày {today_vn():%d/%m/%Y}" in verdict.inner_text()
        assert serious_accessibility_problems(page) == []
        screenshot(page, "label-scratch-used-360x640")
        page.close()
    assert errors == []


def test_the_visitor_switches_to_english_and_the_choice_is_remembered(served):
    app, base = served
    url, _, _ = order_stamp(app, base)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale="vi-VN")
        page.goto(url)
        assert "Tem chính hãng" in page.locator("[role=status]").inner_text()
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert "Genuine OCOP stamp" in page.locator("[role=status]").inner_text()
        page.goto(url)  # the stamp scanned again: English still
        assert "Genuine OCOP stamp" in page.locator("[role=status]").inner_text()
        assert page.locator("html").get_attribute("lang") == "en"
        screenshot(page, "label-genuine-english-360x640")
        english = browser.new_page(locale="en-GB")  # a browser that prefers English
        english.goto(url)
        assert "Genuine OCOP stamp" in english.locator("[role=status]").inner_text()
