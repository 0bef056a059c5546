"""The audit log records every change, chains each event to the one before, and notices edits."""

from __future__ import annotations

from sqlalchemy import select, update

from tests import factories
from trace_service.audit.models import AuditEvent
from trace_service.audit.services import GENESIS_HASH, changes, record_event, verify_chain
from trace_service.audit.tags import Tag
from trace_service.principal import system_principal

ACTOR = system_principal("test")


def _events(session):
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_events_chain_each_to_the_one_before(db_session):
    before = len(_events(db_session))
    first = record_event(db_session, ACTOR, Tag.PRODUCT_CREATED, "product", 1, {"a": 1})
    second = record_event(db_session, ACTOR, Tag.PRODUCT_UPDATED, "product", 1, {"a": [1, 2]})
    assert second.prev_hash == first.hash
    if before == 0:
        assert first.prev_hash == GENESIS_HASH
    report = verify_chain(db_session)
    assert report.intact and report.events == before + 2


def test_an_edited_event_breaks_the_chain_at_that_event(db_session):
    record_event(db_session, ACTOR, Tag.PRODUCT_CREATED, "product", 1, {"name": "Cà phê"})
    target = record_event(db_session, ACTOR, Tag.PRODUCT_UPDATED, "product", 1, {"x": 1})
    record_event(db_session, ACTOR, Tag.PRODUCT_DELETED, "product", 1, {})
    db_session.execute(
        update(AuditEvent).where(AuditEvent.id == target.id).values(details={"x": 2})
    )
    db_session.expire_all()
    report = verify_chain(db_session)
    assert not report.intact
    assert report.first_broken_id == target.id


def test_a_deleted_event_breaks_the_chain(db_session):
    record_event(db_session, ACTOR, Tag.PRODUCT_CREATED, "product", 1, {})
    middle = record_event(db_session, ACTOR, Tag.PRODUCT_UPDATED, "product", 1, {})
    last = record_event(db_session, ACTOR, Tag.PRODUCT_DELETED, "product", 1, {})
    db_session.delete(middle)
    db_session.flush()
    db_session.expire_all()
    assert verify_chain(db_session).first_broken_id == last.id


def test_changes_lists_only_what_differs():
    assert changes({"a": 1, "b": "x"}, {"a": 1, "b": "y"}) == {"b": ["x", "y"]}


def test_every_api_change_is_audited_with_its_actor(client, admin, db_session):
    commune = factories.CommuneFactory()
    response = client.post(
        "/api/v1/producers",
        headers=admin.headers,
        json={
            "kind": "household_business",
            "name": "Hộ kinh doanh Trần Thị Lan",
            "registration_code": "64a8001234",
            "address": "Thôn Đức Thành",
            "commune_id": commune.id,
            "representative": "Trần Thị Lan",
            "phone": "0905 123 456",
        },
    )
    assert response.status_code == 201, response.json
    producer_id = response.json["id"]
    client.patch(
        f"/api/v1/producers/{producer_id}", headers=admin.headers, json={"email": "lan@example.vn"}
    )
    client.delete(f"/api/v1/producers/{producer_id}", headers=admin.headers)
    events = [
        e
        for e in _events(db_session)
        if e.object_type == "producer" and e.object_id == str(producer_id)
    ]
    assert [e.tag for e in events] == [
        Tag.PRODUCER_CREATED,
        Tag.PRODUCER_UPDATED,
        Tag.PRODUCER_DELETED,
    ]
    assert {e.actor for e in events} == {admin.user.username}
    assert events[0].details["registration_code"] == "64A8001234"
    assert events[1].details == {"email": [None, "lan@example.vn"]}


def test_the_audit_api_filters_and_verifies(client, admin, inspector):
    factories.ProducerFactory()
    client.post("/api/v1/auth/tokens", headers=admin.headers, json={"name": "x"})
    listed = client.get("/api/v1/audit-events?tag=auth:token:created", headers=inspector.headers)
    assert listed.status_code == 200
    assert listed.json["total"] >= 1
    assert {e["tag"] for e in listed.json["items"]} == {"auth:token:created"}
    verified = client.get("/api/v1/audit-events/verify", headers=inspector.headers)
    assert verified.json["intact"] is True
