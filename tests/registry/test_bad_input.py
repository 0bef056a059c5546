"""Bad requests, tried as a new user would: each gets a clear 4xx in the one error shape
({"status", "code", "message" (Vietnamese), "message_en", "errors"?}) and nothing is
half-written: no row added or changed, no audit event recorded.

"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import (
    AreaFactory,
    CommuneFactory,
    DistrictFactory,
    ProducerFactory,
    ProductFactory,
    ProvinceFactory,
    UserFactory,
)
from trace_service.audit.models import AuditEvent
from trace_service.auth.models import ApiToken, User
from trace_service.auth.passwords import hash_password
from trace_service.auth.services import issue_token, revoke_token
from trace_service.db import utcnow
from trace_service.principal import Role, system_principal
from trace_service.registry.models import (
    AdministrativeUnit,
    Listing,
    Producer,
    Product,
    RawMaterialArea,
)

API = "/api/v1"
MIB = 1_048_576
TOO_BIG_FOR_64_BITS = 2**63  # one more than the largest BIGINT
ERROR_KEYS = {"status", "code", "message", "message_en"}
WRITTEN_TABLES = (
    AdministrativeUnit,
    Producer,
    Product,
    Listing,
    RawMaterialArea,
    User,
    ApiToken,
    AuditEvent,
)

# -- helpers ---------------------------------------------------------------------------------


def assert_error(
    response: Any,
    status: int,
    *,
    field: str | None = None,
    location: str = "json",
    code: str | None = None,
) -> dict[str, Any]:
    """The response is the API's one error shape with this status (and field error)."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, f"{response.status_code}: {text[:600]}"
    assert response.mimetype == "application/json", text[:200]
    body = response.get_json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"errors"}, body
    assert body["status"] == status
    assert isinstance(body["code"], str)
    assert body["code"]
    if code is not None:
        assert body["code"] == code
    # Vietnamese: every message of the service carries diacritics.
    assert isinstance(body["message"], str)
    assert not body["message"].isascii(), body["message"]
    assert isinstance(body["message_en"], str)
    assert body["message_en"]
    if field is not None:
        assert field in body.get("errors", {}).get(location, {}), body
    if "errors" in body:
        assert set(body["errors"]) <= {"json", "query"}, body["errors"]
    return body


def field_messages(body: dict[str, Any], field: str, location: str = "json") -> str:
    return json.dumps(body["errors"][location][field], ensure_ascii=False)


