"""Fuzz every operation of the served OpenAPI document with schemathesis.

An independent check of two promises: no request a client can send gets a 5xx, and every
answer matches what ``/api/v1/openapi.json`` documents (status code, content type, body
schema), and a request the document says is invalid is refused with a 4xx. Requests go to
the Flask app in-process, as the admin (so they pass the role checks and reach the services),
inside the test's rolled-back transaction. Per operation: schemathesis' deterministic coverage
cases (boundary values, wrong types, missing parts), then hypothesis fuzzing with
schema-conforming (positive) and schema-breaking (negative) requests; ids in paths, queries
and bodies are often pointed at rows seeded here so they reach more than the 404 branch.

Generation is derandomized, so a run is repeatable and a failure is the same one in CI.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Account
from trace_service import create_app
from trace_service.auth.services import issue_token
from trace_service.certificates.expiry import sweep
from trace_service.certificates.models import ExpiryNotice
from trace_service.db import get_db, utcnow
from trace_service.principal import Role, system_principal

OPENAPI_PATH = "/api/v1/openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # same examples every run: CI failures reproduce locally
    database=None,  # nothing to replay: derandomized runs are repeatable by themselves
    # The app and the database are slow next to hypothesis' expectations, and schemathesis
    # filters generated values (e.g. negative cases that happen to be valid) on purpose.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
    print_blob=False,
)


def _served_operations() -> list[str]:
    """Labels ("GET /api/v1/products/{product_id}") of every operation the app documents.

    Read from a throw-away app at collection time so each operation is its own test (and can
    be marked on its own); the spec does not depend on the database.
    """
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    try:
        spec = app.test_client().get(OPENAPI_PATH).get_json()
    finally:
        get_db(app).engine.dispose()
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    ]


OPERATIONS = _served_operations()


def _seed(session: Session, admin: Account) -> dict[str, int]:
    """A little real data, by the parameter and field names that can point at it."""
    commune = factories.CommuneFactory()
    district = commune.parent
    province = district.parent
    producer = factories.ProducerFactory(commune=commune, email="htx@example.vn")
    product = factories.ProductFactory(producer=producer)
    area = factories.AreaFactory(producer=producer, commune=commune)
    certificate = factories.CertificateFactory(
        product=product, issue_date=date(2024, 1, 10), evaluation__council_unit=province
    )
    # A 4★ province evaluation with no certificate yet, so POST /certificates can succeed.
    evaluation = factories.EvaluationFactory(
        product=product, council_unit=province, evaluated_on=date(2024, 9, 1), score_a=35
    )
    # The daily sweep writes the 30-day notice (and its e-mail delivery), as it would in use.
    sweep(
        session,
        system_principal("test"),
        certificate.valid_until - timedelta(days=30),
        now=utcnow(),
    )
    notice = session.scalars(
        select(ExpiryNotice).where(ExpiryNotice.certificate_id == certificate.id)
    ).one()
    other_user = factories.UserFactory(role=Role.INSPECTOR)
    # A second token of the admin's, so that deleting "the" token does not lock the run out.
    spare = issue_token(session, system_principal("test"), admin.user, "spare", ttl_days=30)
    session.flush()
    return {
        "unit_id": commune.id,
        "commune_id": commune.id,
        "district_id": district.id,
        "parent_id": district.id,
        "council_unit_id": province.id,
        "issuing_unit_id": province.id,
        "producer_id": producer.id,
        "product_id": product.id,
        "area_id": area.id,
        "evaluation_id": evaluation.id,
        "certificate_id": certificate.id,
        "notice_id": notice.id,
        "user_id": other_user.id,
        "token_id": spare.record.id,
    }


def _strategy(
    operation: schemathesis.APIOperation, headers: dict[str, str], seeded: dict[str, int]
) -> st.SearchStrategy[schemathesis.Case]:
    """Schema-conforming and schema-breaking requests, plus conforming ones whose ids (in the
    path, the query and the body) point at the seeded rows."""

    def refer_to_seeded(case: schemathesis.Case) -> schemathesis.Case:
        for container in (case.query, case.body):
            if isinstance(container, dict):
                for name in container.keys() & seeded.keys():
                    container[name] = seeded[name]
        return case

    path_names = [p.name for p in operation.path_parameters]
    known = {name: seeded[name] for name in path_names if name in seeded}
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers, path_parameters=known).map(
            refer_to_seeded
        ),
    )


def _coverage_cases(operation: schemathesis.APIOperation) -> list[schemathesis.Case]:
    """Schemathesis' deterministic coverage phase: boundary and just-outside values of every
    parameter and field (empty lists, min/max, wrong types, missing required ones).

    ``schema.parametrize()`` runs this phase too, but it builds its own tests and cannot take
    the per-test app, session and token; the generator is pinned with schemathesis.
    """
    schema = operation.schema
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    return list(generator)


def _point_path_at_seeded(case: schemathesis.Case, seeded: dict[str, int]) -> None:
    """Valid ids in the path name seeded rows (on PostgreSQL, sequences are not rolled back,
    so id 1 rarely exists); invalid ones ("0", "null", -1) are left to be refused."""
    for name, value in (case.path_parameters or {}).items():
        if name in seeded and str(value).isdigit() and 1 <= int(value) < 2**63:
            case.path_parameters[name] = seeded[name]


def _fuzz(
    operation: schemathesis.APIOperation, strategy: st.SearchStrategy[schemathesis.Case]
) -> Callable[[], None]:
    @FUZZ_SETTINGS
    @hypothesis.given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    return run


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_matches_openapi_and_never_fails(
    app: Flask, db_session: Session, admin: Account, label: str
) -> None:
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is no longer served"
    seeded = _seed(db_session, admin)
    # The WSGI transport hands schemathesis the body as sent; a real client would decode a
    # compressed one, so ask for none.
    headers = {**admin.headers, "Accept-Encoding": "identity"}
    for case in _coverage_cases(operation):
        _point_path_at_seeded(case, seeded)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
    _fuzz(operation, _strategy(operation, headers, seeded))()
