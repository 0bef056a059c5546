"""The label page keeps each run's facts per worker (labels/page_cache.py): every change a
page shows is seen on the next view, through the page version in the database, never late.

Each test views the page first (the run's facts cached), changes one thing, and views again.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

from PIL import Image
from sqlalchemy import select, update

from tests.labels.conftest import VN, P
from trace_service.clock import today_vn
from trace_service.labels.models import Label, LabelState, page_versions
from trace_service.labels.page_cache import EXTENSION, LABEL_PAGE, RunCache


def _labels(client, packed, quantity=2) -> list[dict]:
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity},
    ).json
    items = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers).json
    return items["items"]


def _html(client, label) -> str:
    parts = urlsplit(label["url"])
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _version(db_session) -> int:
    return db_session.scalar(
        select(page_versions.c.version).where(page_versions.c.name == LABEL_PAGE)
    )


def test_one_composition_serves_every_label_of_a_run(client, packed, compositions):
    first, second = _labels(client, packed)
    for label in (first, second, first):
        assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    assert len(compositions) == 1


def test_ordering_more_stamps_of_the_lot_leaves_the_pages_cached(
    client, packed, compositions, db_session
):
    """An order shows nothing on earlier stamps' pages: under a steady stream of orders,
    every worker composed every run's page again (and each composition read every run of
    the lot), until a market's views queued up."""
    label = _labels(client, packed)[0]
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    version = _version(db_session)
    _labels(client, packed, quantity=3)
    assert _version(db_session) == version
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    assert len(compositions) == 1


def test_a_revocation_turns_the_next_view_red(client, packed, admin, compositions, db_session):
    label = _labels(client, packed)[0]
    assert 'class="verdict v-green"' in _html(client, label)
    before = _version(db_session)
    revoked = client.post(
        f"{P}/certificates/{packed.certificate.id}/revocation",
        headers=admin.headers,
        json={"revoked_on": today_vn().isoformat(), "decision": "45/QĐ-UBND", "reason": "Vi phạm"},
    )
    assert revoked.status_code == 200, revoked.json
    assert _version(db_session) != before
    html = _html(client, label)
    assert "Chứng nhận OCOP đã bị thu hồi" in html and "v-green" not in html
    assert len(compositions) == 2


def test_a_replaced_certificate_edited_in_place_turns_the_next_view_red(client, packed, db_session):
    label = _labels(client, packed)[0]
    assert 'class="verdict v-green"' in _html(client, label)
    packed.certificate.superseded_on = today_vn() - timedelta(days=1)
    db_session.flush()
    assert "Chứng nhận OCOP đã được thay thế" in _html(client, label)


def test_a_recall_of_a_lot_it_was_made_from_turns_the_next_view_red(client, packed, admin):
    label = _labels(client, packed)[0]
    assert "THU HỒI" not in _html(client, label)
    recall = client.post(
        f"{P}/lots/{packed.harvest}/recall",
        headers=admin.headers,
        json={"recalled_at": f"2026-11-20T09:00:00{VN}", "decision": "15/QĐ", "reason": "Nấm"},
    )
    assert recall.status_code == 201, recall.json
    html = _html(client, label)
    assert "Sản phẩm bị thu hồi" in html and "v-green" not in html


def test_a_certificate_expires_on_the_next_day_without_any_write(
    client, packed, monkeypatch, compositions
):
    label = _labels(client, packed)[0]
    assert 'class="verdict v-green"' in _html(client, label)
    after = packed.certificate.valid_until + timedelta(days=1)
    monkeypatch.setattr("trace_service.labels.public.today_vn", lambda now=None: after)
    html = _html(client, label)
    assert "Chứng nhận OCOP đã hết hiệu lực" in html and "v-green" not in html
    assert len(compositions) == 2


def test_a_voided_stamp_turns_red_while_its_runs_facts_stay_cached(client, packed, compositions):
    label = _labels(client, packed)[0]
    assert 'class="verdict v-green"' in _html(client, label)
    voided = client.post(
        f"{P}/print-runs/{label['run_id']}/voids",
        headers=packed.account.headers,
        json={"sequences": [label["seq"]], "reason": "In hỏng"},
    )
    assert voided.status_code < 300, voided.json
    assert "Tem đã hủy" in _html(client, label)
    assert len(compositions) == 1  # the stamp's own row is read on every view


def test_a_producers_new_phone_shows_on_the_next_view(client, packed):
    label = _labels(client, packed)[0]
    assert "02623999123" not in _html(client, label)
    changed = client.patch(
        f"{P}/producers/{packed.producer.id}",
        headers=packed.account.headers,
        json={"phone": "0262 3999 123"},
    )
    assert changed.status_code == 200, changed.json
    assert "02623999123" in _html(client, label)