def database_state(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a request could write, read afresh."""
    session.expire_all()
    state = {}
    for model in WRITTEN_TABLES:
        table = model.__table__
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        state[table.name] = [tuple(row) for row in rows]
    return state


@pytest.fixture
def unchanged(db_session: Session) -> Callable[..., AbstractContextManager[None]]:
    """``with unchanged(): <refused request>`` asserts no row was added or changed, and no
    audit event recorded; ``unchanged(failed_sign_ins=1)``: but for that many failed
    sign-ins, which are audited although the request changes nothing else."""

    @contextmanager
    def check(failed_sign_ins: int = 0) -> Iterator[None]:
        before = database_state(db_session)
        yield
        after = database_state(db_session)
        added = after["audit_events"][len(before["audit_events"]) :]
        tag = list(AuditEvent.__table__.columns.keys()).index("tag")
        assert [row[tag] for row in added] == ["auth:sign_in:failed"] * failed_sign_ins
        after["audit_events"] = after["audit_events"][: len(before["audit_events"])]
        assert after["audit_events"] == before["audit_events"], "an audit event was recorded"
        for table, rows in before.items():
            assert after[table] == rows, f"the refused request changed {table}"

    return check


def raw_json(body: Any) -> str:
    """JSON text of ``body``, with "@NaN@", "@Infinity@", "@-Infinity@" as bare literals."""
    text = json.dumps(body, ensure_ascii=False)
    for literal in ("NaN", "Infinity", "-Infinity"):
        text = text.replace(f'"@{literal}@"', literal)
    return text


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != field}


def basic(username: str, password: str) -> dict[str, str]:
    secret = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {secret}"}


SQUARE = [[107.60, 12.40], [107.61, 12.40], [107.61, 12.41], [107.60, 12.41], [107.60, 12.40]]


def producer_body(commune_id: int, /, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "cooperative",
        "name": "Hợp tác xã Cà phê Đắk Mil",
        "registration_code": "6400999999",
        "address": "Thôn 3",
        "commune_id": commune_id,
        "representative": "Nguyễn Văn An",
        "phone": "0261 3544 123",
        "email": "htx@example.vn",
        **changes,
    }


def product_body(producer_id: int, /, **changes: Any) -> dict[str, Any]:
    return {
        "producer_id": producer_id,
        "name_vi": "Cà phê bột Đắk Mil",
        "name_en": "Dak Mil ground coffee",
        "product_group": "food",
        "gtin": "8934563138165",
        "description": "Cà phê Robusta rang xay.",
        "images": [{"url": "https://example.vn/ca-phe.jpg", "caption": "Gói 500 g"}],
        "standards": ["TCVN 4193:2014"],
        "shelf_life_days": 365,
        "listings": [{"platform": "shopee", "url": "https://shopee.vn/ca-phe-dak-mil"}],
        **changes,
    }


def area_body(producer_id: int, commune_id: int, /, **changes: Any) -> dict[str, Any]:
    return {
        "producer_id": producer_id,
        "name": "Vườn cà phê Thôn 3",
        "commune_id": commune_id,
        "area_ha": 2.5,
        "crops": ["coffee"],
        "certifications": [
            {"scheme": "vietgap", "reference": "VG-123", "valid_until": "2030-01-01"}
        ],
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        **changes,
    }


def user_body(**changes: Any) -> dict[str, Any]:
    return {
        "username": "nguoidung.moi",
        "display_name": "Người dùng mới",
        "email": "moi@example.vn",
        "role": "inspector",
        "password": "mật khẩu đủ dài",
        "is_active": True,
        **changes,
    }


def unit_body(parent_id: int, /, **changes: Any) -> dict[str, Any]:
    return {
        "code": "99999",
        "name": "Xã Thử Mới",
        "level": "commune",
        "parent_id": parent_id,
        "valid_from": "2025-07-01",
        "lat": 12.4,
        "lon": 107.6,
        **changes,
    }


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def commune(db_session: Session) -> AdministrativeUnit:
    return CommuneFactory()


@pytest.fixture
def province(db_session: Session) -> AdministrativeUnit:
    return ProvinceFactory()


@pytest.fixture
def producer(db_session: Session) -> Producer:
    return ProducerFactory()


@pytest.fixture
def product(db_session: Session) -> Product:
    return ProductFactory()


@pytest.fixture
def area(db_session: Session) -> RawMaterialArea:
    return AreaFactory()


@pytest.fixture
def closed_commune(db_session: Session) -> AdministrativeUnit:
    """A Đắk Nông commune merged away on 1 Jul 2025, pointing to its Lâm Đồng successor."""
    successor = CommuneFactory(name="Xã Đức Lập", parent=ProvinceFactory(name="Tỉnh Lâm Đồng"))
    return CommuneFactory(name="Xã Đắk Sắk", valid_to=date(2025, 6, 30), successor=successor)


@pytest.fixture
def own_producer(db_session: Session, producer_account: Any) -> Producer:
    return db_session.get(Producer, producer_account.user.producer_id)


# -- the bodies used below are good ones ----------------------------------------------------


def test_are_the_valid_bodies_these_tests_start_from_accepted(
    client, admin, commune, province, producer
):
    """Each refusal below changes one thing in a body that is otherwise accepted."""
    for path, body in [
        ("/producers", producer_body(commune.id)),
        ("/products", product_body(producer.id)),
        ("/areas", area_body(producer.id, commune.id)),
        ("/users", user_body()),
        ("/admin-units", unit_body(province.id)),
        ("/auth/tokens", {"name": "máy tính bảng"}),
    ]:
        response = client.post(API + path, json=body, headers=admin.headers)
        assert response.status_code == 201, (path, response.get_json())


# -- bodies that are not readable JSON objects -------------------------------------------------

WRITE_ENDPOINTS = [
    ("POST", "/producers"),
    ("PATCH", "/producers/{producer}"),
    ("POST", "/products"),
    ("PATCH", "/products/{product}"),
    ("POST", "/areas"),
    ("PATCH", "/areas/{area}"),
    ("POST", "/users"),
    ("PATCH", "/users/{user}"),
    ("POST", "/admin-units"),
    ("PATCH", "/admin-units/{unit}"),
    ("POST", "/auth/tokens"),
]


@pytest.fixture(params=WRITE_ENDPOINTS, ids=[f"{m} {p}" for m, p in WRITE_ENDPOINTS])
def write_endpoint(request: pytest.FixtureRequest, db_session: Session) -> tuple[str, str]:
    method, template = request.param
    makers = {
        "producer": ProducerFactory,
        "product": ProductFactory,
        "area": AreaFactory,
        "user": lambda: UserFactory(role=Role.INSPECTOR),
        "unit": CommuneFactory,
    }
    ids = {name: make().id for name, make in makers.items() if "{" + name + "}" in template}
    return method, API + template.format(**ids)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"name": ', id="truncated"),
        pytest.param('{"name": "x",}', id="trailing-comma"),
        pytest.param("{'name': 'x'}", id="single-quotes"),
        pytest.param('{name: "x"}', id="unquoted-key"),
        pytest.param('{"name": True}', id="python-literal"),
        pytest.param('{"a": 1} {"b": 2}', id="two-documents"),
        pytest.param("name=x", id="form-encoded-but-labelled-json"),
    ],
)
def test_is_malformed_json_refused_as_unreadable_with_400(
    client, admin, unchanged, write_endpoint, text
):
    method, path = write_endpoint
    with unchanged():
        response = client.open(
            path, method=method, data=text, content_type="application/json", headers=admin.headers
        )
    assert_error(response, 400, code="malformed_json")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"name": "\xff\xfe"}', id="invalid-utf8-bytes"),
        pytest.param('{"name": "Cà phê"}'.encode("latin-1"), id="latin-1"),
        pytest.param('{"name": "Cà phê"}'.encode("cp1258"), id="windows-1258-vietnamese"),
        pytest.param(b'{"name": "\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
    ],
)
def test_are_bytes_that_are_not_utf8_refused_with_400(
    client, admin, unchanged, write_endpoint, data
):
    method, path = write_endpoint
    with unchanged():
        response = client.open(
            path, method=method, data=data, content_type="application/json", headers=admin.headers
        )
    assert_error(response, 400, code="malformed_json")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[]", id="empty-array"),
        pytest.param('[{"name": "x"}]', id="array-of-objects"),
        pytest.param("null", id="null"),
        pytest.param('"name"', id="string"),
        pytest.param("42", id="number"),
        pytest.param("true", id="boolean"),
    ],
)
def test_is_json_that_is_not_an_object_refused_with_422(
    client, admin, unchanged, write_endpoint, text
):
    method, path = write_endpoint
    with unchanged():
        response = client.open(
            path, method=method, data=text, content_type="application/json", headers=admin.headers
        )
    assert_error(response, 422, field="_schema")


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        pytest.param("application/x-www-form-urlencoded", "name=x", id="form"),
        pytest.param("text/plain", '{"name": "x"}', id="text-plain-json"),
        pytest.param("application/xml", "<name>x</name>", id="xml"),
        pytest.param("text/csv", "name\nx\n", id="csv"),
        pytest.param("multipart/form-data", {"name": "x"}, id="multipart"),
    ],
)
def test_is_a_body_that_is_not_json_refused_with_415(
    client, admin, unchanged, write_endpoint, content_type, data
):
    method, path = write_endpoint
    with unchanged():
        response = client.open(
            path, method=method, data=data, content_type=content_type, headers=admin.headers
        )
    assert_error(response, 415, code="unsupported_media_type")


@pytest.mark.parametrize(
    "size", [pytest.param(MIB + 1, id="1-MiB-plus-1-byte"), pytest.param(10_000_000, id="10-MB")]
)
def test_is_a_body_over_1_mib_refused_with_413(client, admin, unchanged, write_endpoint, size):
    method, path = write_endpoint
    prefix = '{"name": "'
    text = prefix + "x" * (size - len(prefix) - 2) + '"}'
    assert len(text.encode()) == size
    with unchanged():
        response = client.open(
            path, method=method, data=text, content_type="application/json", headers=admin.headers
        )
    assert_error(response, 413, code="payload_too_large")


def test_is_a_body_of_exactly_1_mib_still_read(client, admin, unchanged, commune):
    body = producer_body(commune.id, name="")
    text = json.dumps(body)
    text = text.replace('"name": ""', '"name": "' + "x" * (MIB - len(text.encode())) + '"')
    assert len(text.encode()) == MIB
    with unchanged():
        response = client.post(
            f"{API}/producers", data=text, content_type="application/json", headers=admin.headers
        )
    body = assert_error(response, 422, field="name")
    assert "255" in field_messages(body, "name")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-arrays"),
        pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, id="nested-objects"),
    ],
)
def test_is_deeply_nested_json_refused_with_400_not_500(client, admin, unchanged, text):
    with unchanged():
        response = client.post(
            f"{API}/products", data=text, content_type="application/json", headers=admin.headers
        )
    assert_error(response, 400, code="malformed_json")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_is_a_missing_body_refused_rather_than_read_as_no_fields(
    client, admin, unchanged, producer, method
):
    path = f"{API}/producers" + (f"/{producer.id}" if method == "PATCH" else "")
    with unchanged():
        response = client.open(
            path, method=method, data="", content_type="application/json", headers=admin.headers
        )
    body = assert_error(response, 422, code="validation_error")
    assert body["errors"]["json"] == ["Missing request body."]
    assert body["message_en"] == "A JSON body is required."


# -- NaN and Infinity ------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["@NaN@", "@Infinity@", "@-Infinity@"])
@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ("area", "area_ha"),
        ("area", "commune_id"),
        ("area", "geometry"),
        ("product", "shelf_life_days"),
        ("unit", "lat"),
        ("unit", "lon"),
    ],
)
def test_are_nan_and_infinity_refused_naming_the_field(
    client, admin, unchanged, producer, commune, province, resource, field, literal
):
    path, body = {
        "area": ("/areas", area_body(producer.id, commune.id)),
        "product": ("/products", product_body(producer.id)),
        "unit": ("/admin-units", unit_body(province.id)),
    }[resource]
    if field == "geometry":
        body["geometry"] = {"type": "Point", "coordinates": [literal, 12.4]}
    else:
        body[field] = literal
    with unchanged():
        response = client.post(
            API + path, data=raw_json(body), content_type="application/json", headers=admin.headers
        )
    assert_error(response, 422, field=field)


# -- producers -------------------------------------------------------------------------------

BAD_PRODUCER_VALUES = [
    ("kind", "co-op"),
    ("kind", "Cooperative"),
    ("kind", 1),
    ("kind", None),
    ("name", None),
    ("name", ""),
    ("name", "   "),
    ("name", 42),
    ("name", ["HTX"]),
    ("name", {"vi": "HTX"}),
    ("name", "x" * 256),
    ("name", "HTX\x00A"),
    ("name", "HTX\x1bA"),
    ("registration_code", None),
    ("registration_code", ""),
    ("registration_code", "64"),
    ("registration_code", "6400 123 456"),
    ("registration_code", "6" * 33),
    ("registration_code", 6400123456),
    ("address", ""),
    ("address", "x" * 501),
    ("address", None),
    ("commune_id", "12"),
    ("commune_id", True),
    ("commune_id", False),
    ("commune_id", 1.5),
    ("commune_id", None),
    ("commune_id", [1]),
    ("representative", "  "),
    ("representative", "x" * 201),
    ("phone", "abc"),
    ("phone", "+1 202 555 0100"),
    ("phone", "0" * 31),
    ("phone", 2613544123),
    ("email", "not-an-email"),
    ("email", "a@"),
    ("email", 5),
]


def _ids(cases: list[tuple[str, Any]]) -> list[str]:
    out = []
    for field, value in cases:
        shown = repr(value)
        out.append(f"{field}={shown[:20]}{'…' if len(shown) > 20 else ''}")
    return out


@pytest.mark.parametrize(("field", "value"), BAD_PRODUCER_VALUES, ids=_ids(BAD_PRODUCER_VALUES))
def test_is_a_new_producer_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, commune, field, value
):
    with unchanged():
        response = client.post(
            f"{API}/producers",
            json=producer_body(commune.id, **{field: value}),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(("field", "value"), BAD_PRODUCER_VALUES, ids=_ids(BAD_PRODUCER_VALUES))
def test_is_a_producer_change_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, producer, field, value
):
    with unchanged():
        response = client.patch(
            f"{API}/producers/{producer.id}", json={field: value}, headers=admin.headers
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(
    "field", ["kind", "name", "registration_code", "address", "commune_id", "representative"]
)
def test_is_a_new_producer_missing_a_required_field_refused_naming_it(
    client, admin, unchanged, commune, field
):
    with unchanged():
        response = client.post(
            f"{API}/producers",
            json=without(producer_body(commune.id), field),
            headers=admin.headers,
        )
    body = assert_error(response, 422, field=field)
    assert "Missing data for required field." in field_messages(body, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("colour", "red"),
        ("registrationCode", "6400999998"),
        ("id", 5),
        ("created_at", "2025-01-01T00:00:00Z"),
        ("commune", {"id": 1}),
        ("search_key", "x"),
    ],
)
def test_is_a_producer_with_an_unknown_field_refused_naming_it(
    client, admin, unchanged, commune, producer, field, value
):
    with unchanged():
        created = client.post(
            f"{API}/producers",
            json=producer_body(commune.id, **{field: value}),
            headers=admin.headers,
        )
        changed = client.patch(
            f"{API}/producers/{producer.id}", json={field: value}, headers=admin.headers
        )
    for response in (created, changed):
        body = assert_error(response, 422, field=field)
        assert "Unknown field." in field_messages(body, field)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("6400123456", id="same"),
        pytest.param(" 6400123456 ", id="with-spaces"),
    ],
)
def test_is_a_duplicate_registration_code_refused_with_409(client, admin, unchanged, commune, code):
    existing = ProducerFactory(registration_code="6400123456")
    with unchanged():
        response = client.post(
            f"{API}/producers",
            json=producer_body(commune.id, registration_code=code),
            headers=admin.headers,
        )
    body = assert_error(response, 409, field="registration_code", code="conflict")
    assert str(existing.id) in body["message_en"]


def test_is_a_registration_code_differing_only_in_case_a_duplicate(
    client, admin, unchanged, commune
):
    ProducerFactory(registration_code="0101ABC/2024")
    with unchanged():
        response = client.post(
            f"{API}/producers",
            json=producer_body(commune.id, registration_code="0101abc/2024"),
            headers=admin.headers,
        )
    assert_error(response, 409, field="registration_code")


def test_is_changing_a_producer_to_anothers_registration_code_refused_with_409(
    client, admin, unchanged, producer
):
    other = ProducerFactory()
    with unchanged():
        response = client.patch(
            f"{API}/producers/{producer.id}",
            json={"registration_code": other.registration_code.lower(), "address": "Thôn 9"},
            headers=admin.headers,
        )
    assert_error(response, 409, field="registration_code")


def test_is_a_commune_id_that_is_a_district_refused(client, admin, unchanged, producer):
    district = DistrictFactory()
    with unchanged():
        created = client.post(
            f"{API}/producers", json=producer_body(district.id), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/producers/{producer.id}",
            json={"commune_id": district.id},
            headers=admin.headers,
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="commune_id")
        assert "No commune, ward or town has this id." in field_messages(body, "commune_id")


@pytest.mark.parametrize("commune_id", [999_999, -5, 0])
def test_is_a_commune_that_does_not_exist_refused(client, admin, unchanged, commune_id):
    with unchanged():
        response = client.post(
            f"{API}/producers", json=producer_body(commune_id), headers=admin.headers
        )
    assert_error(response, 422, field="commune_id")


def test_is_a_commune_that_no_longer_exists_refused_by_name(
    client, admin, unchanged, producer, closed_commune
):
    with unchanged():
        created = client.post(
            f"{API}/producers", json=producer_body(closed_commune.id), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/producers/{producer.id}",
            json={"commune_id": closed_commune.id},
            headers=admin.headers,
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="commune_id")
        assert "Xã Đắk Sắk" in body["message"]
        assert "Xã Đắk Sắk" in body["message_en"]
        assert "2025-06-30" in body["message_en"]
        assert f"successor is unit {closed_commune.successor_id}" in body["message_en"]
        assert "Xã Đắk Sắk" in field_messages(body, "commune_id")


@pytest.mark.parametrize("commune_id", [TOO_BIG_FOR_64_BITS, 2**64, 10**30])
def test_is_a_commune_id_too_big_for_64_bits_refused_with_422_not_500(
    client, admin, unchanged, commune_id
):
    with unchanged():
        response = client.post(
            f"{API}/producers", json=producer_body(commune_id), headers=admin.headers
        )
    assert_error(response, 422, field="commune_id")


@pytest.mark.parametrize("phone", ["", "   "])
def test_does_a_blank_phone_mean_no_phone(client, admin, commune, phone):
    response = client.post(
        f"{API}/producers", json=producer_body(commune.id, phone=phone), headers=admin.headers
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"name": "Tên mới"}, id="name"),
        pytest.param({"registration_code": "6499999999"}, id="registration_code"),
        pytest.param({"kind": "enterprise"}, id="kind"),
        pytest.param({"phone": "0912 345 678", "name": "Tên mới"}, id="allowed-with-forbidden"),
    ],
)
def test_may_a_producer_change_its_own_name_or_registration_code(
    client, producer_account, own_producer, unchanged, change
):
    with unchanged():
        response = client.patch(
            f"{API}/producers/{own_producer.id}", json=change, headers=producer_account.headers
        )
    body = assert_error(response, 403, code="forbidden")
    for field in set(change) - {"phone"}:
        assert field in body["message_en"]


def test_may_a_producer_change_another_producer(client, producer_account, producer, unchanged):
    with unchanged():
        response = client.patch(
            f"{API}/producers/{producer.id}",
            json={"address": "Thôn 5"},
            headers=producer_account.headers,
        )
    assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("role", ["producer_account", "inspector"])
def test_may_anyone_but_the_province_office_register_a_producer(
    client, request, unchanged, commune, role
):
    account = request.getfixturevalue(role)
    with unchanged():
        response = client.post(
            f"{API}/producers", json=producer_body(commune.id), headers=account.headers
        )
    assert_error(response, 403, code="forbidden")


def test_is_a_producers_own_bad_phone_refused_naming_it(
    client, producer_account, own_producer, unchanged
):
    with unchanged():
        response = client.patch(
            f"{API}/producers/{own_producer.id}",
            json={"phone": "số điện thoại"},
            headers=producer_account.headers,
        )
    body = assert_error(response, 422, field="phone")
    assert "0261 3544 123" in field_messages(body, "phone")


# -- products --------------------------------------------------------------------------------

BAD_PRODUCT_VALUES = [
    ("producer_id", "1"),
    ("producer_id", True),
    ("producer_id", 1.0),
    ("producer_id", None),
    ("name_vi", None),
    ("name_vi", ""),
    ("name_vi", "  "),
    ("name_vi", 123),
    ("name_vi", "x" * 256),
    ("name_en", ""),
    ("name_en", "x" * 256),
    ("product_group", "drinks"),
    ("product_group", "Food"),
    ("product_group", None),
    ("gtin", 8934563138165),
    ("gtin", ""),
    ("gtin", "893456313816A"),
    ("gtin", "89345631381"),
    ("gtin", "893456313816500"),
    ("description", "x" * 5001),
    ("description", 5),
    ("images", "https://example.vn/a.jpg"),
    ("images", [{"url": "ftp://example.vn/a.jpg"}]),
    ("images", [{"caption": "no url"}]),
    ("images", [{"url": "https://example.vn/a.jpg", "alt": "x"}]),
    ("images", [{"url": f"https://example.vn/{i}.jpg"} for i in range(21)]),
    ("standards", "TCVN 4193:2014"),
    ("standards", [""]),
    ("standards", [5]),
    ("standards", ["TCVN"] * 21),
    ("shelf_life_days", "365"),
    ("shelf_life_days", True),
    ("shelf_life_days", 1.5),
    ("shelf_life_days", 0),
    ("shelf_life_days", -1),
    ("shelf_life_days", 3651),
    ("listings", {"platform": "shopee", "url": "https://shopee.vn/x"}),
    ("listings", [{"platform": "amazon", "url": "https://amazon.com/x"}]),
    ("listings", [{"platform": "shopee", "url": "javascript:alert(1)"}]),
    ("listings", [{"platform": "shopee", "url": "ftp://shopee.vn/x"}]),
    ("listings", [{"platform": "shopee", "url": "shopee.vn/x"}]),
    ("listings", [{"platform": "shopee", "url": "https://shopee.vn/" + "a" * 2000}]),
    ("listings", [{"platform": "shopee"}]),
    # A marketplace's listing on another host, or over plain http: the resolver would send
    # shoppers there from the province's domain (an attacker's review, finding 6).
    ("listings", [{"platform": "shopee", "url": "https://phish.example/login"}]),
    ("listings", [{"platform": "shopee", "url": "https://shopee.vn.phish.example/x"}]),
    ("listings", [{"platform": "lazada", "url": "http://www.lazada.vn/x"}]),
    ("listings", [{"platform": "other", "url": f"https://x.vn/{i}"} for i in range(51)]),
    (
        "listings",
        [
            {"platform": "shopee", "url": "https://shopee.vn/ca-phe"},
            {"platform": "tiki", "url": "https://shopee.vn/ca-phe"},
        ],
    ),
]


@pytest.mark.parametrize(("field", "value"), BAD_PRODUCT_VALUES, ids=_ids(BAD_PRODUCT_VALUES))
def test_is_a_new_product_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, producer, field, value
):
    with unchanged():
        response = client.post(
            f"{API}/products",
            json=product_body(producer.id, **{field: value}),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(("field", "value"), BAD_PRODUCT_VALUES, ids=_ids(BAD_PRODUCT_VALUES))
def test_is_a_product_change_with_a_bad_field_refused_leaving_it_as_it_was(
    client, admin, unchanged, product, field, value
):
    # A good change rides along: it must not be written either.
    with unchanged():
        response = client.patch(
            f"{API}/products/{product.id}",
            json={"name_vi": "Tên đã đổi", field: value},
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["name_vi", "product_group", "producer_id"])
def test_is_a_new_product_missing_a_required_field_refused_naming_it(
    client, admin, unchanged, producer, field
):
    with unchanged():
        response = client.post(
            f"{API}/products", json=without(product_body(producer.id), field), headers=admin.headers
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["colour", "gtin14", "id", "producer", "updated_at", "stars"])
def test_is_a_product_with_an_unknown_field_refused_naming_it(
    client, admin, unchanged, producer, field
):
    with unchanged():
        response = client.post(
            f"{API}/products",
            json=product_body(producer.id, **{field: "x"}),
            headers=admin.headers,
        )
    body = assert_error(response, 422, field=field)
    assert "Unknown field." in field_messages(body, field)


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        pytest.param("96385075", 4, id="GTIN-8"),
        pytest.param("036000291453", 2, id="GTIN-12"),
        pytest.param("4006381333932", 1, id="GTIN-13"),
        pytest.param("8934563138160", 5, id="GTIN-13-Vietnam"),
        pytest.param("10614141000416", 5, id="GTIN-14"),
    ],
)
def test_a_gtin_with_a_wrong_check_digit_is_refused_with_the_digit_expected(
    client, admin, unchanged, producer, product, gtin, expected
):
    with unchanged():
        created = client.post(
            f"{API}/products", json=product_body(producer.id, gtin=gtin), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/products/{product.id}", json={"gtin": gtin}, headers=admin.headers
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="gtin", code="validation_error")
        assert body["errors"]["json"]["gtin"] == [
            f"Wrong GTIN check digit: {gtin[:-1]} must end in {expected}, not {gtin[-1]}."
        ]


@pytest.mark.parametrize(
    "gtin",
    [
        pytest.param("400638133393X", id="letter"),
        pytest.param("4OO6381333931", id="letter-O-for-zero"),
        pytest.param("4006-381-333-931", id="dashes"),
        pytest.param("40063813339３1", id="fullwidth-digit"),
        pytest.param("1234565", id="7-digits"),
        pytest.param("123456789", id="9-digits"),
        pytest.param("12345678901", id="11-digits"),
        pytest.param("123456789012345", id="15-digits"),
    ],
)
def test_is_a_gtin_with_letters_or_the_wrong_length_refused(
    client, admin, unchanged, producer, gtin
):
    with unchanged():
        response = client.post(
            f"{API}/products", json=product_body(producer.id, gtin=gtin), headers=admin.headers
        )
    body = assert_error(response, 422, field="gtin")
    assert "8, 12, 13 or 14 digits" in field_messages(body, "gtin")


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        pytest.param("8934563138165", "8934563138165", id="same-GTIN-13"),
        pytest.param("8934563138165", "08934563138165", id="GTIN-13-then-as-GTIN-14"),
        pytest.param("08934563138165", "8934563138165", id="GTIN-14-then-as-GTIN-13"),
        pytest.param("036000291452", "0036000291452", id="GTIN-12-then-as-GTIN-13"),
        pytest.param("96385074", "00000096385074", id="GTIN-8-then-as-GTIN-14"),
    ],
)
def test_is_a_duplicate_gtin_refused_with_409_even_when_zero_padded(
    client, admin, unchanged, producer, existing, new
):
    ProductFactory(gtin=existing, gtin14=existing.zfill(14))
    other = ProductFactory()
    with unchanged():
        created = client.post(
            f"{API}/products", json=product_body(producer.id, gtin=new), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/products/{other.id}", json={"gtin": new}, headers=admin.headers
        )
    for response in (created, changed):
        assert_error(response, 409, field="gtin", code="conflict")


@pytest.mark.parametrize("producer_id", [999_999, 0, -1])
def test_is_a_product_for_a_producer_that_does_not_exist_refused(
    client, admin, unchanged, product, producer_id
):
    with unchanged():
        created = client.post(
            f"{API}/products", json=product_body(producer_id), headers=admin.headers
        )
        moved = client.patch(
            f"{API}/products/{product.id}", json={"producer_id": producer_id}, headers=admin.headers
        )
    expected = "No producer has this id." if producer_id > 0 else "Not a valid id"
    for response in (created, moved):
        body = assert_error(response, 422, field="producer_id")
        assert expected in field_messages(body, "producer_id")


@pytest.mark.parametrize("producer_id", [TOO_BIG_FOR_64_BITS, 2**70])
def test_is_a_producer_id_too_big_for_64_bits_refused_with_422_not_500(
    client, admin, unchanged, producer_id
):
    with unchanged():
        response = client.post(
            f"{API}/products", json=product_body(producer_id), headers=admin.headers
        )
    assert_error(response, 422, field="producer_id")


def test_may_a_producer_add_a_product_for_another_producer(
    client, producer_account, producer, unchanged
):
    with unchanged():
        response = client.post(
            f"{API}/products", json=product_body(producer.id), headers=producer_account.headers
        )
    assert_error(response, 403, code="forbidden")


def test_may_a_producer_hand_its_product_to_another_producer(
    client, producer_account, own_producer, producer, unchanged
):
    own = ProductFactory(producer=own_producer)
    with unchanged():
        response = client.patch(
            f"{API}/products/{own.id}",
            json={"producer_id": producer.id},
            headers=producer_account.headers,
        )
    assert_error(response, 403, code="forbidden")


def test_may_a_producer_change_another_producers_product(
    client, producer_account, product, unchanged
):
    with unchanged():
        response = client.patch(
            f"{API}/products/{product.id}",
            json={"name_vi": "Của tôi"},
            headers=producer_account.headers,
        )
    assert_error(response, 404, code="not_found")


def test_may_an_inspector_add_a_product(client, inspector, producer, unchanged):
    with unchanged():
        response = client.post(
            f"{API}/products", json=product_body(producer.id), headers=inspector.headers
        )
    assert_error(response, 403, code="forbidden")


def test_does_a_listing_url_given_twice_name_the_url(client, admin, unchanged, product):
    url = "https://shopee.vn/ca-phe-dak-mil"
    with unchanged():
        response = client.patch(
            f"{API}/products/{product.id}",
            json={
                "listings": [{"platform": "shopee", "url": url}, {"platform": "other", "url": url}]
            },
            headers=admin.headers,
        )
    body = assert_error(response, 422, field="listings")
    assert url in field_messages(body, "listings")


# -- raw-material areas ------------------------------------------------------------------------

BAD_AREA_VALUES = [
    ("producer_id", "1"),
    ("producer_id", None),
    ("name", ""),
    ("name", None),
    ("name", "x" * 256),
    ("commune_id", "12"),
    ("commune_id", True),
    ("commune_id", None),
    ("area_ha", "12"),
    ("area_ha", "1,5"),
    ("area_ha", True),
    ("area_ha", None),
    ("area_ha", 0),
    ("area_ha", -1.5),
    ("area_ha", 1_000_001),
    ("area_ha", [1]),
    ("crops", "coffee"),
    ("crops", [""]),
    ("crops", [1]),
    ("crops", ["x" * 101]),
    ("crops", ["coffee"] * 51),
    ("certifications", {"scheme": "vietgap"}),
    ("certifications", [{"scheme": "bio"}]),
    ("certifications", [{"reference": "VG-1"}]),
    ("certifications", [{"scheme": "vietgap", "valid_until": "01/07/2030"}]),
    ("certifications", [{"scheme": "vietgap", "valid_until": "2030-02-30"}]),
    ("certifications", [{"scheme": "vietgap", "issuer": "x"}]),
    ("geometry", "POINT(107.6 12.4)"),
    ("geometry", [107.6, 12.4]),
]


@pytest.mark.parametrize(("field", "value"), BAD_AREA_VALUES, ids=_ids(BAD_AREA_VALUES))
def test_is_a_new_area_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, producer, commune, field, value
):
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id, **{field: value}),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(("field", "value"), BAD_AREA_VALUES, ids=_ids(BAD_AREA_VALUES))
def test_is_an_area_change_with_a_bad_field_refused_leaving_it_as_it_was(
    client, admin, unchanged, area, field, value
):
    with unchanged():
        response = client.patch(
            f"{API}/areas/{area.id}",
            json={"name": "Tên đã đổi", field: value},
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["name", "commune_id", "area_ha", "producer_id"])
def test_is_a_new_area_missing_a_required_field_refused_naming_it(
    client, admin, unchanged, producer, commune, field
):
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=without(area_body(producer.id, commune.id), field),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["hectares", "polygon", "id", "commune"])
def test_is_an_area_with_an_unknown_field_refused_naming_it(
    client, admin, unchanged, producer, commune, field
):
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id, **{field: 1}),
            headers=admin.headers,
        )
    body = assert_error(response, 422, field=field)
    assert "Unknown field." in field_messages(body, field)


OPEN_RING = [*SQUARE[:4], [107.6001, 12.40]]
BAD_GEOMETRIES = [
    pytest.param({"type": "Polygon", "coordinates": [OPEN_RING]}, "is not closed", id="open"),
    pytest.param(
        {"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "is not closed", id="last-left-out"
    ),
    pytest.param(
        {"type": "Polygon", "coordinates": [[*SQUARE[:2], SQUARE[0]]]},
        "at least 4 positions",
        id="3-positions",
    ),
    pytest.param(
        {"type": "Polygon", "coordinates": [[SQUARE[0], SQUARE[0], SQUARE[0], SQUARE[0]]]},
        "fewer than 3 distinct",
        id="one-point-four-times",
    ),
    pytest.param(
        {"type": "Polygon", "coordinates": SQUARE},
        "at least 4 positions",
        id="ring-not-wrapped-in-a-list",
    ),
    pytest.param(
        {"type": "Point", "coordinates": [12.45, 107.62]},
        "GeoJSON puts longitude first",
        id="point-lat-lon-swapped",
    ),
    pytest.param(
        {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in SQUARE]]},
        "GeoJSON puts longitude first",
        id="polygon-lat-lon-swapped",
    ),
    pytest.param(
        {"type": "Point", "coordinates": [181, 12.4]}, "longitude 181", id="longitude-181"
    ),
    pytest.param(
        {"type": "Point", "coordinates": [107.6, -91]}, "latitude -91", id="latitude-minus-91"
    ),
    pytest.param({"type": "Point", "coordinates": [True, False]}, "finite numbers", id="booleans"),
    pytest.param(
        {"type": "Point", "coordinates": ["107.6", "12.4"]}, "finite numbers", id="strings"
    ),
    pytest.param({"type": "Point", "coordinates": [107.6, 12.4, 600, 1]}, "a position is", id="4d"),
    pytest.param(
        {"type": "LineString", "coordinates": SQUARE}, "'Point' or 'Polygon'", id="linestring"
    ),
    pytest.param(
        {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
        "'Point' or 'Polygon'",
        id="multipolygon",
    ),
    pytest.param(
        {"type": "GeometryCollection", "geometries": []},
        "Unknown geometry members",
        id="geometrycollection",
    ),
    pytest.param(
        {"type": "point", "coordinates": [107.6, 12.4]}, "'Point' or 'Polygon'", id="lowercase"
    ),
    pytest.param({"coordinates": [107.6, 12.4]}, "'Point' or 'Polygon'", id="no-type"),
    pytest.param(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [107.6, 12.4]},
            "properties": {},
        },
        "Unknown geometry members",
        id="feature",
    ),
    pytest.param(
        {"type": "Polygon", "coordinates": [SQUARE, OPEN_RING]},
        "Polygon hole 1 is not closed",
        id="open-hole",
    ),
    pytest.param(
        {
            "type": "Polygon",
            "coordinates": [
                [[107.6 + (i % 1000) * 1e-5, 12.4 + (i // 1000) * 1e-5] for i in range(10_000)]
                + [[107.6, 12.4]]
            ],
        },
        "more than 10000 positions",
        id="10001-positions",
    ),
]


@pytest.mark.parametrize(("geometry", "message"), BAD_GEOMETRIES)
def test_is_a_bad_geometry_refused_saying_what_is_wrong(
    client, admin, unchanged, producer, commune, area, geometry, message
):
    with unchanged():
        created = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id, geometry=geometry),
            headers=admin.headers,
        )
        changed = client.patch(
            f"{API}/areas/{area.id}", json={"geometry": geometry}, headers=admin.headers
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="geometry")
        assert message in field_messages(body, "geometry")


@pytest.mark.parametrize("bbox", ["hello", ["a\x00"], [107.6, 12.4]])
def test_is_a_geometry_with_a_bbox_that_is_not_numbers_refused(
    client, admin, unchanged, producer, commune, bbox
):
    geometry = {"type": "Point", "coordinates": [107.6, 12.4], "bbox": bbox}
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id, geometry=geometry),
            headers=admin.headers,
        )
    assert_error(response, 422, field="geometry")


@pytest.mark.parametrize("area_ha", [0.00001, 1e-9])
def test_is_an_area_that_rounds_to_zero_hectares_refused(
    client, admin, unchanged, producer, commune, area_ha
):
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id, area_ha=area_ha),
            headers=admin.headers,
        )
    assert_error(response, 422, field="area_ha")


def test_is_an_area_in_a_commune_that_no_longer_exists_refused_by_name(
    client, admin, unchanged, producer, area, closed_commune
):
    with unchanged():
        created = client.post(
            f"{API}/areas", json=area_body(producer.id, closed_commune.id), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/areas/{area.id}", json={"commune_id": closed_commune.id}, headers=admin.headers
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="commune_id")
        assert "Xã Đắk Sắk" in body["message"]
        assert "Xã Đắk Sắk" in field_messages(body, "commune_id")


def test_is_an_area_in_a_district_refused(client, admin, unchanged, producer, area):
    district = DistrictFactory()
    with unchanged():
        created = client.post(
            f"{API}/areas", json=area_body(producer.id, district.id), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/areas/{area.id}", json={"commune_id": district.id}, headers=admin.headers
        )
    for response in (created, changed):
        assert_error(response, 422, field="commune_id")


def test_is_an_area_with_a_commune_id_too_big_for_64_bits_refused_with_422_not_500(
    client, admin, unchanged, producer
):
    with unchanged():
        response = client.post(
            f"{API}/areas", json=area_body(producer.id, TOO_BIG_FOR_64_BITS), headers=admin.headers
        )
    assert_error(response, 422, field="commune_id")


def test_may_a_producer_add_an_area_for_another_producer(
    client, producer_account, producer, commune, unchanged
):
    with unchanged():
        response = client.post(
            f"{API}/areas",
            json=area_body(producer.id, commune.id),
            headers=producer_account.headers,
        )
    assert_error(response, 403, code="forbidden")


def test_may_a_producer_change_another_producers_area(client, producer_account, area, unchanged):
    with unchanged():
        response = client.patch(
            f"{API}/areas/{area.id}", json={"area_ha": 3}, headers=producer_account.headers
        )
    assert_error(response, 404, code="not_found")


# -- users -----------------------------------------------------------------------------------

BAD_USER_VALUES = [
    ("username", "Nguyen Van A"),
    ("username", "ab"),
    ("username", "x" * 65),
    ("username", "-dash"),
    ("username", "người"),
    ("username", 5),
    ("username", None),
    ("display_name", ""),
    ("display_name", "x" * 201),
    ("display_name", 5),
    ("email", "nope"),
    ("email", ""),
    ("role", "superuser"),
    ("role", "Admin"),
    ("role", None),
    ("producer_id", "1"),
    ("producer_id", True),
    ("is_active", "yes"),
    ("is_active", 1),
    ("is_active", None),
    ("password", "x" * 201),
    ("password", 1234567890),
    ("password", "short"),
    ("password", "123456789"),
]


@pytest.mark.parametrize(("field", "value"), BAD_USER_VALUES, ids=_ids(BAD_USER_VALUES))
def test_is_a_new_user_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, field, value
):
    with unchanged():
        response = client.post(
            f"{API}/users", json=user_body(**{field: value}), headers=admin.headers
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("password", ["123456789", "short", "ngắn quá"])
def test_is_a_password_shorter_than_10_characters_refused(client, admin, unchanged, password):
    target = UserFactory(role=Role.INSPECTOR, display_name="Tên cũ")
    with unchanged():
        created = client.post(
            f"{API}/users", json=user_body(password=password), headers=admin.headers
        )
        changed = client.patch(
            f"{API}/users/{target.id}",
            json={"display_name": "Tên mới", "password": password},
            headers=admin.headers,
        )
    for response in (created, changed):
        body = assert_error(response, 422, field="password")
        assert "10" in body["message"]
        assert "at least 10 characters" in field_messages(body, "password")


@pytest.mark.parametrize("field", ["username", "role"])
def test_is_a_new_user_missing_a_required_field_refused_naming_it(client, admin, unchanged, field):
    with unchanged():
        response = client.post(
            f"{API}/users", json=without(user_body(), field), headers=admin.headers
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["password_hash", "id", "tokens", "admin", "created_at"])
def test_is_a_user_with_an_unknown_field_refused_naming_it(client, admin, unchanged, field):
    with unchanged():
        response = client.post(
            f"{API}/users", json=user_body(**{field: "x"}), headers=admin.headers
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(user_body(role="producer"), id="missing"),
        pytest.param(user_body(role="producer", producer_id=None), id="null"),
    ],
)
def test_is_a_producer_account_without_producer_id_refused(client, admin, unchanged, body):
    with unchanged():
        response = client.post(f"{API}/users", json=body, headers=admin.headers)
    body = assert_error(response, 422, field="producer_id")
    assert "must name its producer" in field_messages(body, "producer_id")


def test_is_turning_an_account_into_a_producer_without_producer_id_refused(
    client, admin, unchanged
):
    target = UserFactory(role=Role.INSPECTOR)
    with unchanged():
        response = client.patch(
            f"{API}/users/{target.id}", json={"role": "producer"}, headers=admin.headers
        )
    assert_error(response, 422, field="producer_id")


def test_is_an_inspector_bound_to_a_producer_refused(client, admin, unchanged, producer):
    with unchanged():
        response = client.post(
            f"{API}/users", json=user_body(producer_id=producer.id), headers=admin.headers
        )
    assert_error(response, 422, field="producer_id")


def test_is_a_producer_account_for_a_producer_that_does_not_exist_refused(client, admin, unchanged):
    with unchanged():
        response = client.post(
            f"{API}/users",
            json=user_body(role="producer", producer_id=999_999),
            headers=admin.headers,
        )
    assert_error(response, 422, field="producer_id")


def test_is_a_producer_account_with_a_producer_id_too_big_for_64_bits_refused(
    client, admin, unchanged
):
    with unchanged():
        response = client.post(
            f"{API}/users",
            json=user_body(role="producer", producer_id=TOO_BIG_FOR_64_BITS),
            headers=admin.headers,
        )
    assert_error(response, 422, field="producer_id")


def test_is_a_taken_username_refused_with_409(client, admin, unchanged):
    with unchanged():
        response = client.post(
            f"{API}/users", json=user_body(username=admin.user.username), headers=admin.headers
        )
    assert_error(response, 409, field="username", code="conflict")


def test_may_a_username_be_changed(client, admin, unchanged):
    target = UserFactory(role=Role.INSPECTOR)
    with unchanged():
        response = client.patch(
            f"{API}/users/{target.id}", json={"username": "ten.moi"}, headers=admin.headers
        )
    assert_error(response, 422, field="username")


@pytest.mark.parametrize("display_name", ["   ", "Người\x00dùng"])
def test_is_a_blank_or_nul_display_name_refused(client, admin, unchanged, display_name):
    with unchanged():
        response = client.post(
            f"{API}/users", json=user_body(display_name=display_name), headers=admin.headers
        )
    assert_error(response, 422, field="display_name")


@pytest.mark.parametrize("role", ["producer_account", "inspector"])
def test_may_anyone_but_an_admin_create_an_account(client, request, unchanged, role):
    account = request.getfixturevalue(role)
    with unchanged():
        response = client.post(f"{API}/users", json=user_body(), headers=account.headers)
    assert_error(response, 403, code="forbidden")


# -- administrative units ----------------------------------------------------------------------

BAD_UNIT_VALUES = [
    ("name", ""),
    ("name", None),
    ("name", "x" * 121),
    ("code", ""),
    ("code", "x" * 17),
    ("level", "village"),
    ("level", "Commune"),
    ("level", None),
    ("valid_from", "01/07/2025"),
    ("valid_from", "2025-02-30"),
    ("valid_from", None),
    ("valid_from", 20250701),
    ("valid_to", "2025-06-30"),
    ("parent_id", "1"),
    ("parent_id", True),
    ("parent_id", 999_999),
    ("parent_id", None),
    ("successor_id", 999_999),
    ("successor_id", "2"),
    ("lat", 91),
    ("lat", "12.4"),
    ("lat", True),
    ("lon", -181),
    ("lon", [107.6]),
]


@pytest.mark.parametrize(("field", "value"), BAD_UNIT_VALUES, ids=_ids(BAD_UNIT_VALUES))
def test_is_a_new_unit_with_a_bad_field_refused_naming_the_field(
    client, admin, unchanged, province, field, value
):
    with unchanged():
        response = client.post(
            f"{API}/admin-units",
            json=unit_body(province.id, **{field: value}),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("field", ["name", "level", "valid_from"])
def test_is_a_new_unit_missing_a_required_field_refused_naming_it(
    client, admin, unchanged, province, field
):
    with unchanged():
        response = client.post(
            f"{API}/admin-units", json=without(unit_body(province.id), field), headers=admin.headers
        )
    assert_error(response, 422, field=field)


def test_is_a_commune_under_a_commune_refused(client, admin, unchanged, commune):
    with unchanged():
        response = client.post(
            f"{API}/admin-units", json=unit_body(commune.id), headers=admin.headers
        )
    body = assert_error(response, 422, field="parent_id")
    assert "cannot sit under a commune" in field_messages(body, "parent_id")


def test_may_a_unit_succeed_itself(client, admin, unchanged, commune):
    with unchanged():
        response = client.patch(
            f"{API}/admin-units/{commune.id}",
            json={"successor_id": commune.id, "valid_to": "2025-06-30"},
            headers=admin.headers,
        )
    assert_error(response, 422, field="successor_id")


def test_is_closing_a_unit_before_it_opened_refused(client, admin, unchanged, commune):
    with unchanged():
        response = client.patch(
            f"{API}/admin-units/{commune.id}",
            json={"valid_to": "2003-12-31"},
            headers=admin.headers,
        )
    assert_error(response, 422, field="valid_to")


@pytest.mark.parametrize("field", ["successor_id", "parent_id"])
def test_is_changing_a_unit_to_point_at_a_unit_that_does_not_exist_refused_naming_it(
    client, admin, unchanged, commune, field
):
    with unchanged():
        response = client.patch(
            f"{API}/admin-units/{commune.id}", json={field: 999_999}, headers=admin.headers
        )
    body = assert_error(response, 422, field=field)
    assert "No administrative unit has this id." in field_messages(body, field)


@pytest.mark.parametrize("field", ["successor_id", "parent_id"])
def test_is_a_unit_pointing_at_an_id_too_big_for_64_bits_refused_with_422(
    client, admin, unchanged, province, field
):
    with unchanged():
        response = client.post(
            f"{API}/admin-units",
            json=unit_body(province.id, **{field: TOO_BIG_FOR_64_BITS}),
            headers=admin.headers,
        )
    assert_error(response, 422, field=field)


def test_may_a_producer_add_an_administrative_unit(client, producer_account, province, unchanged):
    with unchanged():
        response = client.post(
            f"{API}/admin-units", json=unit_body(province.id), headers=producer_account.headers
        )
    assert_error(response, 403, code="forbidden")


# -- tokens and the Authorization header -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"name": ""}, id="empty"),
        pytest.param({"name": None}, id="null"),
        pytest.param({"name": 5}, id="number"),
        pytest.param({"name": "x" * 101}, id="101-characters"),
        pytest.param({"name": "ci", "ttl_days": 30}, id="unknown-field"),
    ],
)
def test_is_a_token_request_with_a_bad_name_refused(client, admin, unchanged, body):
    field = "ttl_days" if "ttl_days" in body else "name"
    with unchanged():
        response = client.post(f"{API}/auth/tokens", json=body, headers=admin.headers)
    assert_error(response, 422, field=field)


@pytest.mark.parametrize("name", ["   ", "máy\x00tính"])
def test_is_a_blank_or_nul_token_name_refused(client, admin, unchanged, name):
    with unchanged():
        response = client.post(f"{API}/auth/tokens", json={"name": name}, headers=admin.headers)
    assert_error(response, 422, field="name")


@pytest.fixture
def password_user(db_session: Session) -> User:
    return UserFactory(
        username="chi.lan", role=Role.INSPECTOR, password_hash=hash_password("mật khẩu đúng rồi")
    )


@pytest.mark.parametrize(
    ("headers", "failed_sign_ins"),
    [
        pytest.param({}, 0, id="no-credentials"),
        pytest.param(basic("chi.lan", "mật khẩu sai rồi"), 1, id="wrong-password"),
        pytest.param(basic("khong.co", "mật khẩu đúng rồi"), 1, id="unknown-user"),
        pytest.param(basic("chi.lan", ""), 1, id="empty-password"),
        pytest.param({"Authorization": "Basic !!!not-base64"}, 0, id="garbled-basic"),
        pytest.param({"Authorization": "Bearer ocop_garbage"}, 0, id="garbage-token"),
    ],
)
def test_is_a_token_refused_without_valid_credentials(
    client, password_user, unchanged, headers, failed_sign_ins
):
    with unchanged(failed_sign_ins=failed_sign_ins):  # failed password checks are audited
        response = client.post(f"{API}/auth/tokens", json={"name": "ci"}, headers=headers)
    assert_error(response, 401, code="not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_does_the_right_password_get_a_token(client, password_user):
    response = client.post(
        f"{API}/auth/tokens", json={"name": "ci"}, headers=basic("chi.lan", "mật khẩu đúng rồi")
    )
    assert response.status_code == 201, response.get_json()


def test_is_a_disabled_account_refused_a_token(client, db_session, password_user, unchanged):
    password_user.is_active = False
    db_session.flush()
    with unchanged(failed_sign_ins=1):
        response = client.post(
            f"{API}/auth/tokens", json={"name": "ci"}, headers=basic("chi.lan", "mật khẩu đúng rồi")
        )
    assert_error(response, 401)


@pytest.fixture
def dead_tokens(db_session: Session, admin: Any) -> dict[str, str]:
    """Tokens that no longer open anything, by how they died."""
    actor = system_principal("test")
    expired = issue_token(
        db_session, actor, admin.user, "old", ttl_days=1, now=utcnow() - timedelta(days=2)
    )
    revoked = issue_token(db_session, actor, admin.user, "revoked", ttl_days=30)
    revoke_token(db_session, actor, revoked.record.id)
    disabled_user = UserFactory(role=Role.ADMIN)
    disabled = issue_token(db_session, actor, disabled_user, "disabled", ttl_days=30)
    disabled_user.is_active = False  # as before disabling revoked tokens (issue 10)
    db_session.flush()
    return {
        "expired": expired.token,
        "revoked": revoked.token,
        "disabled-account": disabled.token,
        "garbage": "ocop_" + "A" * 43,
        "truncated": admin.token[:-1],
        "with-suffix": admin.token + "x",
    }


@pytest.mark.parametrize(
    ("how", "message_en"),
    [
        ("expired", "The token has expired."),
        ("revoked", "The token is invalid or revoked."),
        ("disabled-account", "This account is disabled."),
        ("garbage", "The token is invalid or revoked."),
        ("truncated", "The token is invalid or revoked."),
        ("with-suffix", "The token is invalid or revoked."),
    ],
)
def test_is_a_dead_token_refused_with_401_saying_why(
    client, dead_tokens, unchanged, producer, how, message_en
):
    headers = {"Authorization": f"Bearer {dead_tokens[how]}"}
    with unchanged():
        read = client.get(f"{API}/products", headers=headers)
        write = client.patch(
            f"{API}/producers/{producer.id}", json={"address": "Thôn 9"}, headers=headers
        )
        token = client.post(f"{API}/auth/tokens", json={"name": "again"}, headers=headers)
    for response in (read, write, token):
        body = assert_error(response, 401, code="not_authenticated")
        assert body["message_en"] == message_en
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="ocop"'


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Token {token}", id="Token"),
        pytest.param("JWT {token}", id="JWT"),
        pytest.param("Digest username=admin", id="Digest"),
        pytest.param("{token}", id="no-scheme"),
        pytest.param("Bearer", id="Bearer-without-token"),
        pytest.param("Bearer    ", id="Bearer-with-spaces"),
        pytest.param("Bearer:{token}", id="colon"),
        pytest.param("Basic {basic}", id="Basic-on-an-ordinary-route"),
    ],
)
def test_is_a_wrong_authorization_scheme_refused_with_401(
    client, admin, unchanged, producer, header
):
    value = header.format(token=admin.token, basic=base64.b64encode(b"admin:x").decode())
    headers = {"Authorization": value}
    with unchanged():
        read = client.get(f"{API}/products", headers=headers)
        write = client.patch(
            f"{API}/producers/{producer.id}", json={"address": "Thôn 9"}, headers=headers
        )
    for response in (read, write):
        assert_error(response, 401, code="not_authenticated")
        assert "WWW-Authenticate" in response.headers


def test_may_a_user_revoke_someone_elses_token(client, db_session, inspector, admin, unchanged):
    token_id = db_session.scalar(select(ApiToken.id).where(ApiToken.user_id == admin.user.id))
    with unchanged():
        response = client.delete(f"{API}/auth/tokens/{token_id}", headers=inspector.headers)
    assert_error(response, 404, code="not_found")


# -- ids in paths ----------------------------------------------------------------------------

RESOURCES = {
    "producers": ("Không tìm thấy chủ thể.", {"address": "Thôn 9"}),
    "products": ("Không tìm thấy sản phẩm.", {"name_vi": "Tên mới"}),
    "areas": ("Không tìm thấy vùng nguyên liệu.", {"name": "Tên mới"}),
    "admin-units": ("Không tìm thấy đơn vị hành chính.", {"name": "Tên mới"}),
    "users": ("Không tìm thấy người dùng.", {"display_name": "Tên mới"}),
}
PATCHABLE = list(RESOURCES)
DELETABLE = ["producers", "products", "areas"]


@pytest.mark.parametrize("resource", PATCHABLE)
@pytest.mark.parametrize("the_id", [999_999, 2**63 - 1])
def test_is_an_id_that_does_not_exist_answered_404(client, admin, unchanged, resource, the_id):
    message, change = RESOURCES[resource]
    path = f"{API}/{resource}/{the_id}"
    with unchanged():
        responses = [
            client.get(path, headers=admin.headers),
            client.patch(path, json=change, headers=admin.headers),
        ]
        if resource in DELETABLE:
            responses.append(client.delete(path, headers=admin.headers))
    for response in responses:
        body = assert_error(response, 404, code="not_found")
        assert body["message"] == message


def test_is_revoking_a_token_that_does_not_exist_answered_404(client, admin, unchanged):
    with unchanged():
        response = client.delete(f"{API}/auth/tokens/999999", headers=admin.headers)
    assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("resource", PATCHABLE)
@pytest.mark.parametrize(
    "the_id", [str(2**63), str(2**64), str(10**30), "0", "-1", "abc", "1.5", "1e3", "%20", "1 "]
)
def test_is_reading_an_id_that_is_not_a_64_bit_id_answered_404_not_500(
    client, admin, resource, the_id
):
    response = client.get(f"{API}/{resource}/{the_id}", headers=admin.headers)
    assert_error(response, 404, code="not_found")


ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    "digits", [ARABIC_INDIC_DIGITS, FULLWIDTH_DIGITS], ids=["arabic-indic", "fullwidth"]
)
def test_is_an_id_written_in_non_ascii_digits_answered_404(client, admin, product, digits):
    response = client.get(
        f"{API}/products/{str(product.id).translate(digits)}", headers=admin.headers
    )
    assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("resource", PATCHABLE)
@pytest.mark.parametrize("the_id", [str(2**63), str(2**64), str(10**30), "0"])
def test_is_changing_an_id_that_is_not_a_64_bit_id_answered_404(
    client, admin, unchanged, resource, the_id
):
    _message, change = RESOURCES[resource]
    path = f"{API}/{resource}/{the_id}"
    with unchanged():
        responses = [client.patch(path, json=change, headers=admin.headers)]
        if resource in DELETABLE:
            responses.append(client.delete(path, headers=admin.headers))
    for response in responses:
        assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("the_id", [str(2**63), str(2**64), "0", "abc"])
def test_is_revoking_a_token_id_that_is_not_a_64_bit_id_answered_404(
    client, admin, unchanged, the_id
):
    with unchanged():
        response = client.delete(f"{API}/auth/tokens/{the_id}", headers=admin.headers)
    assert_error(response, 404, code="not_found")


# -- query strings ---------------------------------------------------------------------------

LISTS = ["/producers", "/products", "/areas", "/admin-units", "/users"]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/products", "producer_id=abc", "producer_id"),
        ("/products", "producer_id=1.5", "producer_id"),
        ("/products", "product_group=drinks", "product_group"),
        ("/products", "has_gtin=maybe", "has_gtin"),
        ("/products", "has_listing=2", "has_listing"),
        ("/products", "district_id=", "district_id"),
        ("/products", "q=" + "a" * 101, "q"),
        ("/producers", "kind=coop", "kind"),
        ("/producers", "commune_id=twelve", "commune_id"),
        ("/producers", "district_id=true", "district_id"),
        ("/producers", "q=ca%00phe", "q"),
        ("/areas", "certification=bio", "certification"),
        ("/areas", "commune_id=[1]", "commune_id"),
        ("/areas", "producer_id=one", "producer_id"),
        ("/areas", "crop=" + "c" * 101, "crop"),
        ("/admin-units", "level=village", "level"),
        ("/admin-units", "valid_on=30/06/2025", "valid_on"),
        ("/admin-units", "valid_on=2025-02-30", "valid_on"),
        ("/admin-units", "parent_id=null", "parent_id"),
        ("/users", "role=root", "role"),
        ("/users", "producer_id=x", "producer_id"),
    ],
)
def test_is_a_filter_of_the_wrong_type_refused_under_query(client, admin, path, query, field):
    response = client.get(f"{API}{path}?{query}", headers=admin.headers)
    assert_error(response, 422, field=field, location="query")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=101", "page_size"),
        ("page_size=1000", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=-1", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=20.5", "page_size"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=first", "page"),
        ("page=1000001", "page"),
    ],
)
def test_is_a_page_out_of_range_refused_under_query(client, admin, path, query, field):
    response = client.get(f"{API}{path}?{query}", headers=admin.headers)
    body = assert_error(response, 422, field=field, location="query")
    if query == "page_size=101":
        assert "100" in body["message"]


@pytest.mark.parametrize("path", LISTS)
def test_is_a_page_size_of_100_still_fine(client, admin, path):
    response = client.get(f"{API}{path}?page_size=100", headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["page_size"] == 100


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/producers", "colour=red"),
        ("/products", "sort=name"),
        ("/areas", "pagesize=5"),
        ("/admin-units", "limit=5"),
        ("/users", "producerId=1"),
    ],
)
def test_is_an_unknown_query_parameter_refused_under_query(client, admin, path, param):
    response = client.get(f"{API}{path}?{param}", headers=admin.headers)
    name = param.split("=")[0]
    body = assert_error(response, 422, field=name, location="query")
    assert "Unknown field." in field_messages(body, name, "query")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/products", "producer_id"),
        ("/products", "district_id"),
        ("/producers", "commune_id"),
        ("/areas", "commune_id"),
        ("/admin-units", "parent_id"),
        ("/users", "producer_id"),
    ],
)
def test_is_an_id_filter_too_big_for_64_bits_refused_under_query(client, admin, path, param):
    response = client.get(f"{API}{path}?{param}={2**63}", headers=admin.headers)
    body = assert_error(response, 422, field=param, location="query")
    assert "id" in field_messages(body, param, "query")
