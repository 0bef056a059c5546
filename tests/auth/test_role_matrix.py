"""Every API route, called by every role, answers exactly as the access rules say.

``producer_own`` is producer A's account reaching A's records; ``producer_other`` is producer
B's account reaching the same records of A. A route added to the app without a row here fails
``test_the_matrix_covers_every_api_route``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import Account, make_account
from trace_service.auth.services import principal_of
from trace_service.certificates.models import ExpiryNotice
from trace_service.principal import Role, system_principal
from trace_service.trace.services import attach_file, record_harvest


def _jpeg() -> bytes:
    """A real (tiny) JPEG: photos are decoded and drawn again, so a few marker bytes fail."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 120, 60)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()
ROLES = ("anonymous", "admin", "inspector", "producer_own", "producer_other")


@dataclass
class World:
    district: Any
    commune: Any
    producer_a: Any
    producer_b: Any
    producer_empty: Any
    product_a: Any
    area_a: Any
    accounts: dict[str, Account]
    province: Any = None
    certificate_a: Any = None
    evaluation_uncertified: Any = None
    letter_notice: Any = None
    product_without_history: Any = None
    lot_a: Any = None
    area_without_history: Any = None
    attachment_a: Any = None
    harvest_a: Any = None
    packed_a: Any = None
    weighed_a: Any = None
    run_a: Any = None
    serial_a: str = ""
    url_a: str = ""
    report_a: Any = None


@pytest.fixture
def world(app, db_session) -> World:
    district = factories.DistrictFactory()
    commune = factories.CommuneFactory(parent=district)
    producer_a = factories.ProducerFactory(commune=commune)
    producer_b = factories.ProducerFactory(commune=commune)
    province = district.parent
    product_a = factories.ProductFactory(producer=producer_a)
    certificate_a = factories.CertificateFactory(
        product=product_a, issue_date=date(2024, 1, 10), evaluation__council_unit=province
    )
    notice = ExpiryNotice(
        certificate=certificate_a,
        threshold_days=30,
        valid_until=certificate_a.valid_until,
        swept_on=certificate_a.valid_until - timedelta(days=30),
    )
    db_session.add(notice)
    db_session.flush()
    world = World(
        district=district,
        commune=commune,
        producer_a=producer_a,
        producer_b=producer_b,
        producer_empty=factories.ProducerFactory(commune=commune),
        product_a=product_a,
        area_a=factories.AreaFactory(producer=producer_a, commune=commune),
        accounts={
            "admin": make_account(db_session, Role.ADMIN),
            "inspector": make_account(db_session, Role.INSPECTOR),
            "producer_own": make_account(db_session, Role.PRODUCER, producer_a.id),
            "producer_other": make_account(db_session, Role.PRODUCER, producer_b.id),
        },
        province=province,
        certificate_a=certificate_a,
        evaluation_uncertified=factories.EvaluationFactory(
            product=product_a, council_unit=province, evaluated_on=date(2025, 9, 1)
        ),
        letter_notice=notice,
        product_without_history=factories.ProductFactory(producer=producer_a),
    )
    # Recorded by producer A's own account: a producer corrects what producers recorded.
    world.harvest_a = record_harvest(
        db_session,
        principal_of(world.accounts["producer_own"].user),
        {
            "area_id": world.area_a.id,
            "harvest_start": date(2025, 11, 1),
            "harvest_end": date(2025, 11, 20),
            "event_time": datetime(2025, 11, 21, tzinfo=UTC),
            "lot": {"code": "MATRIX-H", "material": "Quả cà phê", "quantity": 1000, "unit": "kg"},
        },
    )
    world.lot_a = world.harvest_a.lots[0].lot
    world.area_without_history = factories.AreaFactory(producer=producer_a, commune=commune)
    world.attachment_a = attach_file(
        db_session, system_principal("test"), world.harvest_a, "so-tay.pdf", b"%PDF-1.4 test"
    )
    _print_run(app, db_session, world)
    world.report_a = _consumer_report(db_session, world)
    return world


