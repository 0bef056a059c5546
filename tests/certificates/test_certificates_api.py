"""Evaluations and certificates through the API, as the province office uses them."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from tests import factories
from trace_service.certificates.expiry import sweep
from trace_service.certificates.models import ExpiryNotice
from trace_service.certificates.rules import CouncilLevel
from trace_service.clock import today_vn
from trace_service.db import utcnow
from trace_service.principal import system_principal

P = "/api/v1"


@pytest.fixture
def units(db_session):
    province = factories.ProvinceFactory(name="Tỉnh Đắk Nông")
    return {
        "province": province,
        "dak_mil": factories.DistrictFactory(name="Huyện Đắk Mil", parent=province),
        "cu_jut": factories.DistrictFactory(name="Huyện Cư Jút", parent=province),
    }


def _evaluation(product, unit, level="district", day="2024-08-20", a=30, b=15, c=15, **extra):
    return {
        "product_id": product.id,
        "council_level": level,
        "council_unit_id": unit.id,
        "evaluated_on": day,
        "score_a": a,
        "score_b": b,
        "score_c": c,
        "mandatory_met": True,
        "reference": "Biên bản số 07/BB-HĐ",
        **extra,
    }


def _certificate(evaluation_id, number="GCN-2024-001", day="2024-09-05"):
    return {
        "evaluation_id": evaluation_id,
        "number": number,
        "decision_number": "1234/QĐ-UBND",
        "decision_date": day,
        "issue_date": day,
    }


def test_a_district_council_rates_and_certifies_a_three_star_product(client, admin, units):
    product = factories.ProductFactory()
    evaluation = client.post(
        f"{P}/evaluations", headers=admin.headers, json=_evaluation(product, units["dak_mil"])
    )
    assert evaluation.status_code == 201, evaluation.json
    assert (evaluation.json["total"], evaluation.json["star"]) == (60, 3)
    cert = client.post(
        f"{P}/certificates", headers=admin.headers, json=_certificate(evaluation.json["id"])
    )
    assert cert.status_code == 201, cert.json
    assert cert.json["valid_until"] == "2027-09-05"
    assert cert.json["issuing_authority"] == "UBND huyện Đắk Mil"
    assert cert.json["status"] == "valid" and cert.json["status_vi"] == "Còn hiệu lực"
    verdict = client.get(f"{P}/products/{product.id}/label-status", headers=admin.headers).json
    assert verdict["allowed"] is True and verdict["star"] == 3


@pytest.mark.parametrize(
    "change, field",
    [
        ({"score_a": 41}, "score_a"),
        ({"score_b": -1}, "score_b"),
        ({"score_c": 36}, "score_c"),
        ({"total": 80}, "total"),
        ({"score_a": "30"}, "score_a"),
        ({"mandatory_met": "yes"}, "mandatory_met"),
    ],
)
def test_scores_out_of_range_or_not_adding_up_are_refused(client, admin, units, change, field):
    product = factories.ProductFactory()
    response = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json={**_evaluation(product, units["dak_mil"]), **change},
    )
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_district_council_may_not_certify_four_stars_and_says_why(client, admin, units):
    product = factories.ProductFactory()
    response = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json=_evaluation(product, units["dak_mil"], a=35, b=20, c=20),
    )
    assert response.status_code == 422
    assert "district council could not certify 4★" in response.json["message_en"]
    assert "province 4★" in response.json["message_en"]


def test_from_6_july_2025_the_province_certifies_three_stars(client, admin, units):
    product = factories.ProductFactory()
    by_district = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json=_evaluation(product, units["dak_mil"], day="2025-07-06"),
    )
    assert by_district.status_code == 422
    by_province = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json=_evaluation(product, units["province"], level="province", day="2025-07-06"),
    )
    assert by_province.status_code == 201, by_province.json


def test_a_failed_mandatory_criterion_gives_no_certificate(client, admin, units):
    product = factories.ProductFactory()
    evaluation = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json=_evaluation(product, units["dak_mil"], mandatory_met=False),
    ).json
    assert evaluation["star"] is None
    response = client.post(
        f"{P}/certificates", headers=admin.headers, json=_certificate(evaluation["id"])
    )
    assert response.status_code == 422
    assert "not certified" in response.json["message_en"]


def test_a_certificate_cannot_be_issued_before_its_evaluation(client, admin, units):
    evaluation = factories.EvaluationFactory(evaluated_on=date(2024, 8, 20))
    response = client.post(
        f"{P}/certificates",
        headers=admin.headers,
        json=_certificate(evaluation.id, day="2024-08-19"),
    )
    assert response.status_code == 422
    assert "before its evaluation" in response.json["errors"]["json"]["issue_date"][0]


def test_a_duplicate_certificate_number_is_a_conflict(client, admin):
    factories.CertificateFactory(number="GCN-2024-001")
    evaluation = factories.EvaluationFactory()
    response = client.post(
        f"{P}/certificates",
        headers=admin.headers,
        json=_certificate(evaluation.id, day="2024-09-05"),
    )
    assert response.status_code == 409
    assert response.json["errors"]["json"]["number"]


def test_an_evaluation_gets_one_certificate_only(client, admin):
    cert = factories.CertificateFactory()
    response = client.post(
        f"{P}/certificates",
        headers=admin.headers,
        json=_certificate(cert.evaluation_id, number="OTHER"),
    )
    assert response.status_code == 409


def test_revoking_stops_labels_at_once_and_cannot_be_repeated(client, admin):
    cert = factories.CertificateFactory(issue_date=today_vn() - timedelta(days=100))
    body = {
        "revoked_on": today_vn().isoformat(),
        "decision": "45/QĐ-UBND",
        "reason": "Không duy trì hồ sơ truy xuất nguồn gốc",
    }
    revoked = client.post(
        f"{P}/certificates/{cert.id}/revocation", headers=admin.headers, json=body
    )
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["status"] == "revoked"
    verdict = client.get(f"{P}/products/{cert.product_id}/label-status", headers=admin.headers).json
    assert (verdict["allowed"], verdict["code"]) == (False, "revoked")
    again = client.post(f"{P}/certificates/{cert.id}/revocation", headers=admin.headers, json=body)
    assert again.status_code == 409
    assert "Already revoked" in again.json["message_en"]


def test_a_re_evaluation_supersedes_the_old_certificate_and_keeps_the_history(client, admin):
    old = factories.CertificateFactory(issue_date=date(2021, 10, 1))
    # Decision 148/QĐ-TTg: a 3★ certificate of 2024 is a district's.
    evaluation = factories.EvaluationFactory(
        product=old.product,
        evaluated_on=date(2024, 9, 1),
        council_level="district",
        council_unit=factories.DistrictFactory(),
    )
    new = client.post(
        f"{P}/certificates",
        headers=admin.headers,
        json=_certificate(evaluation.id, day="2024-09-20"),
    )
    assert new.status_code == 201, new.json
    old_now = client.get(f"{P}/certificates/{old.id}", headers=admin.headers).json
    assert old_now["status"] == "superseded"
    assert old_now["superseded_by_id"] == new.json["id"]
    history = client.get(
        f"{P}/certificates?product_id={old.product_id}", headers=admin.headers
    ).json
    assert [c["id"] for c in history["items"]] == [old.id, new.json["id"]]


def test_an_expired_certificate_stops_labels_and_says_since_when(client, admin):
    cert = factories.CertificateFactory(issue_date=date(2021, 3, 15))
    verdict = client.get(f"{P}/products/{cert.product_id}/label-status", headers=admin.headers).json
    assert (verdict["allowed"], verdict["code"]) == (False, "expired")
    assert "15/03/2024" in verdict["message"]


def test_one_request_answers_what_expires_in_90_days_in_dak_mil_and_who_was_told(
    client, admin, units, db_session
):
    today = today_vn()
    in_dak_mil = factories.CommuneFactory(parent=units["dak_mil"])
    elsewhere = factories.CommuneFactory(parent=units["cu_jut"])

    def cert(commune, days_left, email="htx@example.vn"):
        producer = factories.ProducerFactory(commune=commune, email=email)
        last_day = today + timedelta(days=days_left)
        return factories.CertificateFactory(
            product=factories.ProductFactory(producer=producer),
            issue_date=last_day - timedelta(days=1095),
            valid_until=last_day,
        )

    soon = cert(in_dak_mil, 20)
    later = cert(in_dak_mil, 75, email=None)
    cert(in_dak_mil, 200)
    cert(elsewhere, 20)
    sweep(db_session, system_principal("test"), today, now=utcnow())
    response = client.get(
        f"{P}/certificates",
        headers=admin.headers,
        query_string={"expiring_within_days": 90, "district_id": units["dak_mil"].id},
    )
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert [c["id"] for c in items] == [soon.id, later.id]  # soonest first
    notice = items[0]["notices"][0]
    assert notice["threshold_days"] == 30
    assert notice["letter_url"].endswith("/letter.pdf")
    assert notice["deliveries"][0]["recipient"] == "htx@example.vn"
    assert items[1]["notices"][0]["deliveries"][0]["status"] == "undeliverable"
    letter = client.get(notice["letter_url"], headers=admin.headers)
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")


def test_status_filters_find_expired_ones_not_re_evaluated(client, inspector, db_session):
    expired = factories.CertificateFactory(issue_date=date(2021, 5, 1))
    renewed_old = factories.CertificateFactory(issue_date=date(2021, 5, 2))
    renewed_new = factories.CertificateFactory(
        product=renewed_old.product, issue_date=today_vn() - timedelta(days=30)
    )
    renewed_old.superseded_by, renewed_old.superseded_on = renewed_new, renewed_new.issue_date
    db_session.flush()
    response = client.get(f"{P}/certificates?status=expired", headers=inspector.headers)
    ids = [c["id"] for c in response.json["items"]]
    assert expired.id in ids and renewed_old.id not in ids
    both = client.get(f"{P}/certificates?status=expired,superseded", headers=inspector.headers)
    assert {expired.id, renewed_old.id} <= {c["id"] for c in both.json["items"]}


def test_stats_count_standing_certificates_by_star(client, inspector):
    today = today_vn()
    factories.CertificateFactory(issue_date=today - timedelta(days=10))
    four = factories.EvaluationFactory(score_a=35, score_b=20, score_c=20)
    factories.CertificateFactory(
        issue_date=today - timedelta(days=10), evaluation=four, product=four.product
    )
    factories.CertificateFactory(issue_date=date(2020, 1, 1))
    stats = client.get(f"{P}/certificates/stats", headers=inspector.headers).json
    assert stats["standing_by_star"] == {"3": 1, "4": 1, "5": 0}
    assert stats["by_status"]["expired"] == 1 and stats["by_status"]["valid"] == 2


def test_the_plan_report_sets_2025_targets_beside_actual_figures(client, inspector, units):
    commune = factories.CommuneFactory(parent=units["dak_mil"])
    product = factories.ProductFactory(producer=factories.ProducerFactory(commune=commune))
    evaluation = factories.EvaluationFactory(
        product=product,
        council_level=CouncilLevel.DISTRICT,
        council_unit=units["dak_mil"],
        evaluated_on=date(2025, 3, 1),
    )
    factories.CertificateFactory(
        product=product, evaluation=evaluation, issue_date=date(2025, 3, 20)
    )
    factories.DossierFactory(product=product, registered_on=date(2025, 2, 1))
    report = client.get(f"{P}/reports/ocop-plan?year=2025", headers=inspector.headers).json
    targets = {t["key"]: t for t in report["targets"]}
    assert targets["entered_3_star"]["actual"] == 1 and targets["entered_3_star"]["target"] == 30
    assert targets["ecommerce_share_pct"]["actual"] == 0.0
    assert targets["ecommerce_share_pct"]["met"] is False
    dak_mil = next(d for d in report["per_district"] if d["unit_id"] == units["dak_mil"].id)
    assert (dak_mil["products_certified"], dak_mil["met"]) == (1, False)


def test_an_import_is_checked_then_made_whole(client, admin, units):
    producer = factories.ProducerFactory(registration_code="6400123456")
    factories.ProductFactory(producer=producer, name_vi="Mật ong hoa cà phê")
    good = (
        "Số GCN,Số QĐ,Ngày QĐ,Cơ quan cấp,MST,Tên sản phẩm,Số sao,Ngày cấp\n"
        "DNO-2023-001,12/QĐ-UBND,10/05/2023,UBND huyện Đắk Mil,6400123456,"
        "Mật ong hoa cà phê,3,10/05/2023\n"
    )
    bad = good + "DNO-2023-001,13/QĐ-UBND,11/05/2023,UBND huyện Đắk Mil,6400123456,Không có,3,x\n"

    def upload(text, dry_run):
        return client.post(
            f"{P}/certificates/import?dry_run={str(dry_run).lower()}",
            headers=admin.headers,
            data={"file": (io.BytesIO(text.encode()), "ds.csv")},
        )

    checked = upload(bad, True)
    assert checked.status_code == 200 and checked.json["ok"] is False
    assert checked.json["rows"][1]["problems"]
    refused = upload(bad, False)
    assert refused.status_code == 422
    # the repeated number is reported on both lines, each naming the other
    assert [row["line"] for row in refused.json["errors"]["rows"]] == [2, 3]
    assert client.get(f"{P}/certificates", headers=admin.headers).json["total"] == 0
    done = upload(good, False)
    assert done.status_code == 200, done.json
    assert done.json["imported"] == 1
    listed = client.get(f"{P}/certificates", headers=admin.headers).json["items"]
    assert listed[0]["valid_until"] == "2026-05-10"


def test_a_council_of_an_abolished_district_cannot_rate(client, admin):
    old = factories.DistrictFactory(name="Huyện Đắk Mil", valid_to=date(2025, 6, 30))
    product = factories.ProductFactory()
    response = client.post(
        f"{P}/evaluations",
        headers=admin.headers,
        json=_evaluation(product, old, day="2025-07-02", a=20),
    )
    assert response.status_code == 422
    assert "did not exist on 2025-07-02" in response.json["errors"]["json"]["council_unit_id"][0]


@pytest.mark.parametrize("days_ahead", [1, 30])
def test_certificates_and_revocations_cannot_be_dated_in_the_future(client, admin, days_ahead):
    future = (today_vn() + timedelta(days=days_ahead)).isoformat()
    evaluation = factories.EvaluationFactory()
    issued = client.post(
        f"{P}/certificates", headers=admin.headers, json=_certificate(evaluation.id, day=future)
    )
    assert issued.status_code == 422 and "issue_date" in issued.json["errors"]["json"]
    cert = factories.CertificateFactory()
    revoked = client.post(
        f"{P}/certificates/{cert.id}/revocation",
        headers=admin.headers,
        json={"revoked_on": future, "decision": "1/QĐ", "reason": "Thử"},
    )
    assert revoked.status_code == 422 and "revoked_on" in revoked.json["errors"]["json"]


@pytest.mark.parametrize(
    "change", [{"name_vi": "Rượu cần Thuận An"}, {"product_group": "handicrafts"}, {"gtin": None}]
)
def test_a_producer_cannot_turn_a_certified_product_into_another(
    client, producer_account, admin, change
):
    product = factories.ProductFactory(producer=producer_account.user.producer)
    cert = factories.CertificateFactory(product=product, issue_date=today_vn())
    refused = client.patch(
        f"{P}/products/{product.id}", headers=producer_account.headers, json=change
    )
    assert refused.status_code == 403
    assert "province office" in refused.json["message_en"]
    allowed = client.patch(
        f"{P}/products/{product.id}",
        headers=producer_account.headers,
        json={"description": "Đóng gói mới 500 g"},
    )
    assert allowed.status_code == 200
    fixed_by_office = client.patch(
        f"{P}/products/{product.id}",
        headers=admin.headers,
        json={"name_vi": "Cà phê bột Đắk Mil (sửa chính tả)"},
    )
    assert fixed_by_office.status_code == 200
    certificate = client.get(f"{P}/certificates/{cert.id}", headers=admin.headers).json
    assert certificate["product_name"] == product.name_vi != "Cà phê bột Đắk Mil (sửa chính tả)"


def test_a_producer_registered_after_the_merger_still_counts_in_its_old_district(
    client, admin, units
):
    old = factories.CommuneFactory(
        name="Xã Đức Mạnh", parent=units["dak_mil"], valid_to=date(2025, 6, 30)
    )
    new = factories.CommuneFactory(
        name="Xã Đắk Mil", parent=units["province"], valid_from=date(2025, 7, 1)
    )
    old.successor = new
    producer = factories.ProducerFactory(commune=new)
    product = factories.ProductFactory(producer=producer)
    cert = factories.CertificateFactory(product=product, issue_date=date(2025, 9, 1))
    district = units["dak_mil"].id
    producers = client.get(f"{P}/producers?district_id={district}", headers=admin.headers).json
    assert [p["id"] for p in producers["items"]] == [producer.id]
    certs = client.get(f"{P}/certificates?district_id={district}", headers=admin.headers).json
    assert [c["id"] for c in certs["items"]] == [cert.id]
    report = client.get(f"{P}/reports/ocop-plan?year=2025", headers=admin.headers).json
    dak_mil = next(d for d in report["per_district"] if d["unit_id"] == district)
    assert dak_mil["products_certified"] == 1


def test_the_letter_copies_the_authority_that_holds_the_powers_today(
    client, admin, units, db_session
):
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    units["dak_mil"].valid_to = date(2025, 6, 30)
    units["dak_mil"].successor = factories.ProvinceFactory(
        name="Tỉnh Lâm Đồng", valid_from=date(2025, 7, 1)
    )
    last_day = today_vn() + timedelta(days=25)
    cert = factories.CertificateFactory(
        issuing_unit=units["dak_mil"],
        issuing_authority="UBND huyện Đắk Mil",
        issue_date=date(last_day.year - 3, last_day.month, min(last_day.day, 28)),
        valid_until=last_day,
    )
    sweep(db_session, system_principal("test"), today_vn(), now=utcnow())
    notice = client.get(f"{P}/certificates/{cert.id}", headers=admin.headers).json["notices"][0]
    pdf = client.get(notice["letter_url"], headers=admin.headers).data
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "UBND huyện Đắk Mil" in text  # the issuer, as it was
    assert "UBND tỉnh Lâm Đồng (để biết)" in text  # the copy, to who holds its powers now
    assert "/api/v1/" not in text  # no link a reader of paper cannot open


def test_nobody_sees_the_webhook_address_in_the_notices(client, admin, db_session):
    last_day = today_vn() + timedelta(days=20)
    cert = factories.CertificateFactory(
        issue_date=last_day - timedelta(days=1095), valid_until=last_day
    )
    sweep(
        db_session,
        system_principal("test"),
        today_vn(),
        webhook_url="https://hooks.example.org/services/T000/SECRET-TOKEN",
        now=utcnow(),
    )
    body = client.get(f"{P}/certificates/{cert.id}", headers=admin.headers).get_data(as_text=True)
    assert "SECRET-TOKEN" not in body
    assert '"channel":"webhook"' in body.replace(" ", "")


def test_an_empty_status_filter_is_refused_not_ignored(client, admin):
    response = client.get(f"{P}/certificates?status=", headers=admin.headers)
    assert response.status_code == 422
    assert "status" in response.json["errors"]["query"]


@pytest.mark.parametrize(
    "body",
    [{"area_ha": 10**400}, {"geometry": {"type": "Point", "coordinates": [10**400, 1]}}],
    ids=["area", "coordinate"],
)
def test_a_number_too_large_for_a_float_is_refused_not_a_500(client, admin, body):
    area = factories.AreaFactory()
    response = client.patch(f"{P}/areas/{area.id}", headers=admin.headers, json=body)
    assert response.status_code == 422, response.json


def test_the_expired_notice_comes_the_day_after_the_last_valid_day(db_session):
    from sqlalchemy import select

    from trace_service.certificates.models import ExpiryNotice
    from trace_service.certificates.notices import subject

    last_day = date(2026, 11, 28)
    cert = factories.CertificateFactory(issue_date=date(2023, 11, 28), valid_until=last_day)
    for day in (last_day, last_day + timedelta(days=1)):
        sweep(db_session, system_principal("test"), day, now=utcnow())
    notices = db_session.scalars(
        select(ExpiryNotice)
        .where(ExpiryNotice.certificate_id == cert.id)
        .order_by(ExpiryNotice.swept_on)
    ).all()
    assert [(n.threshold_days, n.swept_on) for n in notices] == [
        (30, last_day),
        (0, last_day + timedelta(days=1)),
    ]
    assert "hôm nay là ngày hiệu lực cuối cùng" in subject(notices[0])
    assert "đã hết hiệu lực" in subject(notices[1])


def test_a_year_without_a_plan_is_not_found(client, inspector):
    response = client.get(f"{P}/reports/ocop-plan?year=2024", headers=inspector.headers)
    assert response.status_code == 404
    assert "2025" in response.json["message_en"]


def test_stats_count_post_merger_producers_in_their_old_district(client, inspector, units):
    old = factories.CommuneFactory(parent=units["dak_mil"], valid_to=date(2025, 6, 30))
    new = factories.CommuneFactory(parent=units["province"], valid_from=date(2025, 7, 1))
    old.successor = new
    producer = factories.ProducerFactory(commune=new)
    factories.CertificateFactory(
        product=factories.ProductFactory(producer=producer),
        issue_date=today_vn() - timedelta(days=200),
    )
    stats = client.get(f"{P}/certificates/stats", headers=inspector.headers).json
    dak_mil = next(u for u in stats["by_unit"] if u["unit_id"] == units["dak_mil"].id)
    assert dak_mil["by_status"] == {"valid": 1}


@pytest.mark.parametrize("unit", ["missing", "commune", "abolished"])
def test_the_issuing_unit_must_exist_be_a_district_or_province_and_exist_that_day(
    client, admin, unit
):
    evaluation = factories.EvaluationFactory()
    unit_id = {
        "missing": 10**12,
        "commune": lambda: factories.CommuneFactory().id,
        "abolished": lambda: factories.DistrictFactory(valid_to=date(2024, 1, 1)).id,
    }[unit]
    body = {
        **_certificate(evaluation.id),
        "issuing_unit_id": unit_id if unit == "missing" else unit_id(),
    }
    response = client.post(f"{P}/certificates", headers=admin.headers, json=body)
    assert response.status_code == 422, response.json
    assert "issuing_unit_id" in response.json["errors"]["json"]


def test_the_plan_counts_entries_by_the_star_registered_for_not_the_total(client, inspector, units):
    """Issue 16: after 6 Jul 2025 the province rates both 3★ and 4★; a product entered for
    4★ that scores 69 was still entered for 4★ (the plan counts dossiers, not totals)."""
    for total, star in ((69, 4), (70, 4), (85, 3)):
        evaluation = factories.EvaluationFactory(
            council_level=CouncilLevel.PROVINCE,
            council_unit=units["province"],
            evaluated_on=date(2025, 8, 1),
            score_a=35,
            score_b=20,
            score_c=total - 55,
        )
        factories.DossierFactory(product=evaluation.product, target_star=star)
    report = client.get(f"{P}/reports/ocop-plan?year=2025", headers=inspector.headers).json
    targets = {t["key"]: t["actual"] for t in report["targets"]}
    assert (targets["entered_3_star"], targets["entered_4_star"]) == (1, 2)


def test_a_producer_sees_only_its_own_evaluations_certificates_and_letters(
    client, producer_account, db_session
):
    mine = factories.ProductFactory(producer=producer_account.user.producer)
    my_cert = factories.CertificateFactory(product=mine, issue_date=date(2023, 1, 5))
    their_cert = factories.CertificateFactory(issue_date=date(2023, 1, 5))
    letters = {}
    for cert in (my_cert, their_cert):
        notice = ExpiryNotice(
            certificate=cert,
            threshold_days=30,
            valid_until=cert.valid_until,
            swept_on=cert.valid_until - timedelta(days=30),
        )
        db_session.add(notice)
        db_session.flush()
        letters[cert.id] = f"{P}/expiry-notices/{notice.id}/letter.pdf"
    h = producer_account.headers

    evaluations = client.get(f"{P}/evaluations", headers=h).json["items"]
    assert [e["id"] for e in evaluations] == [my_cert.evaluation_id]
    assert client.get(f"{P}/evaluations/{their_cert.evaluation_id}", headers=h).status_code == 404
    certificates = client.get(f"{P}/certificates", headers=h).json["items"]
    assert [c["id"] for c in certificates] == [my_cert.id]
    assert client.get(f"{P}/certificates/{their_cert.id}", headers=h).status_code == 404
    assert client.get(letters[my_cert.id], headers=h).status_code == 200
    refused = client.get(letters[their_cert.id], headers=h)
    assert (
        refused.status_code == 404 and refused.json["message_en"] == "No 30-day letter has this id."
    )


def test_a_certificate_shows_its_status_in_both_languages_and_pending_is_one(client, admin):
    cert = factories.CertificateFactory(issue_date=today_vn() - timedelta(days=1040))
    shown = client.get(f"{P}/certificates/{cert.id}", headers=admin.headers).json
    assert (shown["status"], shown["status_vi"], shown["status_en"]) == (
        "expiring",
        "Còn hiệu lực, sắp hết hạn",
        "Valid, expiring soon",
    )
    spec = client.get(f"{P}/openapi.json").json
    assert "pending" in spec["components"]["schemas"]["Certificate"]["properties"]["status"]["enum"]
    stats = client.get(f"{P}/certificates/stats", headers=admin.headers).json
    assert stats["by_status"]["pending"] == 0


def test_do_the_certificates_routes_leave_queries_and_scoping_to_the_services():
    from pathlib import Path

    import trace_service.certificates as package

    folder = Path(package.__file__).parent
    routes = (folder / "routes.py").read_text()
    assert "sqlalchemy" not in routes and "select(" not in routes
    # Whose record it is belongs to auth/scoping.py; role rules (only the office may change a
    # certified product's name) stay with the rule they belong to.
    for path in folder.glob("*.py"):
        text = path.read_text()
        assert "actor.owns(" not in text and "producer_id ==" not in text, path.name


def test_a_certificate_older_than_the_products_open_one_is_refused_naming_it(client, admin):
    open_one = factories.CertificateFactory(number="GCN-2024", issue_date=date(2024, 9, 1))
    evaluation = factories.EvaluationFactory(
        product=open_one.product,
        evaluated_on=date(2023, 5, 1),
        council_level="district",  # Decision 148/QĐ-TTg: 3★ is a district's
        council_unit=factories.DistrictFactory(),
    )
    response = client.post(
        f"{P}/certificates",
        headers=admin.headers,
        json=_certificate(evaluation.id, number="GCN-2023", day="2023-06-01"),
    )
    assert response.status_code == 422
    assert response.json["message_en"] == (
        "The product has a newer certificate already: GCN-2024, issued 2024-09-01."
    )
    assert "issue_date" in response.json["errors"]["json"]


def test_only_the_30_day_notice_has_a_letter(client, admin, db_session):
    cert = factories.CertificateFactory()
    notice = ExpiryNotice(
        certificate=cert, threshold_days=60, valid_until=cert.valid_until, swept_on=date(2026, 8, 2)
    )
    db_session.add(notice)
    db_session.flush()
    response = client.get(f"{P}/expiry-notices/{notice.id}/letter.pdf", headers=admin.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("field", ["number", "decision_number"])
def test_a_certificate_number_that_starts_like_a_formula_is_refused(client, admin, units, field):
    product = factories.ProductFactory()
    evaluation = client.post(
        f"{P}/evaluations", headers=admin.headers, json=_evaluation(product, units["dak_mil"])
    )
    body = _certificate(evaluation.json["id"])
    body[field] = '=HYPERLINK("http://x")'
    response = client.post(f"{P}/certificates", headers=admin.headers, json=body)
    assert response.status_code == 422
    assert "formula" in response.json["errors"]["json"][field][0]
