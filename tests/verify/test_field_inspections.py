"""Field inspections' photos (re-encoded, capped), the lab result recorded later, the
inspections on the product's trace (the public chain says only that the lot was checked), and the
office's decision on a proposal: accepting revokes the certificate or recalls the lot through
the services the API uses, audited with the reason; rejecting needs a reason too."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from tests import factories
from tests.labels.conftest import P, packed  # noqa: F401 - the fixture
from tests.labels.test_verification import _one_label, _path
from trace_service.audit.models import AuditEvent
from trace_service.certificates.models import Certificate
from trace_service.clock import today_vn, vn_date
from trace_service.labels.verify_response import FullVerificationSchema
from trace_service.trace.models import Recall
from trace_service.verify import photos
from trace_service.verify.models import FieldInspection

CHECKED = "Lô hàng đã được kiểm tra tại điểm bán"
_FOUND_BASE = {
    "checked_at": "2026-12-03T09:15:00+07:00",
    "place": "Chợ Gia Nghĩa, quầy 12",
    "result": "failed",
    "notes": "Ghi chú riêng của kiểm tra viên <b>không công khai</b>",
    "sample_taken": True,
}


def _inspection(client, inspector, serial, client_id, **changes):
    found = {"client_id": client_id, "serial": serial, **_FOUND_BASE, **changes}
    sent = client.post(f"{P}/inspections", headers=inspector.headers, json=found)
    assert sent.status_code == 201, sent.json
    return sent.json


def _jpeg_with_location(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (12.0, 0.0, 15.0)}  # GPS: latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_kept_as_our_own_small_jpeg_without_the_phones_metadata(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
):
    label = _one_label(client, packed)
    made = _inspection(client, inspector, label["serial"], "photo-check-0001")
    assert made["lot_id"] == packed.bags and made["product_id"] == packed.product.id
    url = f"{P}/inspections/{made['id']}/photos"
    sent = _jpeg_with_location()
    assert b"PhoneMaker" in sent
    added = client.post(
        url, headers=inspector.headers, data={"file": (io.BytesIO(sent), "anh.jpg")}
    )
    assert added.status_code == 201, added.json
    [photo_url] = added.json["photos"]
    kept = client.get(photo_url, headers=admin.headers)
    assert kept.status_code == 200 and kept.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(kept.data))
    assert image.format == "JPEG" and max(image.size) == photos.MAX_SIDE
    assert image.size == (1600, 1067) and b"PhoneMaker" not in kept.data
    assert not image.getexif()
    # not a photo; another inspector's inspection
    text = client.post(
        url, headers=inspector.headers, data={"file": (io.BytesIO(b"%PDF-1.4 x"), "a.jpg")}
    )
    assert text.status_code == 422 and "JPEG" in text.json["message_en"]
    png = io.BytesIO()
    Image.new("RGB", (40, 30)).save(png, "PNG")
    small = png.getvalue()
    for _ in range(photos.MAX_PHOTOS - 1):
        one = client.post(
            url, headers=inspector.headers, data={"file": (io.BytesIO(small), "a.png")}
        )
        assert one.status_code == 201
    full = client.post(url, headers=inspector.headers, data={"file": (io.BytesIO(small), "a.png")})
    assert full.status_code == 409


def test_the_lab_result_comes_later_once_and_the_trace_shows_the_inspection(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
    db_session,
):
    label = _one_label(client, packed)
    # viewed before: the run's facts are cached by the worker, and the inspection renews them
    before = client.get(_path(label["url"])).get_data(as_text=True)
    assert CHECKED not in before
    made = _inspection(client, inspector, label["serial"], "lab-check-00001", result="doubtful")
    url = f"{P}/inspections/{made['id']}/lab-result"
    result = {"passed": False, "result": "Aflatoxin B1 12 µg/kg, vượt ngưỡng 5 µg/kg"}
    recorded = client.post(url, headers=inspector.headers, json=result)
    assert recorded.status_code == 200, recorded.json
    assert recorded.json["lab_passed"] is False and recorded.json["lab_recorded_at"]
    assert client.post(url, headers=inspector.headers, json=result).status_code == 409
    no_sample = _inspection(
        client, inspector, label["serial"], "lab-check-00002", sample_taken=False
    )
    refused = client.post(
        f"{P}/inspections/{no_sample['id']}/lab-result", headers=inspector.headers, json=result
    )
    assert refused.status_code == 409
    tags = {e.tag for e in db_session.query(AuditEvent).filter_by(object_type="field_inspection")}
    assert "verify:inspection:lab_result" in tags
    # signed in: the trace lists the inspections with what the inspector wrote
    trace = client.get(f"{P}/lots/{packed.bags}/trace", headers=packed.account.headers).json
    shown = {item["id"]: item for item in trace["inspections"]}
    assert shown[made["id"]]["lab_result"] == result["result"]
    assert shown[made["id"]]["notes"].startswith("Ghi chú riêng")
    # A doubtful or failed check is not shown as "checked" (it would read as reassurance)
    page = client.get(_path(label["url"])).get_data(as_text=True)
    assert CHECKED not in page
    # a passed one is: the stamp's public page says only that, never the notes
    now = datetime.now(UTC).isoformat()
    _inspection(
        client, inspector, label["serial"], "lab-check-00003", result="passed", checked_at=now
    )
    page = client.get(_path(label["url"])).get_data(as_text=True)
    assert CHECKED in page
    assert "Ghi chú riêng" not in page and "Aflatoxin" not in page


def test_a_new_runs_stamp_is_not_shown_checked_by_an_inspection_before_it_was_printed(
    client,
    inspector,
    packed,  # noqa: F811
):
    """A passed check of one stamp says the lot was checked, on the pages of the runs
    printed by then; a run ordered after it does not show it (its stamps did not exist)."""
    old = _one_label(client, packed)
    passed = {"result": "passed", "checked_at": datetime.now(UTC).isoformat()}
    _inspection(client, inspector, old["serial"], "before-new-run-01", **passed)
    new = _one_label(client, packed)
    assert CHECKED in client.get(_path(old["url"])).get_data(as_text=True)
    page = client.get(_path(new["url"])).get_data(as_text=True)
    assert CHECKED not in page and "Đã được kiểm tra tại điểm bán" not in page
    # checked again after the new run was made: the lot's pages all say so, with the day
    passed["checked_at"] = datetime.now(UTC).isoformat()
    _inspection(client, inspector, old["serial"], "after-new-run-01", **passed)
    page = client.get(_path(new["url"])).get_data(as_text=True)
    assert f"{today_vn():%d/%m/%Y} · {CHECKED}" in page
    english = client.get(_path(new["url"]) + "&lang=en").get_data(as_text=True)
    assert "This lot was checked by a market inspector" in english


def test_an_inspection_time_out_of_this_world_is_refused(client, inspector, packed):  # noqa: F811
    # 9999-12-31 once broke every label page of the lot (a 500 when shown in Vietnam's time).
    label = _one_label(client, packed)
    for moment in (
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00",
        "2099-12-04T09:00:00+07:00",
    ):
        found = {
            "client_id": f"far-{moment[:4]}-0001",
            "serial": label["serial"],
            "checked_at": moment,
            "result": "passed",
        }
        sent = client.post(f"{P}/inspections", headers=inspector.headers, json=found)
        assert sent.status_code == 422, (moment, sent.json)
        assert "checked_at" in str(sent.json["errors"])
    assert client.get(_path(label["url"])).status_code == 200


def test_an_accepted_recall_proposal_recalls_the_lot_with_the_reason(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
    db_session,
):
    label = _one_label(client, packed)
    made = _inspection(client, inspector, label["serial"], "recall-check-001", proposal="recall")
    url = f"{P}/inspections/{made['id']}/decision"
    reason = "Tem giả bày bán tại chợ Gia Nghĩa"
    no_number = client.post(url, headers=admin.headers, json={"accepted": True, "reason": reason})
    assert no_number.status_code == 422 and db_session.query(Recall).count() == 0
    decided = client.post(
        url,
        headers=admin.headers,
        json={"accepted": True, "reason": reason, "decision_number": "15/QĐ-VPĐP"},
    )
    assert decided.status_code == 200, decided.json
    recall = db_session.query(Recall).one()
    assert recall.lot_id == packed.bags and recall.reason == reason
    assert recall.decision == "15/QĐ-VPĐP"
    tags = [e.tag for e in db_session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "trace:lot:recalled" in tags and tags[-1] == "verify:inspection:decided"
    # the verify API now says recalled
    answer = client.post(
        f"{P}/labels/verify", headers=inspector.headers, json={"url": label["url"]}
    ).json
    assert answer["recalled"] is True and answer["recalls"][0]["reason"] == reason
    assert datetime.fromisoformat(answer["recalls"][0]["at"]).tzinfo is not None
    # the answer, written without the schema, has the shape the schema documents
    schema = FullVerificationSchema()
    assert set(answer) == set(schema.fields)
    for name in ("label", "certificate", "product", "producer"):
        assert set(answer[name]) == set(schema.fields[name].schema.fields), name
    assert set(answer["recalls"][0]) == set(schema.fields["recalls"].inner.schema.fields)


def test_an_accepted_revocation_revokes_the_certificate_and_a_rejection_needs_a_reason(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
    db_session,
):
    label = _one_label(client, packed)
    first = _inspection(
        client, inspector, label["serial"], "revoke-check-01", proposal="revocation"
    )
    second = _inspection(client, inspector, label["serial"], "revoke-check-02", proposal="recall")
    rejected = client.post(
        f"{P}/inspections/{second['id']}/decision",
        headers=admin.headers,
        json={"accepted": False, "reason": ""},
    )
    assert rejected.status_code == 422
    decided = client.post(
        f"{P}/inspections/{first['id']}/decision",
        headers=admin.headers,
        json={"accepted": True, "reason": "Sản phẩm không đạt", "decision_number": "16/QĐ-UBND"},
    )
    assert decided.status_code == 200, decided.json
    cert = db_session.get(Certificate, packed.certificate.id)
    db_session.refresh(cert)
    assert cert.revoked_on is not None and cert.revocation_decision == "16/QĐ-UBND"
    assert cert.revocation_reason == "Sản phẩm không đạt"
    assert "certificates:certificate:revoked" in {
        e.tag for e in db_session.query(AuditEvent).filter_by(object_type="certificate")
    }
    answer = client.post(
        f"{P}/labels/verify", headers=inspector.headers, json={"url": label["url"]}
    ).json
    assert answer["certificate_status"] == "revoked"


def test_a_decision_naming_its_certificate_is_refused_when_another_is_now_in_force(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
    db_session,
):
    reviewed = packed.certificate
    made = _inspection(
        client,
        inspector,
        None,
        "revoke-named-01",
        product_id=packed.product.id,
        proposal="revocation",
    )
    url = f"{P}/inspections/{made['id']}/decision"
    decision = {"accepted": True, "reason": "Không đạt", "decision_number": "17/QĐ-UBND"}
    renewed = factories.CertificateFactory(
        product=packed.product, issue_date=today_vn() - timedelta(days=1)
    )
    db_session.flush()
    stale = client.post(
        url, headers=admin.headers, json={**decision, "certificate_id": reviewed.id}
    )
    assert stale.status_code == 409, stale.json
    assert renewed.number in stale.json["message"]
    db_session.expire_all()
    assert db_session.get(Certificate, renewed.id).revoked_on is None
    assert db_session.get(FieldInspection, made["id"]).decision is None

    named = client.post(url, headers=admin.headers, json={**decision, "certificate_id": renewed.id})
    assert named.status_code == 200, named.json
    db_session.expire_all()
    assert db_session.get(Certificate, renewed.id).revocation_decision == "17/QĐ-UBND"
    assert db_session.get(Certificate, reviewed.id).revoked_on is None
    again = client.post(url, headers=admin.headers, json={**decision, "certificate_id": renewed.id})
    assert again.status_code == 409
    assert f"đã được quyết định ngày {vn_date(today_vn())}" in again.json["message"]


def _png_of(size) -> bytes:
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG")  # a few KB that decode to size[0] × size[1]
    return out.getvalue()


def _mpo() -> bytes:
    # A JPEG with a second picture after it, as many phone cameras write.
    out = io.BytesIO()
    first, second = Image.new("RGB", (1200, 900), (10, 120, 40)), Image.new("RGB", (300, 200))
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def test_phone_jpegs_with_a_second_picture_pass_and_large_pngs_do_not(
    client,
    inspector,
    packed,  # noqa: F811
):
    label = _one_label(client, packed)
    made = _inspection(client, inspector, label["serial"], "photo-kinds-0001")
    url = f"{P}/inspections/{made['id']}/photos"
    mpo = _mpo()
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    sent = client.post(url, headers=inspector.headers, data={"file": (io.BytesIO(mpo), "a.jpg")})
    assert sent.status_code == 201, sent.json
    # 20 megapixels of PNG in a few KB: a PNG is decoded whole (3 s and 450 MB for 40 MP)
    big = _png_of((5_000, 4_000))
    refused = client.post(url, headers=inspector.headers, data={"file": (io.BytesIO(big), "b.png")})
    assert refused.status_code == 422 and "16 triệu" in refused.json["message"]


def test_inspections_and_their_photos_are_limited_per_account(
    client,
    inspector,
    packed,  # noqa: F811
    monkeypatch,
):
    from trace_service.ratelimit import Rate
    from trace_service.verify import inspection_routes

    monkeypatch.setattr(inspection_routes, "INSPECTIONS_RATE", Rate(2, 3600))
    label = _one_label(client, packed)
    for n in range(2):
        _inspection(client, inspector, label["serial"], f"rate-check-000{n}")
    found = {
        "client_id": "rate-check-0009",
        "serial": label["serial"],
        "checked_at": "2026-12-03T09:15:00+07:00",
        "result": "passed",
    }
    # from another address too: counted by account, not by where the phone is
    third = client.post(
        f"{P}/inspections",
        headers=inspector.headers,
        json=found,
        environ_base={"REMOTE_ADDR": "198.51.100.77"},
    )
    assert third.status_code == 429 and "Retry-After" in third.headers


def test_only_a_passed_check_of_a_lot_renews_the_label_pages(
    client,
    inspector,
    packed,  # noqa: F811
    db_session,
):
    # Every inspection emptied every worker's cache of every run (attacker's review).
    from sqlalchemy import select

    from trace_service.labels.models import page_versions
    from trace_service.labels.page_cache import LABEL_PAGE

    def version():
        db_session.expire_all()
        query = select(page_versions.c.version).where(page_versions.c.name == LABEL_PAGE)
        return db_session.scalar(query)

    label = _one_label(client, packed)
    before = version()
    _inspection(client, inspector, label["serial"], "cache-check-0001", result="failed")
    _inspection(client, inspector, None, "cache-check-0002", result="passed", product_id=None)
    assert version() == before
    _inspection(client, inspector, label["serial"], "cache-check-0003", result="passed")
    assert version() != before


def test_the_record_keeps_what_the_screen_said_and_the_service_judges_the_stamp_too(
    client,
    inspector,
    admin,
    packed,  # noqa: F811
):
    """A voided stamp's signature still holds: the record keeps the device's headline
    ("voided"), and the service's own verdict on the scanned text for the day of the check,
    so an offline device's old data shows beside what the service knew (a new user's review)."""
    from trace_service.db import utcnow

    label = _one_label(client, packed)
    voided = client.post(
        f"{P}/print-runs/{label['run_id']}/voids",
        headers=packed.account.headers,
        json={"sequences": [label["seq"]], "reason": "Tem in lỗi"},
    )
    assert voided.status_code == 200, voided.json
    now = utcnow().isoformat()
    seen = _inspection(
        client,
        inspector,
        label["serial"],
        "voided-0001",
        checked_at=now,
        verdict="voided",
        scanned=label["url"],
        proposal="recall",
    )
    assert (seen["verdict"], seen["service_verdict"]) == ("voided", "voided")
    assert "scanned" not in seen  # read, not kept
    # a device whose data predates the void showed "genuine": the service says otherwise
    stale = _inspection(
        client,
        inspector,
        label["serial"],
        "voided-0002",
        checked_at=now,
        verdict="genuine",
        scanned=label["url"],
    )
    assert (stale["verdict"], stale["service_verdict"]) == ("genuine", "voided")
    # judged for the day of the check: the day before the void, the stamp was in use
    before = _inspection(
        client,
        inspector,
        label["serial"],
        "voided-0003",
        verdict="genuine",
        checked_at=(utcnow() - timedelta(days=2)).isoformat(),
        scanned=label["url"],
    )
    assert before["service_verdict"] == "genuine"
    head, signature = label["url"].split("?S=")
    forged = _inspection(
        client,
        inspector,
        None,
        "forged-0001",
        checked_at=now,
        verdict="not_confirmed",
        scanned=f"{head}?S={signature[:-2]}AA",
        result="failed",
    )
    assert forged["service_verdict"] == "not_confirmed"
    untold = _inspection(client, inspector, label["serial"], "no-text-0001", verdict=None)
    assert untold["service_verdict"] is None  # nothing scanned (the code typed by hand)
    found = {**_FOUND_BASE, "client_id": "made-up-0001", "checked_at": now}
    for verdict in ("fine", "x" * 40):
        refused = client.post(
            f"{P}/inspections", headers=inspector.headers, json={**found, "verdict": verdict}
        )
        assert refused.status_code == 422, refused.json
    too_long = {**found, "verdict": "voided", "scanned": "x" * 2001}
    assert (
        client.post(f"{P}/inspections", headers=inspector.headers, json=too_long).status_code == 422
    )
