"""The plan board counts what the province's plan counts (Kế hoạch 93/KH-UBND, 19/02/2025):
products registered for the year's evaluation, dossiers submitted against the plan's days
(3★ ratings by 10/9, dossiers to the province by 15/9, national dossiers by 15/10), and
listings by their dates on e-commerce platforms; each figure says how it was counted."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from tests import factories
from trace_service.certificates.reports import plan_report
from trace_service.registry.enums import Platform
from trace_service.registry.models import Listing

DAY = date(2025, 11, 1)


def _targets(session: Session) -> dict[str, dict]:
    return {t["key"]: t for t in plan_report(session, 2025, DAY)["targets"]}


def test_plan_93_entries_are_the_years_registered_candidates_not_ratings(db_session):
    """ "Từ 30 sản phẩm trở lên dự thi OCOP 3 sao … từ 05 sản phẩm … 4 sao cấp tỉnh": the
    products registered for the round, rated or not; a 2024 dossier is not counted."""
    for _ in range(2):
        factories.DossierFactory()
    factories.DossierFactory(target_star=4)
    factories.DossierFactory(year=2024, registered_on=date(2024, 3, 1))
    factories.EvaluationFactory(evaluated_on=date(2025, 3, 1))  # rated, never registered
    targets = _targets(db_session)
    assert (targets["entered_3_star"]["actual"], targets["entered_4_star"]["actual"]) == (2, 1)
    assert "2025" in targets["entered_3_star"]["counted"]
    assert "registered" in targets["entered_3_star"]["counted_en"]


def test_plan_93_national_dossiers_are_those_submitted_by_15_october(db_session):
    """ "Nộp hồ sơ dự thi sản phẩm OCOP cấp Quốc gia … trước 15/10/2025": submitted dossiers
    by that day count; a later one is said, not counted; central ratings are not dossiers."""
    factories.DossierFactory(target_star=5, submitted_on=date(2025, 10, 20))
    national = _targets(db_session)["national_dossiers"]
    assert (national["actual"], national["met"], national["deadline"]) == (0, False, "2025-10-15")
    assert "1 submitted after the deadline" in national["counted_en"]
    factories.DossierFactory(target_star=5, submitted_on=date(2025, 10, 14))
    assert _targets(db_session)["national_dossiers"]["actual"] == 1


def test_plan_93_deadlines_ratings_by_10_9_and_4_star_dossiers_by_15_9(db_session):
    """ "Cấp huyện tổ chức đánh giá … trước ngày 10/9/2025, nộp hồ sơ … cấp tỉnh … trước
    ngày 15/9/2025": each figure against all the year's candidates for that star."""
    on_time = factories.DossierFactory()
    factories.EvaluationFactory(product=on_time.product, evaluated_on=date(2025, 6, 1))
    late = factories.DossierFactory()
    factories.EvaluationFactory(product=late.product, evaluated_on=date(2025, 9, 20))
    factories.DossierFactory(target_star=4, submitted_on=date(2025, 9, 15))
    factories.DossierFactory(target_star=4, submitted_on=date(2025, 9, 16))
    targets = _targets(db_session)
    rated = targets["rated_3_star_by_deadline"]
    assert (rated["actual"], rated["target"], rated["deadline"]) == (1, 2, "2025-09-10")
    submitted = targets["submitted_4_star_by_deadline"]
    assert (submitted["actual"], submitted["target"], submitted["met"]) == (1, 2, False)
    assert "1 submitted late" in submitted["counted_en"]


def test_plan_93_e_commerce_counts_marketplaces_by_the_listings_dates(db_session):
    """ "Mỗi sản phẩm OCOP được đưa lên ít nhất một sàn giao dịch thương mại điện tử": a
    Facebook page or the producer's own site is no platform; a listing dated after the day
    asked or undated does not count (the undated ones are said)."""
    certs = [factories.CertificateFactory(issue_date=date(2025, 3, 1)) for _ in range(4)]
    listings = [
        (Platform.SHOPEE, "https://shopee.vn/a", date(2025, 5, 1)),
        (Platform.FACEBOOK, "https://facebook.com/b", date(2025, 5, 1)),
        (Platform.TIKI, "https://tiki.vn/c", date(2025, 12, 1)),  # after the day asked
        (Platform.LAZADA, "https://lazada.vn/d", None),
    ]
    for cert, (platform, url, day) in zip(certs, listings, strict=True):
        db_session.add(
            Listing(product_id=cert.product_id, platform=platform, url=url, listed_on=day)
        )
    db_session.flush()
    report = plan_report(db_session, 2025, DAY)
    share = {t["key"]: t for t in report["targets"]}["ecommerce_share_pct"]
    assert share["actual"] == 25.0 and share["met"] is False
    assert "1 with undated listings only are not counted" in share["counted_en"]
    assert "facebook" not in report["ecommerce_platforms"]
    assert "shopee" in report["ecommerce_platforms"]


def test_plan_93_the_office_records_a_dossier_and_the_board_counts_it(client, admin, inspector):
    """The board's figures come from records the office keeps through the API, audited; one
    dossier per product and year, its dates in order, each refusal naming its field."""
    product = factories.ProductFactory()
    body = {
        "product_id": product.id,
        "year": 2025,
        "target_star": 5,
        "registered_on": "2025-03-01",
        "submitted_on": "2025-10-01",
        "reference": "HS-2025-0001",
    }
    made = client.post("/api/v1/ocop-dossiers", headers=admin.headers, json=body)
    assert made.status_code == 201, made.json
    assert made.json["submitted_on"] == "2025-10-01"
    again = client.post("/api/v1/ocop-dossiers", headers=admin.headers, json=body)
    assert again.status_code == 409 and "year" in again.json["errors"]["json"]
    other = factories.ProductFactory()
    for wrong, field in (
        ({"submitted_on": "2025-02-01"}, "submitted_on"),
        ({"registered_on": "2024-12-30"}, "registered_on"),
        ({"target_star": 2}, "target_star"),
    ):
        refused = client.post(
            "/api/v1/ocop-dossiers",
            headers=admin.headers,
            json=body | {"product_id": other.id} | wrong,
        )
        assert refused.status_code == 422 and field in refused.json["errors"]["json"], wrong
    report = client.get("/api/v1/reports/ocop-plan?year=2025", headers=inspector.headers).json
    national = {t["key"]: t for t in report["targets"]}["national_dossiers"]
    assert (national["actual"], national["met"]) == (1, True)
    listed = client.get("/api/v1/ocop-dossiers?year=2025", headers=inspector.headers).json
    assert [d["product_id"] for d in listed["items"]] == [product.id]
