"""The office clears a "possibly copied" flag with a reason: the page goes back to its own
verdict, the counts stay, the rule starts again from then; audited; listed by reason."""

from __future__ import annotations

from sqlalchemy import select

from tests.labels.conftest import P
from tests.labels.test_scans import _labels, _view
from trace_service.audit.models import AuditEvent
from trace_service.labels.models import LabelState


def _flagged(client, packed, app, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_COPY_MAX_SCANS", 2)
    run_id, (label, _other) = _labels(client, packed)
    for n in range(3):
        html = _view(client, label, address=f"192.0.2.{n}")
    assert "v-amber" in html
    return run_id, label


def test_the_office_clears_a_flag_and_the_page_goes_back_to_green(
    client, packed, app, monkeypatch, admin, db_session
):
    _run_id, label = _flagged(client, packed, app, monkeypatch)
    serial = label["serial"]
    answer = client.post(
        f"{P}/labels/{serial}/clear-flag",
        headers=admin.headers,
        json={"reason": "Cửa hàng trưng bày tem cho khách xem thử"},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["scans"]["flagged_at"] is None
    assert answer.json["scans"]["scan_count"] == 3  # counts kept
    assert answer.json["scans"]["flag_clear_reason"].startswith("Cửa hàng")

    html = _view(client, label, address="192.0.2.77")  # the next view does not re-flag
    assert 'class="verdict v-green"' in html and "Đã kiểm tra 4 lần" in html
    state = db_session.scalar(select(LabelState))
    assert (state.scan_count, state.cleared_views) == (4, 3)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.tag.like("%flag_cleared")))
    assert event is not None and event.details["flag_reason"] == "scans"
    assert event.details["reason"].startswith("Cửa hàng")
    assert client.get(f"{P}/flagged-labels", headers=admin.headers).json["items"] == []

    # The rule counts again from the clearing: past the threshold once more, amber again.
    for n in range(2):
        html = _view(client, label, address=f"192.0.2.{100 + n}")
    assert "v-amber" in html


def test_only_the_office_clears_with_a_reason_and_only_a_flagged_stamp(
    client, packed, app, monkeypatch, admin
):
    _run_id, label = _flagged(client, packed, app, monkeypatch)
    url = f"{P}/labels/{label['serial']}/clear-flag"
    body = {"reason": "Kiểm tra tại cửa hàng: tem thật"}
    assert client.post(url, headers=packed.account.headers, json=body).status_code == 403
    assert client.post(url, headers=admin.headers, json={"reason": " "}).status_code == 422
    assert client.post(url, headers=admin.headers, json=body).status_code == 200
    again = client.post(url, headers=admin.headers, json=body)
    assert again.status_code == 409 and again.json["message"]
    unknown = client.post(
        f"{P}/labels/AAAAA-AAAAA-AAAAA/clear-flag", headers=admin.headers, json=body
    )
    assert unknown.status_code == 404


def test_flagged_labels_are_filtered_by_reason(client, packed, app, monkeypatch, admin):
    _run_id, label = _flagged(client, packed, app, monkeypatch)
    by_scans = client.get(f"{P}/flagged-labels?reason=scans", headers=admin.headers).json
    assert [item["serial"] for item in by_scans["items"]] == [label["serial"]]
    by_clients = client.get(f"{P}/flagged-labels?reason=clients", headers=admin.headers).json
    assert by_clients["items"] == []
    assert client.get(f"{P}/flagged-labels?reason=x", headers=admin.headers).status_code == 422