def _consumer_report(db_session, world: World) -> Any:
    """A shopper's report, with a photo, about producer A's label."""
    from trace_service.reports.services import ReportForm, submit_report

    form = ReportForm(
        code=world.serial_a, verdict="genuine", problem="quality", place="Chợ", photo=JPEG
    )
    return submit_report(db_session, form, 1024 * 1024)


def _print_run(app, db_session, world: World) -> None:
    """A packed lot of product A and a built run of 3 labels on it."""
    from trace_service.labels import jobs, payload, services
    from trace_service.labels.models import Label
    from trace_service.signing.service import get_keystore
    from trace_service.trace.services import record_packing

    actor = system_principal("test")
    packing = record_packing(
        db_session,
        actor,
        {
            "event_time": datetime(2025, 12, 1, tzinfo=UTC),
            "inputs": [{"lot_id": world.lot_a.id, "quantity": 100}],
            "outputs": [
                {
                    "code": "MATRIX-B",
                    "material": "Cà phê 250 g",
                    "quantity": 100,
                    "unit": "piece",
                    "unit_weight_kg": 0.25,
                    "product_id": world.product_a.id,
                },
                {  # counted by weight: declares its units before stamps (PATCH /lots/{id})
                    "code": "MATRIX-K",
                    "material": "Cà phê 1 kg",
                    "quantity": 10,
                    "unit": "kg",
                    "product_id": world.product_a.id,
                },
            ],
        },
    )
    world.packed_a, world.weighed_a = (item.lot for item in packing.lots if item.role == "output")
    order = services.RunOrder(world.product_a.id, world.packed_a.id, 3)
    world.run_a, _ = services.order_print_run(
        db_session, actor, order, get_keystore(app), "https://tem.ocop.example.vn"
    )
    jobs.build_now(db_session, world.run_a.id, actor, app)
    label = db_session.scalars(
        select(Label).where(Label.run_id == world.run_a.id, Label.seq == 1)
    ).one()
    world.serial_a = label.serial
    world.url_a = payload.label_url(services.claims_for(world.run_a, label.serial), label.signature)


def _harvest_document(w: World) -> dict[str, Any]:
    from trace_service.trace.epcis import Quantity, TraceEventView, epcis_document

    harvest = TraceEventView(
        "urn:uuid:0d6f4a52-3c1e-4a3b-8f6e-00000000a001",
        "harvest",
        datetime(2025, 12, 5, 17, tzinfo=UTC),
        "+00:00",
        f"urn:ocop:area:{w.area_a.id}",
        outputs=(Quantity("urn:ocop:lot:EPCIS-H", 10, "KGM"),),
    )
    return epcis_document(
        [harvest],
        document_uri="urn:uuid:0d6f4a52-3c1e-4a3b-8f6e-0000000a0002",
        created=datetime(2025, 12, 6, tzinfo=UTC),
    )


def _token_id(w: World) -> int:
    return w.accounts["producer_own"].user.tokens[0].id


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    path: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World], dict[str, Any]] | None = None
    upload: bool = False  # a multipart file instead of a JSON body


def everyone(status: int) -> dict[str, int]:
    return {"anonymous": 401, **{role: status for role in ROLES[1:]}}


def only_admin(status: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "admin": status,
        "inspector": 403,
        "producer_own": 403,
        "producer_other": 403,
    }


def readers_and_owner(status: int = 200) -> dict[str, int]:
    return {
        "anonymous": 401,
        "admin": status,
        "inspector": status,
        "producer_own": status,
        "producer_other": 404,
    }


def writers_and_owner(status: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "admin": status,
        "inspector": 403,
        "producer_own": status,
        "producer_other": 404,
    }


