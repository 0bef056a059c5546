"""Ordering OCOP stamps through the API, as a producer would: the run, its labels, its files,
the refusals, retries and resumed builds."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests import factories
from tests.conftest import make_account
from tests.decode import read_qr_codes
from tests.labels.conftest import P, pack
from trace_service.audit.models import AuditEvent
from trace_service.clock import today_vn
from trace_service.labels import build, payload, serials
from trace_service.labels.models import Label, PrintRun
from trace_service.principal import Role

PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not PDFTOPPM, reason="poppler-utils not installed")


def _order(client, account, packed, quantity=500, headers=None, **extra):
    body = {"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity, **extra}
    return client.post(f"{P}/print-runs", headers={**account.headers, **(headers or {})}, json=body)


def _labels(client, account, run_id):
    items, page = [], 1
    while True:
        response = client.get(
            f"{P}/print-runs/{run_id}/labels?page={page}&page_size=100", headers=account.headers
        )
        assert response.status_code == 200, response.json
        items += response.json["items"]
        if page >= response.json["pages"]:
            return items
        page += 1


@needs_poppler
def test_a_producer_orders_500_stamps_and_downloads_a_print_ready_a4_pdf(client, packed, tmp_path):
    response = _order(client, packed.account, packed)
    assert response.status_code == 202, response.json
    run = response.json
    assert response.headers["Location"].endswith(f"/print-runs/{run['id']}")
    assert run["status"] == "ready"  # built within the request in tests (LABEL_BUILD=inline)
    assert run["progress"] == {"labels_drawn": 500, "quantity": 500, "percent": 100.0}
    assert run["qr_version"] <= 8 and run["star"] == packed.certificate.star
    assert run["packing_event_id"] is not None

    labels = _labels(client, packed.account, run["id"])
    assert len(labels) == 500 and len({item["serial"] for item in labels}) == 500
    for item in labels:
        claims, _ = payload.parse_label_url(item["url"])
        assert claims.gtin == packed.product.gtin14 and claims.lot == "DM2601-RB1"
        assert item["code"] == serials.grouped(item["serial"])

    pdf = client.get(run["files"]["sheets"][0]["url"], headers=packed.account.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert b"/PrintScaling /None" in pdf.data  # print dialogs start at actual size
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf.data)
    pdf.close()
    text = subprocess.run(
        [PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = " ".join(text.split())  # a long name wraps onto two lines of its stamp
    assert "Cà phê bột Robusta Đắk Mil – rang mộc" in words
    assert "Hợp tác xã Nông nghiệp Dịch vụ Thuận An" in words
    assert packed.certificate.number in text
    for item in labels:
        assert item["code"] in text

    # The first page, rasterised as a home printer would see it, scans back to the URLs.
    subprocess.run(
        [
            PDFTOPPM,
            "-r",
            "150",
            "-gray",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    page = Image.open(next(tmp_path.glob("p*.png")))
    # zxing-cpp once read a QR code "4924" out of a page's print besides the 18 stamps
    # (the serials are random, so the page differs each time): a phantom is not ours, but
    # every stamp must scan back to its URL, and nothing else to one of our URLs.
    found = {code.text for code in read_qr_codes(page) if code.text.startswith("HTTPS://")}
    per_page = _per_page(run)
    assert found == {item["url"] for item in labels[:per_page]}


def _per_page(run) -> int:
    return -(-run["quantity"] // run["pages"]) if run["pages"] > 1 else run["quantity"]


def test_each_label_serves_its_qr_as_svg_and_png_that_scan_to_its_url(client, packed):
    run = _order(client, packed.account, packed, quantity=3).json
    for item in _labels(client, packed.account, run["id"]):
        png = client.get(item["qr_png"], headers=packed.account.headers)
        assert png.status_code == 200 and png.mimetype == "image/png"
        decoded = read_qr_codes(Image.open(io.BytesIO(png.data)))
        assert [code.text for code in decoded] == [item["url"]]
        svg = client.get(item["qr_svg"], headers=packed.account.headers)
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert svg.data.startswith(b"<svg") or b"<svg" in svg.data[:200]


def test_a_label_is_found_by_its_code_as_a_person_types_it(client, packed, inspector):
    run = _order(client, packed.account, packed, quantity=2).json
    item = _labels(client, packed.account, run["id"])[0]
    typed = item["code"].lower().replace("-", " ")
    response = client.get(f"{P}/labels/{typed}", headers=inspector.headers)
    assert response.status_code == 200 and response.json["serial"] == item["serial"]
    wrong = item["serial"][:-1] + ("0" if item["serial"][-1] != "0" else "1")
    assert client.get(f"{P}/labels/{wrong}", headers=inspector.headers).status_code == 404


def test_the_same_idempotency_key_returns_the_same_run_and_issues_nothing_more(
    client, packed, db_session
):
    key = {"Idempotency-Key": "order-2026-11-28-001"}
    first = _order(client, packed.account, packed, quantity=20, headers=key)
    again = _order(client, packed.account, packed, quantity=20, headers=key)
    assert first.status_code == 202 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    count = db_session.scalar(select(func.count()).select_from(Label))
    assert count == 20
    other = _order(client, packed.account, packed, quantity=21, headers=key)
    assert other.status_code == 409 and "Idempotency-Key" in other.json["message_en"]
    bad = _order(client, packed.account, packed, quantity=1, headers={"Idempotency-Key": "x" * 65})
    assert bad.status_code == 422


@pytest.mark.parametrize("quantity", [0, -1, 100_001, 1.5, "10", None, True])
def test_a_run_of_0_or_100001_labels_is_refused_and_writes_nothing(
    client, packed, db_session, quantity
):
    response = _order(client, packed.account, packed, quantity=quantity)
    assert response.status_code == 422, response.json
    assert "quantity" in response.json["errors"]["json"]
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == 0


def test_a_lot_takes_no_more_stamps_than_it_has_units(client, packed):
    assert _order(client, packed.account, packed, quantity=1500).status_code == 202
    response = _order(client, packed.account, packed, quantity=501)
    assert response.status_code == 422
    assert "at most 500 more" in response.json["message_en"]


def test_another_producers_product_is_not_found(client, packed, db_session):
    stranger = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    response = _order(client, stranger, packed)
    assert response.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == 0


def test_a_lot_that_is_not_of_the_product_is_refused(client, packed, db_session):
    other_product = factories.ProductFactory(producer=packed.producer)
    factories.CertificateFactory(product=other_product, issue_date=today_vn() - timedelta(days=10))
    response = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": other_product.id, "lot_id": packed.bags, "quantity": 10},
    )
    assert response.status_code == 422
    assert "is not a lot of product" in response.json["message_en"]
    unpacked = _order(client, packed.account, packed, lot_id=packed.harvest)
    assert unpacked.status_code == 422


def _certified_product(client, packed, *, issue_date, code, **certificate):
    product = factories.ProductFactory(producer=packed.producer)
    cert = factories.CertificateFactory(product=product, issue_date=issue_date, **certificate)
    _, lot = pack(
        client, packed.account, product, packed.area, bags=40, code=code, harvest_code=f"H{code}"
    )
    return product, cert, lot


def _order_for(client, packed, product, lot, **extra):
    return client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": product.id, "lot_id": lot, "quantity": 10, **extra},
    )


def test_a_run_for_an_expired_certificate_is_refused(client, packed):
    product, cert, lot = _certified_product(
        client, packed, issue_date=today_vn() - timedelta(days=3 * 366), code="EXP1"
    )
    response = _order_for(client, packed, product, lot)
    assert response.status_code == 409
    assert response.json["code"] == "certificate_expired"
    assert cert.number in response.json["message"]


def test_a_run_for_a_revoked_certificate_is_refused(client, packed):
    product, _, lot = _certified_product(
        client,
        packed,
        issue_date=today_vn() - timedelta(days=100),
        code="REV1",
        revoked_on=today_vn() - timedelta(days=1),
        revocation_decision="12/QĐ-UBND",
        revocation_reason="Không duy trì chất lượng",
    )
    response = _order_for(client, packed, product, lot)
    assert response.status_code == 409 and response.json["code"] == "certificate_revoked"


def test_a_run_for_a_superseded_certificate_is_refused(client, packed, db_session):
    product, old, lot = _certified_product(
        client, packed, issue_date=today_vn() - timedelta(days=900), code="SUP1"
    )
    new = factories.CertificateFactory(product=product, issue_date=today_vn() - timedelta(days=5))
    old.superseded_by = new
    old.superseded_on = new.issue_date
    db_session.flush()
    response = _order_for(client, packed, product, lot, certificate_id=old.id)
    assert response.status_code == 409
    assert response.json["code"] == "certificate_superseded"
    assert new.number in response.json["message"] and "superseded" in response.json["message_en"]
    assert _order_for(client, packed, product, lot, certificate_id=new.id).status_code == 202


def test_a_product_without_a_certificate_gets_no_labels(client, packed):
    product = factories.ProductFactory(producer=packed.producer)
    _, lot = pack(
        client, packed.account, product, packed.area, bags=40, code="NOC1", harvest_code="HN"
    )
    response = _order_for(client, packed, product, lot)
    assert response.status_code == 409 and response.json["code"] == "certificate_no_certificate"


def test_inspectors_cannot_order_labels(client, packed, inspector):
    assert _order(client, inspector, packed).status_code == 403


def test_ordering_is_in_the_audit_log(client, packed, db_session):
    run = _order(client, packed.account, packed, quantity=5).json
    tags = set(
        db_session.scalars(select(AuditEvent.tag).where(AuditEvent.object_id == str(run["id"])))
    )
    assert {"label:print_run:ordered", "label:print_run:built"} <= tags


def test_a_failed_build_is_resumed_with_the_same_serials(client, packed, app, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the print-run folder should be")
    saved = app.config["LABEL_FILES_DIR"]
    app.config["LABEL_FILES_DIR"] = str(blocker)
    try:
        run = _order(client, packed.account, packed, quantity=30).json
    finally:
        app.config["LABEL_FILES_DIR"] = saved
    assert run["status"] == "failed" and "mã sự cố" in run["error"]
    # The producer gets an incident code, not the file system's words (attack finding F3).
    assert str(blocker) not in run["error"] and "Error" not in run["error"]
    assert run["files"]["sheets"] == []
    before = [item["serial"] for item in _labels(client, packed.account, run["id"])]
    pdf = client.get(f"{P}/print-runs/{run['id']}/sheet.pdf", headers=packed.account.headers)
    assert pdf.status_code == 409

    resumed = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert resumed.status_code == 202, resumed.json
    after = client.get(f"{P}/print-runs/{run['id']}", headers=packed.account.headers).json
    assert after["status"] == "ready" and after["error"] is None
    assert [item["serial"] for item in _labels(client, packed.account, run["id"])] == before
    again = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert again.status_code == 409


def test_a_run_with_scratch_codes_keeps_only_their_hashes(client, packed, db_session):
    run = _order(client, packed.account, packed, quantity=4, scratch_code=True).json
    assert run["scratch_code"] is True
    hashes = list(db_session.scalars(select(Label.scratch_hash).where(Label.run_id == run["id"])))
    assert len(hashes) == 4 and all(h and len(h) == 32 for h in hashes)


def test_the_thermal_zpl_downloads_at_203_and_300_dpi(client, packed):
    run = _order(client, packed.account, packed, quantity=3).json
    for dpi in (203, 300):
        response = client.get(run["files"][f"zpl_{dpi}dpi"], headers=packed.account.headers)
        assert response.status_code == 200
        assert response.data.count(b"^XA") == 3
        response.close()
    bad = client.get(
        f"{P}/print-runs/{run['id']}/labels.zpl?dpi=600", headers=packed.account.headers
    )
    assert bad.status_code == 422


def test_runs_are_listed_newest_first_and_each_producer_sees_its_own(client, packed, db_session):
    first = _order(client, packed.account, packed, quantity=2).json
    second = _order(client, packed.account, packed, quantity=2).json
    listed = client.get(f"{P}/print-runs", headers=packed.account.headers).json
    assert [r["id"] for r in listed["items"]] == [second["id"], first["id"]]
    stranger = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    assert client.get(f"{P}/print-runs", headers=stranger.headers).json["total"] == 0
    assert client.get(f"{P}/print-runs/{first['id']}", headers=stranger.headers).status_code == 404


def test_the_forward_trace_from_the_plot_reaches_every_run_and_label(client, packed, inspector):
    _order(client, packed.account, packed, quantity=300)
    _order(client, packed.account, packed, quantity=200)
    trace = client.get(f"{P}/areas/{packed.area.id}/trace", headers=inspector.headers).json
    assert trace["labels"] == 500 and len(trace["print_runs"]) == 2


def test_valid_until_and_star_on_the_run_come_from_the_certificate(client, packed):
    run = _order(client, packed.account, packed, quantity=1).json
    assert date.fromisoformat(run["valid_until"]) == packed.certificate.valid_until
    assert run["certificate_id"] == packed.certificate.id


def test_a_run_larger_than_one_pdf_comes_in_parts_that_together_hold_every_label(
    client, packed, monkeypatch, tmp_path
):
    # 10,000 labels a PDF in production; 8 here, so the test stays small.
    monkeypatch.setattr(build, "SHEET_PART_LABELS", 8)
    run = _order(client, packed.account, packed, quantity=20).json
    sheets = run["files"]["sheets"]
    assert [s["labels"] for s in sheets] == [8, 8, 4]
    codes = [item["code"] for item in _labels(client, packed.account, run["id"])]
    texts = []
    for part, sheet in enumerate(sheets, start=1):
        response = client.get(sheet["url"], headers=packed.account.headers)
        assert response.status_code == 200
        assert f"phan-{part}.pdf" in response.headers["Content-Disposition"]
        path = tmp_path / f"{part}.pdf"
        path.write_bytes(response.data)
        response.close()
        if PDFTOTEXT:
            texts.append(
                subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True).stdout
            )
    if PDFTOTEXT:
        for part, text in enumerate(texts):
            assert f"Phần / Part {part + 1}/3" in " ".join(text.split())
            assert all(code in text for code in codes[part * 8 : part * 8 + 8])
    beyond = client.get(
        f"{P}/print-runs/{run['id']}/sheet.pdf?part=4", headers=packed.account.headers
    )
    assert beyond.status_code == 404


def test_an_unusable_label_base_url_is_explained_not_a_crash(client, packed, app):
    saved = app.config["LABEL_BASE_URL"]
    app.config["LABEL_BASE_URL"] = "http://0.0.0.0:8000"  # plain http off this machine
    try:
        response = _order(client, packed.account, packed, quantity=1)
    finally:
        app.config["LABEL_BASE_URL"] = saved
    assert response.status_code == 503
    assert "OCOP_LABEL_BASE_URL" in response.json["message_en"]


def test_a_named_certificate_must_be_the_products_own_and_in_force(client, packed):
    product, cert, lot = _certified_product(
        client, packed, issue_date=today_vn() - timedelta(days=3 * 366), code="OLD1"
    )
    factories.CertificateFactory(product=product, issue_date=today_vn() - timedelta(days=3))
    expired_named = _order_for(client, packed, product, lot, certificate_id=cert.id)
    assert expired_named.status_code == 409
    assert expired_named.json["code"] == "certificate_not_in_force"
    foreign = _order_for(client, packed, product, lot, certificate_id=packed.certificate.id)
    assert foreign.status_code == 422 and "certificate_id" in foreign.json["errors"]["json"]


# The verify API takes no body over 4 KiB at all: refused as too large before it is read.
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/print-runs", 400, "malformed_json"), ("/labels/verify", 413, "payload_too_large")],
)
def test_a_number_too_long_to_read_is_a_bad_request_not_a_crash(client, packed, path, status, code):
    body = (
        '{"product_id": 1, "lot_id": 1, "quantity": 1'
        + "0" * 5000
        + ', "url": 1'
        + "0" * 5000
        + "}"
    )
    response = client.post(
        f"{P}{path}",
        data=body,
        headers={**packed.account.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == status and response.json["code"] == code


def test_a_build_whose_builder_went_silent_shows_as_stalled_and_can_be_resumed(
    client, packed, db_session
):
    from datetime import UTC, datetime

    run = _order(client, packed.account, packed, quantity=3).json
    row = db_session.get(PrintRun, run["id"])
    row.status = build.RunStatus.BUILDING  # as a server killed mid-build leaves it
    row.lease_until = datetime(2026, 1, 1, tzinfo=UTC)
    db_session.flush()
    seen = client.get(f"{P}/print-runs/{run['id']}", headers=packed.account.headers).json
    assert seen["status"] == "building" and seen["stalled"] is True
    resumed = client.post(f"{P}/print-runs/{run['id']}/build", headers=packed.account.headers)
    assert resumed.status_code == 202 and resumed.json["status"] == "ready"
    assert resumed.json["stalled"] is False
