"""The one scoping rule: a producer sees only its own, through each model's owner path, the
same in Python and in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from trace_service.auth import scoping
from trace_service.certificates.models import Certificate
from trace_service.errors import NotFound
from trace_service.models import Base
from trace_service.principal import Principal, Role
from trace_service.registry.models import AdministrativeUnit, Producer, Product


def _producer(producer_id: int) -> Principal:
    return Principal(user_id=1, name="p", role=Role.PRODUCER, producer_id=producer_id)


OFFICE = Principal(user_id=2, name="office", role=Role.ADMIN)
INSPECTOR = Principal(user_id=3, name="inspector", role=Role.INSPECTOR)


def _missing() -> NotFound:
    return NotFound("Không tìm thấy.", "Not found.")


@pytest.fixture
def two(db_session):
    mine, theirs = factories.ProducerFactory(), factories.ProducerFactory()
    mine_cert = factories.CertificateFactory(product=factories.ProductFactory(producer=mine))
    their_cert = factories.CertificateFactory(product=factories.ProductFactory(producer=theirs))
    return mine, theirs, mine_cert, their_cert


def test_does_a_producer_get_its_own_certificate_and_not_anothers(db_session, two):
    mine, _theirs, mine_cert, their_cert = two
    actor = _producer(mine.id)
    assert scoping.owner_of(mine_cert) == mine.id
    got = scoping.get_owned(db_session, actor, Certificate, mine_cert.id, _missing)
    assert got is mine_cert
    with pytest.raises(NotFound):
        scoping.get_owned(db_session, actor, Certificate, their_cert.id, _missing)
    with pytest.raises(NotFound):
        scoping.get_owned(db_session, actor, Certificate, 10**12, _missing)
    for other in (OFFICE, INSPECTOR):
        assert scoping.get_owned(db_session, other, Certificate, their_cert.id, _missing)


@pytest.mark.parametrize("model", [Certificate, Product, Producer])
def test_does_a_scoped_list_hold_exactly_what_get_owned_returns(db_session, two, model):
    mine = two[0]
    actor = _producer(mine.id)
    everything = db_session.scalars(select(model)).all()
    listed = set(db_session.scalars(scoping.scoped(select(model), actor, model)))
    assert listed == {row for row in everything if scoping.may_see(actor, row)}
    assert listed and len(listed) < len(everything)
    total = select(func.count()).select_from(model)
    assert db_session.scalar(scoping.scoped(total, OFFICE, model)) == len(everything)


def test_does_every_model_that_belongs_to_a_producer_declare_its_owner():
    """A new model with a producer behind it must say how to reach it, or scoping fails."""
    unowned = {AdministrativeUnit.__name__, "User", "ApiToken", "AuditEvent"}
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if model.__name__ in unowned or not _reaches_a_producer(mapper):
            continue
        assert scoping.owner_path(model), model.__name__


def _reaches_a_producer(mapper, seen=()) -> bool:
    if mapper.class_ is Producer:
        return True
    return any(
        rel.direction.name == "MANYTOONE"
        and rel.mapper not in seen
        and _reaches_a_producer(rel.mapper, (*seen, mapper))
        for rel in mapper.relationships
    )


def test_a_model_without_an_owner_path_is_refused():
    with pytest.raises(TypeError, match="__owner__"):
        scoping.owner_path(AdministrativeUnit)