P = "/api/v1"
ROUTES = [
    Route("GET", f"{P}/auth/me", lambda w: f"{P}/auth/me", everyone(200)),
    Route(
        "POST",
        f"{P}/auth/tokens",
        lambda w: f"{P}/auth/tokens",
        everyone(201),
        body=lambda w: {"name": "matrix"},
    ),
    Route("GET", f"{P}/auth/tokens", lambda w: f"{P}/auth/tokens", everyone(200)),
    Route(
        "DELETE",
        f"{P}/auth/tokens/<id:token_id>",
        lambda w: f"{P}/auth/tokens/{_token_id(w)}",
        {
            "anonymous": 401,
            "admin": 204,
            "inspector": 404,
            "producer_own": 204,
            "producer_other": 404,
        },
    ),
    # The job queue's dead letters (no queue in these tests: an empty list, an unknown job)
    Route("GET", f"{P}/jobs/failed", lambda w: f"{P}/jobs/failed", only_admin(200)),
    Route(
        "POST",
        f"{P}/jobs/failed/<string:job_id>/retry",
        lambda w: f"{P}/jobs/failed/{'0' * 32}/retry",
        only_admin(404),
    ),
    Route("GET", f"{P}/users", lambda w: f"{P}/users", only_admin(200)),
    Route(
        "POST",
        f"{P}/users",
        lambda w: f"{P}/users",
        only_admin(201),
        body=lambda w: {"username": "new-inspector", "role": "inspector"},
    ),
    Route(
        "GET",
        f"{P}/users/<id:user_id>",
        lambda w: f"{P}/users/{w.accounts['producer_own'].user.id}",
        only_admin(200),
    ),
    Route(
        "PATCH",
        f"{P}/users/<id:user_id>",
        lambda w: f"{P}/users/{w.accounts['producer_own'].user.id}",
        only_admin(200),
        body=lambda w: {"display_name": "Chị Hoa"},
    ),
    Route("GET", f"{P}/admin-units", lambda w: f"{P}/admin-units", everyone(200)),
    Route(
        "GET",
        f"{P}/admin-units/<id:unit_id>",
        lambda w: f"{P}/admin-units/{w.commune.id}",
        everyone(200),
    ),
    Route(
        "POST",
        f"{P}/admin-units",
        lambda w: f"{P}/admin-units",
        only_admin(201),
        body=lambda w: {
            "name": "Xã Mới",
            "level": "commune",
            "parent_id": w.district.id,
            "valid_from": "2025-07-01",
        },
    ),
    Route(
        "PATCH",
        f"{P}/admin-units/<id:unit_id>",
        lambda w: f"{P}/admin-units/{w.commune.id}",
        only_admin(200),
        body=lambda w: {"name": "Xã Đức Mạnh"},
    ),
    Route("GET", f"{P}/producers", lambda w: f"{P}/producers", everyone(200)),
    Route(
        "GET",
        f"{P}/producers/<id:producer_id>",
        lambda w: f"{P}/producers/{w.producer_a.id}",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/producers",
        lambda w: f"{P}/producers",
        only_admin(201),
        body=lambda w: {
            "kind": "cooperative",
            "name": "HTX Cà phê Thuận An",
            "registration_code": "6400999001",
            "address": "Thôn 1",
            "commune_id": w.commune.id,
            "representative": "Y Bhin",
        },
    ),
    Route(
        "PATCH",
        f"{P}/producers/<id:producer_id>",
        lambda w: f"{P}/producers/{w.producer_a.id}",
        writers_and_owner(200),
        body=lambda w: {"phone": "0261 3544 999"},
    ),
    Route(
        "DELETE",
        f"{P}/producers/<id:producer_id>",
        lambda w: f"{P}/producers/{w.producer_empty.id}",
        only_admin(204),
    ),
    Route("GET", f"{P}/products", lambda w: f"{P}/products", everyone(200)),
    Route(
        "GET",
        f"{P}/products/<id:product_id>",
        lambda w: f"{P}/products/{w.product_a.id}",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/products",
        lambda w: f"{P}/products",
        {
            "anonymous": 401,
            "admin": 201,
            "inspector": 403,
            "producer_own": 201,
            "producer_other": 403,
        },
        body=lambda w: {
            "producer_id": w.producer_a.id,
            "name_vi": "Hạt mắc ca sấy",
            "product_group": "food",
        },
    ),
    Route(
        "PATCH",
        f"{P}/products/<id:product_id>",
        lambda w: f"{P}/products/{w.product_a.id}",
        writers_and_owner(200),
        body=lambda w: {"name_en": "Roasted macadamia"},
    ),
    Route(
        "DELETE",
        f"{P}/products/<id:product_id>",
        lambda w: f"{P}/products/{w.product_without_history.id}",
        writers_and_owner(204),
    ),
    Route(
        "PUT",
        f"{P}/products/<id:product_id>/photo",
        lambda w: f"{P}/products/{w.product_a.id}/photo",
        writers_and_owner(200),
        upload=True,
    ),
    Route(
        "GET",
        f"{P}/products/<id:product_id>/photo",
        lambda w: f"{P}/products/{w.product_a.id}/photo",
        {**readers_and_owner(404)},  # no photo yet: each role learns only that
    ),
    Route(
        "DELETE",
        f"{P}/products/<id:product_id>/photo",
        lambda w: f"{P}/products/{w.product_a.id}/photo",
        writers_and_owner(404),  # no photo to delete
    ),
    Route(
        "POST",
        f"{P}/labels/<string(maxlength=40):serial>/clear-flag",
        lambda w: f"{P}/labels/{w.serial_a}/clear-flag",
        only_admin(409),  # the stamp is not flagged
        body=lambda w: {"reason": "checked in the shop: one customer"},
    ),
    Route("GET", f"{P}/areas", lambda w: f"{P}/areas", everyone(200)),
    Route(
        "GET", f"{P}/areas/<id:area_id>", lambda w: f"{P}/areas/{w.area_a.id}", readers_and_owner()
    ),
    Route(
        "POST",
        f"{P}/areas",
        lambda w: f"{P}/areas",
        {
            "anonymous": 401,
            "admin": 201,
            "inspector": 403,
            "producer_own": 201,
            "producer_other": 403,
        },
        body=lambda w: {
            "producer_id": w.producer_a.id,
            "name": "Vườn tiêu",
            "area_ha": 2.5,
            "commune_id": w.commune.id,
        },
    ),
    Route(
        "PATCH",
        f"{P}/areas/<id:area_id>",
        lambda w: f"{P}/areas/{w.area_a.id}",
        writers_and_owner(200),
        body=lambda w: {"area_ha": 3.25},
    ),
    Route(
        "DELETE",
        f"{P}/areas/<id:area_id>",
        lambda w: f"{P}/areas/{w.area_without_history.id}",
        writers_and_owner(204),
    ),
    Route(
        "POST",
        f"{P}/evaluations",
        lambda w: f"{P}/evaluations",
        only_admin(201),
        body=lambda w: {
            "product_id": w.product_a.id,
            "council_level": "province",
            "council_unit_id": w.province.id,
            "evaluated_on": "2025-08-01",
            "score_a": 30,
            "score_b": 15,
            "score_c": 15,
            "mandatory_met": True,
            "reference": "BB 12/2025",
        },
    ),
    Route("GET", f"{P}/evaluations", lambda w: f"{P}/evaluations", everyone(200)),
    Route(
        "POST",
        f"{P}/ocop-dossiers",
        lambda w: f"{P}/ocop-dossiers",
        only_admin(201),
        body=lambda w: {
            "product_id": w.product_a.id,
            "year": 2025,
            "target_star": 4,
            "registered_on": "2025-03-01",
            "submitted_on": "2025-09-10",
        },
    ),
    Route("GET", f"{P}/ocop-dossiers", lambda w: f"{P}/ocop-dossiers", everyone(200)),
    Route(
        "GET",
        f"{P}/evaluations/<id:evaluation_id>",
        lambda w: f"{P}/evaluations/{w.certificate_a.evaluation_id}",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/certificates",
        lambda w: f"{P}/certificates",
        only_admin(201),
        body=lambda w: {
            "evaluation_id": w.evaluation_uncertified.id,
            "number": "MATRIX-1",
            "decision_number": "99/QĐ-UBND",
            "decision_date": "2025-09-10",
            "issue_date": "2025-09-10",
        },
    ),
    Route("GET", f"{P}/certificates", lambda w: f"{P}/certificates", everyone(200)),
    Route(
        "POST",
        f"{P}/certificates/import",
        lambda w: f"{P}/certificates/import?dry_run=true",
        only_admin(200),
        upload=True,
    ),
    Route(
        "GET",
        f"{P}/certificates/<id:certificate_id>",
        lambda w: f"{P}/certificates/{w.certificate_a.id}",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/certificates/<id:certificate_id>/revocation",
        lambda w: f"{P}/certificates/{w.certificate_a.id}/revocation",
        only_admin(200),
        body=lambda w: {
            "revoked_on": "2025-10-01",
            "decision": "15/QĐ-UBND",
            "reason": "Không duy trì truy xuất nguồn gốc",
        },
    ),
    Route(
        "GET",
        f"{P}/certificates/stats",
        lambda w: f"{P}/certificates/stats",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "GET",
        f"{P}/products/<id:product_id>/label-status",
        lambda w: f"{P}/products/{w.product_a.id}/label-status",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/expiry-notices/<id:notice_id>/letter.pdf",
        lambda w: f"{P}/expiry-notices/{w.letter_notice.id}/letter.pdf",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/reports/ocop-plan",
        lambda w: f"{P}/reports/ocop-plan",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "POST",
        f"{P}/trace/harvests",
        lambda w: f"{P}/trace/harvests",
        writers_and_owner(201) | {"producer_other": 422},
        body=lambda w: {
            "area_id": w.area_a.id,
            "harvest_start": "2025-12-01",
            "harvest_end": "2025-12-05",
            "event_time": "2025-12-06T08:00:00+07:00",
            "lot": {"code": "H-2", "material": "Tiêu", "quantity": 5, "unit": "kg"},
        },
    ),
    Route(
        "POST",
        f"{P}/trace/transformations",
        lambda w: f"{P}/trace/transformations",
        writers_and_owner(201) | {"producer_other": 422},
        body=lambda w: {
            "process": "drying",
            "event_time": "2025-12-06T08:00:00+07:00",
            "inputs": [{"lot_id": w.lot_a.id, "quantity": 100}],
            "outputs": [{"code": "D-2", "material": "Quả khô", "quantity": 50, "unit": "kg"}],
        },
    ),
    Route(
        "POST",
        f"{P}/trace/packings",
        lambda w: f"{P}/trace/packings",
        writers_and_owner(201) | {"producer_other": 422},
        body=lambda w: {
            "event_time": "2025-12-06T08:00:00+07:00",
            "inputs": [{"lot_id": w.lot_a.id, "quantity": 10}],
            "outputs": [
                {
                    "code": "B-2",
                    "material": "Gói 1 kg",
                    "quantity": 10,
                    "unit": "piece",
                    "unit_weight_kg": 1,
                    "product_id": w.product_a.id,
                }
            ],
        },
    ),
    Route(
        "POST",
        f"{P}/trace/corrections",
        lambda w: f"{P}/trace/corrections",
        writers_and_owner(201) | {"producer_other": 422},
        body=lambda w: {
            "corrects_event_id": w.harvest_a.id,
            "event_time": "2025-12-06T08:00:00+07:00",
            "reason": "Sai ngày",
        },
    ),
    Route("GET", f"{P}/lots", lambda w: f"{P}/lots", everyone(200)),
    Route("GET", f"{P}/lots/<id:lot_id>", lambda w: f"{P}/lots/{w.lot_a.id}", readers_and_owner()),
    Route(
        "PATCH",
        f"{P}/lots/<id:lot_id>",
        lambda w: f"{P}/lots/{w.weighed_a.id}",
        writers_and_owner(200),
        body=lambda w: {"unit_count": 40},
    ),
    Route(
        "GET",
        f"{P}/lots/<id:lot_id>/trace",
        lambda w: f"{P}/lots/{w.lot_a.id}/trace",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/trace/observations",
        lambda w: f"{P}/trace/observations",
        {  # inspections are the authorities' word: never a producer's, even on its own lots
            "anonymous": 401,
            "admin": 201,
            "inspector": 201,
            "producer_own": 403,
            "producer_other": 403,
        },
        body=lambda w: {
            "kind": "inspection",
            "event_time": "2025-12-06T08:00:00+07:00",
            "lots": [{"lot_id": w.lot_a.id}],
            "details": {"result": "đạt"},
        },
    ),
    Route(
        "GET",
        f"{P}/lots/<id:lot_id>/eudr.geojson",
        lambda w: f"{P}/lots/{w.lot_a.id}/eudr.geojson",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/products/<id:product_id>/traceability",
        lambda w: f"{P}/products/{w.product_a.id}/traceability",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/trace/epcis",
        lambda w: f"{P}/trace/epcis",
        writers_and_owner(200) | {"producer_other": 422},
        body=lambda w: _harvest_document(w),
    ),
    Route(
        "POST",
        f"{P}/trace/events/<id:event_id>/attachments",
        lambda w: f"{P}/trace/events/{w.harvest_a.id}/attachments",
        {
            "anonymous": 401,
            "admin": 201,
            "inspector": 403,
            "producer_own": 201,
            "producer_other": 404,
        },
        upload=True,
    ),
    Route(
        "GET",
        f"{P}/trace/events/<id:event_id>/attachments/<id:attachment_id>",
        lambda w: f"{P}/trace/events/{w.harvest_a.id}/attachments/{w.attachment_a.id}",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/lots/<id:lot_id>/epcis",
        lambda w: f"{P}/lots/{w.lot_a.id}/epcis",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/areas/<id:area_id>/trace",
        lambda w: f"{P}/areas/{w.area_a.id}/trace",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/lots/<id:lot_id>/recall",
        lambda w: f"{P}/lots/{w.lot_a.id}/recall",
        {
            "anonymous": 401,
            "admin": 201,
            "inspector": 201,
            "producer_own": 403,
            "producer_other": 403,
        },
        body=lambda w: {"recalled_at": "2025-12-10T08:00:00+07:00", "reason": "Nhiễm bẩn"},
    ),
    Route(
        "POST",
        f"{P}/print-runs",
        lambda w: f"{P}/print-runs",
        {
            "anonymous": 401,
            "admin": 202,
            "inspector": 403,
            "producer_own": 202,
            "producer_other": 404,
        },
        body=lambda w: {"product_id": w.product_a.id, "lot_id": w.packed_a.id, "quantity": 2},
    ),
    Route("GET", f"{P}/print-runs", lambda w: f"{P}/print-runs", everyone(200)),
    Route(
        "GET",
        f"{P}/print-runs/<id:run_id>",
        lambda w: f"{P}/print-runs/{w.run_a.id}",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/print-runs/<id:run_id>/build",
        lambda w: f"{P}/print-runs/{w.run_a.id}/build",
        {
            "anonymous": 401,
            "admin": 409,  # built already: nothing to resume
            "inspector": 403,
            "producer_own": 409,
            "producer_other": 404,
        },
    ),
    Route(
        "POST",
        f"{P}/print-runs/<id:run_id>/voids",
        lambda w: f"{P}/print-runs/{w.run_a.id}/voids",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 403,
            "producer_own": 200,
            "producer_other": 404,
        },
        body=lambda w: {"sequences": [1], "reason": "In hỏng"},
    ),
    Route("GET", f"{P}/flagged-labels", lambda w: f"{P}/flagged-labels", everyone(200)),
    Route(
        "GET",
        f"{P}/print-runs/<id:run_id>/sheet.pdf",
        lambda w: f"{P}/print-runs/{w.run_a.id}/sheet.pdf",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/print-runs/<id:run_id>/labels.zpl",
        lambda w: f"{P}/print-runs/{w.run_a.id}/labels.zpl?dpi=300",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/print-runs/<id:run_id>/labels",
        lambda w: f"{P}/print-runs/{w.run_a.id}/labels",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/labels/<string(maxlength=40):serial>",
        lambda w: f"{P}/labels/{w.serial_a}",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/labels/<string(maxlength=40):serial>/trace",
        lambda w: f"{P}/labels/{w.serial_a}/trace",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/labels/<string(maxlength=40):serial>/epcis",
        lambda w: f"{P}/labels/{w.serial_a}/epcis",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/labels/<string(maxlength=40):serial>/qr.svg",
        lambda w: f"{P}/labels/{w.serial_a}/qr.svg",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/labels/<string(maxlength=40):serial>/qr.png",
        lambda w: f"{P}/labels/{w.serial_a}/qr.png",
        readers_and_owner(),
    ),
    Route(
        "POST",
        f"{P}/labels/verify",
        lambda w: f"{P}/labels/verify",
        everyone(200),
        body=lambda w: {"url": w.url_a},
    ),
    Route(
        "POST",
        f"{P}/inspections",
        lambda w: f"{P}/inspections",
        {
            "anonymous": 401,
            "admin": 403,
            "inspector": 201,
            "producer_own": 403,
            "producer_other": 403,
        },
        body=lambda w: {
            "client_id": "matrix-inspection-1",
            "checked_at": "2026-12-03T09:15:00+07:00",
            "result": "passed",
        },
    ),
    Route(
        "GET",
        f"{P}/inspections",
        lambda w: f"{P}/inspections",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "POST",
        f"{P}/inspections/<id:inspection_id>/decision",
        lambda w: f"{P}/inspections/999999/decision",
        {
            "anonymous": 401,
            "admin": 404,
            "inspector": 403,
            "producer_own": 403,
            "producer_other": 403,
        },
        body=lambda w: {"accepted": False, "reason": "Không đủ căn cứ"},
    ),
    *(
        Route(
            method,
            f"{P}/inspections/<id:inspection_id>{rest}",
            lambda w, path=path: f"{P}/inspections/999999{path}",
            {
                "anonymous": 401,
                "admin": 404,
                "inspector": 404,
                "producer_own": 403,
                "producer_other": 403,
            },
            body=body,
            upload=upload,
        )
        for method, rest, path, body, upload in (
            ("GET", "", "", None, False),
            (
                "POST",
                "/lab-result",
                "/lab-result",
                lambda w: {"passed": True, "result": "Đạt"},
                False,
            ),
            ("POST", "/photos", "/photos", None, True),
            ("GET", "/photos/<id:photo_id>.jpg", "/photos/1.jpg", None, False),
        )
    ),
    # A device signs in with a password (HTTP Basic) only: a bearer token is not one.
    Route(
        "POST",
        f"{P}/inspector-devices",
        lambda w: f"{P}/inspector-devices",
        {role: 401 for role in ROLES},
        body=lambda w: {"name": "Điện thoại"},
    ),
    Route(
        "GET",
        f"{P}/inspector-devices",
        lambda w: f"{P}/inspector-devices",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "POST",
        f"{P}/inspector-devices/<id:device_id>/revocation",
        lambda w: f"{P}/inspector-devices/999999/revocation",
        {
            "anonymous": 401,
            "admin": 404,
            "inspector": 404,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "GET",
        f"{P}/audit-events",
        lambda w: f"{P}/audit-events",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
    Route(
        "GET",
        f"{P}/audit-events/verify",
        lambda w: f"{P}/audit-events/verify",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,
            "producer_other": 403,
        },
    ),
]
ROUTES += [
    Route("GET", f"{P}/reports", lambda w: f"{P}/reports", everyone(200)),
    Route(
        "GET",
        f"{P}/reports/<id:report_id>",
        lambda w: f"{P}/reports/{w.report_a.id}",
        readers_and_owner(),
    ),
    Route(
        "GET",
        f"{P}/reports/<id:report_id>/photo",
        lambda w: f"{P}/reports/{w.report_a.id}/photo",
        {
            "anonymous": 401,
            "admin": 200,
            "inspector": 200,
            "producer_own": 403,  # the shopper's photo is for the office
            "producer_other": 403,
        },
    ),
    Route(
        "POST",
        f"{P}/reports/<id:report_id>/close",
        lambda w: f"{P}/reports/{w.report_a.id}/close",
        only_admin(200),
        body=lambda w: {"note": "Đã kiểm tra."},
    ),
]
# Public by design: the API's own description and its documentation page.
PUBLIC_RULES = {
    f"{P}/openapi.json",
    f"{P}/docs",
    f"{P}/docs/<path:filename>",
    f"{P}/docs/assets/<path:filename>",
}


