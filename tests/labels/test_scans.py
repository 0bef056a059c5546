"""Every view of a stamp's page is counted beside the stamp and logged (with nothing personal
but a monthly-salted hash of the address); a stamp seen too often, or in too many places,
turns amber as possibly copied, and the office and its producer can list it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select

from tests import factories
from tests.conftest import make_account
from tests.labels.conftest import P
from trace_service.clock import today_vn
from trace_service.labels import scans
from trace_service.labels.models import LabelState, label_scans
from trace_service.labels.scan_log import prune_scans
from trace_service.principal import Role

PHONE = "Mozilla/5.0 (Linux; Android 12; SM-A135F) AppleWebKit/537.36 Mobile Safari/537.36"


def _labels(client, packed, quantity=2):
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity},
    ).json
    items = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers)
    return run["id"], items.json["items"]


def _view(client, label, address="203.0.113.7", **headers):
    parts = urlsplit(label["url"])
    return client.get(
        f"{parts.path}?{parts.query}",
        environ_base={"REMOTE_ADDR": address},
        headers={"User-Agent": PHONE, **headers},
    ).get_data(as_text=True)


def test_the_page_counts_every_view_and_says_when_it_was_first_checked(client, packed, db_session):
    _, (label, _other) = _labels(client, packed)
    for _ in range(2):
        _view(client, label)
    html = _view(client, label)  # a reload counts too
    assert f"Đã kiểm tra 3 lần, lần đầu {today_vn():%d/%m/%Y}" in html
    assert 'class="verdict v-green"' in html
    rows = db_session.execute(select(label_scans)).all()
    assert len(rows) == 3
    assert {(r.device, r.source) for r in rows} == {("phone", "scan")}
    assert all("203.0.113.7" not in r.client_hash and len(r.client_hash) == 32 for r in rows)
    typed = client.get(
        urlsplit(label["url"]).path + "?" + urlsplit(label["url"]).query + "&src=typed"
    )
    assert typed.status_code == 200
    assert db_session.scalar(select(func.count()).where(label_scans.c.source == "typed")) == 1


def test_a_stamp_viewed_past_the_threshold_turns_amber(client, packed, app, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_SCANS", 3)
    _, (label, _other) = _labels(client, packed)
    for n in range(3):
        assert "v-green" in _view(client, label, address=f"192.0.2.{n}")
    html = _view(client, label, address="192.0.2.50")
    assert "Tem có thể bị sao chép" in html and 'class="verdict v-amber"' in html
    assert "v-green" not in html and "Đã kiểm tra 4 lần" in html


def test_reloads_and_pages_loaded_by_another_site_do_not_flag_a_genuine_stamp(
    client, packed, app, monkeypatch, db_session
):
    # The reviewer's finding 2: 305 reloads from one address, or an <img> of the stamp's URL
    # on a busy page, flagged a genuine stamp for good.
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_SCANS", 3)
    _, (label, _other) = _labels(client, packed)
    for _ in range(6):
        html = _view(client, label)  # one visitor reloading
    for n in range(6):
        _view(client, label, address=f"198.51.100.{n}", **{"Sec-Fetch-Dest": "image"})
    assert "v-green" in html and "Đã kiểm tra 6 lần" in html  # every view shown, reloads too
    state = db_session.scalar(select(LabelState))
    assert (state.scan_count, state.counted_views, state.flagged_at) == (6, 1, None)
    assert db_session.scalar(select(func.count()).select_from(label_scans)) == 12  # all logged


def test_prefetches_and_other_sites_navigations_without_a_click_do_not_flag_a_stamp(
    client, packed, app, monkeypatch, db_session
):
    # Attacker's review: twelve prefetches made by another site's visitors flagged a stamp.
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_SCANS", 3)
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_CLIENTS", 3)
    _, (label, _other) = _labels(client, packed)
    unseen = [
        {"Sec-Fetch-Site": "cross-site", "Sec-Purpose": "prefetch"},
        {"Sec-Fetch-Site": "same-origin", "Sec-Purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},  # no click
    ]
    for n in range(12):
        _view(client, label, address=f"198.51.100.{n}", **unseen[n % len(unseen)])
    assert db_session.scalar(select(LabelState)) is None  # logged, never counted
    assert db_session.scalar(select(func.count()).select_from(label_scans)) == 12
    seen = [
        {"Sec-Fetch-Site": "none", "Sec-Fetch-User": "?1"},  # a camera app, a typed address
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-User": "?1"},  # a link clicked elsewhere
        {"Sec-Fetch-Site": "same-origin"},  # from our lookup page
    ]
    for n, headers in enumerate(seen):
        _view(client, label, address=f"203.0.113.{n}", **headers)
    db_session.expire_all()
    assert db_session.scalar(select(LabelState)).counted_views == 3


def test_a_stamp_seen_by_too_many_clients_is_flagged_and_listed(
    client, packed, app, monkeypatch, db_session, admin
):
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_CLIENTS", 2)
    run_id, (label, other) = _labels(client, packed)
    for n in range(2):
        assert "v-green" in _view(client, label, address=f"198.51.100.{n}")
    _view(client, other)
    assert "Tem có thể bị sao chép" in _view(client, label, address="198.51.100.99")
    state = db_session.scalar(select(LabelState).where(LabelState.flag_reason.is_not(None)))
    assert state.flag_reason == "clients" and len(state.recent_clients) <= 3  # bounded

    own = client.get(f"{P}/flagged-labels", headers=packed.account.headers).json
    assert [item["serial"] for item in own["items"]] == [label["serial"]]
    assert own["items"][0]["scans"]["scan_count"] == 3
    by_run = client.get(f"{P}/flagged-labels?run_id={run_id}", headers=admin.headers).json
    assert len(by_run["items"]) == 1
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert (
        client.get(f"{P}/flagged-labels?flagged_from={later}", headers=admin.headers).json["items"]
        == []
    )
    stranger = make_account(db_session, Role.PRODUCER, factories.ProducerFactory().id)
    assert client.get(f"{P}/flagged-labels", headers=stranger.headers).json["items"] == []


def test_a_link_preview_robot_is_logged_but_not_counted(client, packed, db_session):
    _, (label, _other) = _labels(client, packed)
    preview = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    for n in range(3):
        _view(client, label, address=f"192.0.2.{n}", **{"User-Agent": preview})
    client.head(urlsplit(label["url"]).path + "?" + urlsplit(label["url"]).query)
    assert db_session.scalar(select(func.count()).select_from(LabelState)) == 0
    assert db_session.scalar(select(func.count()).where(label_scans.c.device == "bot")) == 3
    assert "Đã kiểm tra 1 lần" in _view(client, label)


def test_an_unknown_stamp_leaves_no_trace_in_the_log(client, db_session):
    client.get("/01/08935012345678/10/X/21/ABCDEFGHJKMNPQR?S=1")
    assert db_session.scalar(select(func.count()).select_from(label_scans)) == 0


def test_the_salt_changes_every_month_and_the_device_is_coarse():
    december, january = datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    same = scans.client_hash("k", "203.0.113.7", december)
    assert same == scans.client_hash("k", "203.0.113.7", december - timedelta(days=20))
    assert same != scans.client_hash("k", "203.0.113.7", january)
    assert scans.device_class(PHONE) == "phone"
    assert scans.device_class("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)") == "tablet"
    assert scans.device_class("Mozilla/5.0 (X11; Linux x86_64) Chrome/120") == "desktop"
    assert scans.device_class("Googlebot/2.1") == "bot" and scans.device_class("") == "other"
    assert scans.source_of(None, "https://tem.example.vn/", "tem.example.vn") == "typed"
    assert scans.source_of(None, "https://zalo.me/x", "tem.example.vn") == "scan"


def test_pruning_deletes_views_older_than_the_retention(client, packed, db_session):
    _, (label, _other) = _labels(client, packed)
    _view(client, label)
    label_id = db_session.scalar(select(LabelState.label_id))
    old = datetime.now(UTC) - timedelta(days=500)
    db_session.execute(
        insert(label_scans).values(
            label_id=label_id, scanned_at=old, client_hash="0" * 32, device="phone", source="scan"
        )
    )
    pruned = prune_scans(db_session, datetime.now(UTC), 400)
    assert pruned.deleted == 1
    assert db_session.scalar(select(func.count()).select_from(label_scans)) == 1
    assert db_session.scalar(select(LabelState.scan_count)) == 1  # the counters stay
    if db_session.get_bind().dialect.name == "postgresql":
        # partitioned by month: the migration made this month and the next; pruning adds
        # the one after, so a month never starts without its partition
        assert len(pruned.created) == 1 and pruned.created[0].startswith("label_scans_")


def test_one_client_opening_a_page_hundreds_of_times_a_minute_is_slowed(client, packed):
    from trace_service.labels.public import PAGE_RATE

    _, (label, _other) = _labels(client, packed)
    parts = urlsplit(label["url"])
    path = f"{parts.path}?{parts.query}"
    answers = [
        client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code
        for _ in range(PAGE_RATE.amount + 1)
    ]
    assert answers[:-1] == [200] * PAGE_RATE.amount and answers[-1] == 429
    other = client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.78"})
    assert other.status_code == 200  # another shopper is not held up