def test_a_products_photo_shows_below_the_code_and_goes_when_deleted(client, packed):
    label = _labels(client, packed)[0]
    assert "product-photo" not in _html(client, label)
    image = io.BytesIO()
    Image.new("RGB", (900, 600), (180, 120, 60)).save(image, "JPEG")
    put = client.put(
        f"{P}/products/{packed.product.id}/photo",
        headers=packed.account.headers,
        data={"file": (io.BytesIO(image.getvalue()), "anh.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert put.status_code in (200, 201), put.json
    html = _html(client, label)
    [src] = re.findall(r'<img class="product-photo" src="([^"]+)" width="480" height="320"', html)
    assert html.index("Mã tem") < html.index("product-photo")  # the code stays above the fold
    photo = client.get(src)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    deleted = client.delete(
        f"{P}/products/{packed.product.id}/photo", headers=packed.account.headers
    )
    assert deleted.status_code == 204
    assert "product-photo" not in _html(client, label)


def test_an_areas_new_name_shows_on_the_next_view(client, packed, db_session):
    label = _labels(client, packed)[0]
    assert "Vườn cà phê Thuận An 1" in _html(client, label)
    packed.area.name = "Vườn cà phê Thuận An Đông"
    db_session.flush()
    html = _html(client, label)
    assert "Vườn cà phê Thuận An Đông" in html and "Thuận An 1" not in html


def test_a_corrected_harvest_leaves_the_chain_on_the_next_view(client, packed):
    label = _labels(client, packed)[0]
    assert "Vườn cà phê Thuận An 1" in _html(client, label)
    trace = client.get(f"{P}/lots/{packed.bags}/trace", headers=packed.account.headers).json
    harvest = next(e for e in trace["events"] if e["kind"] == "harvest")
    corrected = client.post(
        f"{P}/trace/corrections",
        headers=packed.account.headers,
        json={
            "corrects_event_id": harvest["id"],
            "event_time": f"2026-01-07T10:00:00{VN}",
            "reason": "Ghi nhầm vùng trồng",
        },
    )
    assert corrected.status_code == 201, corrected.json
    assert "Vườn cà phê Thuận An 1" not in _html(client, label)


def test_every_worker_sees_a_change_made_by_another(client, packed, app, admin):
    """Workers share nothing but the database: two caches, both warm, both see the recall."""
    label = _labels(client, packed)[0]
    workers = [RunCache(), RunCache()]
    held = app.extensions.get(EXTENSION)
    try:
        for cache in workers:
            app.extensions[EXTENSION] = cache
            assert "THU HỒI" not in _html(client, label) and len(cache) == 1
        client.post(
            f"{P}/lots/{packed.bags}/recall",
            headers=admin.headers,
            json={"recalled_at": f"2026-11-20T09:00:00{VN}", "reason": "Nấm mốc"},
        )
        for cache in workers:
            app.extensions[EXTENSION] = cache
            assert "Sản phẩm bị thu hồi" in _html(client, label)
    finally:
        app.extensions[EXTENSION] = held


def test_a_change_rolled_back_is_not_shown_afterwards(client, packed, db_session):
    label = _labels(client, packed)[0]
    assert "0262 3999 777" not in _html(client, label)
    savepoint = db_session.begin_nested()
    packed.producer.phone = "0262 3999 777"
    db_session.flush()
    assert "0262 3999 777" in _html(client, label)  # composed under the change's version
    savepoint.rollback()
    assert "0262 3999 777" not in _html(client, label)
    # The next change gets a version of its own, not the rolled-back one again.
    packed.area.name = "Vườn cà phê Thuận An Đông"
    db_session.flush()
    html = _html(client, label)
    assert "Vườn cà phê Thuận An Đông" in html and "0262 3999 777" not in html


def test_a_view_raced_by_another_is_counted_again_under_the_rows_lock(client, packed, db_session):
    """The page writes the counters it read plus one, unless another view changed them since:
    then it counts again on the locked row, so no view is lost."""
    from trace_service.labels.scans import CopyRule, Seen, record_scan
    from trace_service.labels.states import ensure_states

    serial = _labels(client, packed)[0]["serial"]
    label_id = db_session.scalar(select(Label.id).where(Label.serial == serial))
    ensure_states(db_session, [label_id])
    label = db_session.get(Label, label_id)
    assert label.state.scan_count == 0  # what this view read
    db_session.execute(  # another view, counted meanwhile behind this session's back
        update(LabelState)
        .where(LabelState.label_id == label_id)
        .values(scan_count=5)
        .execution_options(synchronize_session=False)
    )
    rule = CopyRule(max_scans=100, max_clients=100, window=timedelta(hours=1))
    state = record_scan(db_session, label, Seen("c" * 32, "phone", "scan"), rule, _now())
    assert state.scan_count == 6
    assert _count(db_session, label_id) == 6


def _count(session, label_id: int) -> int:
    session.expire_all()
    return session.scalar(select(LabelState.scan_count).where(LabelState.label_id == label_id))


def _now():
    from trace_service.db import utcnow

    return utcnow()