def test_the_matrix_covers_every_api_route(app):
    in_app = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(P) and rule.rule not in PUBLIC_RULES
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert in_app == {(r.method, r.rule) for r in ROUTES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_each_role_gets_exactly_what_the_rules_allow(client, world, route, role):
    headers = {} if role == "anonymous" else world.accounts[role].headers
    if route.upload and "/photo" in route.rule:
        response = client.open(
            route.path(world),
            method=route.method,
            headers=headers,
            data={"file": (io.BytesIO(JPEG), "anh.jpg")},
        )
    elif route.upload and "/attachments" in route.rule:
        response = client.open(
            route.path(world),
            method=route.method,
            headers=headers,
            data={"file": (io.BytesIO(b"%PDF-1.4 matrix"), "bien-ban.pdf")},
        )
    elif route.upload:
        csv = (
            "Số GCN,Số QĐ,Ngày QĐ,Cơ quan cấp,MST,Tên sản phẩm,Số sao,Ngày cấp\n"
            "M-1,1/QĐ-UBND,02/01/2025,UBND tỉnh Đắk Nông,6400000001,Cà phê,3,02/01/2025\n"
        )
        response = client.open(
            route.path(world),
            method=route.method,
            headers=headers,
            data={"file": (io.BytesIO(csv.encode()), "ds.csv")},
        )
    else:
        response = client.open(
            route.path(world),
            method=route.method,
            headers=headers,
            json=route.body(world) if route.body else None,
        )
    response.close()  # file downloads hold their file open until closed
    assert response.status_code == route.expected[role], response.get_json()
    if response.status_code >= 400:
        assert response.json["status"] == response.status_code
        assert response.json["message"] and response.json["message_en"]


@pytest.mark.parametrize("collection", ["producers", "products", "areas"])
def test_a_producer_lists_only_its_own_records(client, world, collection):
    factories.ProductFactory(producer=world.producer_b)
    factories.AreaFactory(producer=world.producer_b, commune=world.commune)
    own = world.accounts["producer_own"]
    response = client.get(f"{P}/{collection}?page_size=100", headers=own.headers)
    assert response.status_code == 200
    items = response.json["items"]
    assert items, "the producer's own record must be listed"
    owner_ids = {item["id"] if collection == "producers" else item["producer_id"] for item in items}
    assert owner_ids == {world.producer_a.id}


def test_a_producer_cannot_filter_its_way_to_another_producer(client, world):
    own = world.accounts["producer_own"]
    response = client.get(f"{P}/products?producer_id={world.producer_b.id}", headers=own.headers)
    assert response.status_code == 200
    assert response.json["total"] == 0


def test_inspectors_see_every_producer(client, world):
    response = client.get(
        f"{P}/producers?page_size=100", headers=world.accounts["inspector"].headers
    )
    ids = {item["id"] for item in response.json["items"]}
    assert {world.producer_a.id, world.producer_b.id, world.producer_empty.id} <= ids


def test_a_producer_cannot_move_its_product_to_another_producer(client, world):
    own = world.accounts["producer_own"]
    response = client.patch(
        f"{P}/products/{world.product_a.id}",
        headers=own.headers,
        json={"producer_id": world.producer_b.id},
    )
    assert response.status_code == 403
    assert world.product_a.producer_id == world.producer_a.id


def test_a_producer_cannot_create_an_area_for_another_producer(client, world):
    other = world.accounts["producer_other"]
    response = client.post(
        f"{P}/areas",
        headers=other.headers,
        json={
            "producer_id": world.producer_a.id,
            "name": "Lấn sân",
            "area_ha": 1.0,
            "commune_id": world.commune.id,
        },
    )
    assert response.status_code == 403


def test_a_producer_creates_for_itself_when_it_names_no_producer(client, world):
    own = world.accounts["producer_own"]
    response = client.post(
        f"{P}/products", headers=own.headers, json={"name_vi": "Tiêu đen", "product_group": "food"}
    )
    assert response.status_code == 201
    assert response.json["producer_id"] == world.producer_a.id
