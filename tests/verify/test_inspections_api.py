"""Field inspections sent by inspectors' devices: recorded once however often sent, audited,
listed to the inspector (their own) and the office (all)."""

from __future__ import annotations

from tests.conftest import make_account
from trace_service.audit.models import AuditEvent
from trace_service.principal import Role
from trace_service.verify.models import FieldInspection

P = "/api/v1"
FOUND = {
    "client_id": "3f2a9c1e-7b4d-4e8a-9c1f-2d3e4f5a6b7c",
    "serial": "7K3M9QXA2BCDEF4",
    "checked_at": "2026-12-03T09:15:00+07:00",
    "place": "Chợ Gia Nghĩa, quầy 12",
    "latitude": 12.0042,
    "longitude": 107.6907,
    "result": "failed",
    "verdict": "invalid_signature",
    "notes": "Tem in mờ, chữ ký không đúng",
    "sample_taken": True,
}


def test_an_inspection_sent_twice_is_recorded_once_and_audited(client, inspector, db_session):
    first = client.post(f"{P}/inspections", headers=inspector.headers, json=FOUND)
    assert first.status_code == 201, first.json
    assert first.json["result"] == "failed" and first.json["inspector_id"] == inspector.user.id
    again = client.post(f"{P}/inspections", headers=inspector.headers, json=FOUND)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert db_session.query(FieldInspection).count() == 1
    audited = db_session.query(AuditEvent).filter_by(tag="verify:inspection:recorded").all()
    assert [event.object_id for event in audited] == [str(first.json["id"])]
    other = {**FOUND, "result": "passed"}
    assert client.post(f"{P}/inspections", headers=inspector.headers, json=other).status_code == 409


def test_inspections_are_listed_to_their_inspector_and_the_office(
    client, inspector, admin, db_session
):
    client.post(f"{P}/inspections", headers=inspector.headers, json=FOUND)
    colleague = make_account(db_session, Role.INSPECTOR)
    assert client.get(f"{P}/inspections", headers=colleague.headers).json["items"] == []
    assert len(client.get(f"{P}/inspections", headers=admin.headers).json["items"]) == 1
    mine = client.get(f"{P}/inspections", headers=inspector.headers).json["items"]
    assert [item["client_id"] for item in mine] == [FOUND["client_id"]]


def test_what_is_not_an_inspection_is_refused(client, inspector, admin, producer_account):
    def sent(headers, **changes):
        return client.post(f"{P}/inspections", headers=headers, json={**FOUND, **changes})

    assert sent(inspector.headers, result="maybe").status_code == 422
    assert sent(inspector.headers, latitude=None).status_code == 422  # half a position
    assert sent(inspector.headers, client_id="x").status_code == 422
    assert sent(inspector.headers, checked_at="2026-12-03T09:15:00").status_code == 422
    assert sent(inspector.headers, product_id=999999).status_code == 422
    assert sent(producer_account.headers).status_code == 403
    assert sent(admin.headers).status_code == 403  # the office decides; inspectors record


def test_a_failed_check_proposes_a_recall_and_the_office_decides_once(
    client, inspector, admin, db_session
):
    proposed = {**FOUND, "proposal": "recall"}
    sent = client.post(f"{P}/inspections", headers=inspector.headers, json=proposed)
    assert sent.status_code == 201 and sent.json["proposal"] == "recall"
    assert sent.json["decision"] is None
    passed = {**FOUND, "client_id": "another-id-1234", "result": "passed", "proposal": "recall"}
    assert (
        client.post(f"{P}/inspections", headers=inspector.headers, json=passed).status_code == 422
    )
    url = f"{P}/inspections/{sent.json['id']}/decision"
    # (accepting recalls the lot: tests/verify/test_field_inspections.py)
    decision = {"accepted": False, "reason": "Mẫu xét nghiệm trong ngưỡng cho phép"}
    assert client.post(url, headers=inspector.headers, json=decision).status_code == 403
    decided = client.post(url, headers=admin.headers, json=decision)
    assert decided.status_code == 200, decided.json
    assert decided.json["decision"] == "rejected"
    assert decided.json["decision_reason"] == "Mẫu xét nghiệm trong ngưỡng cho phép"
    assert client.post(url, headers=admin.headers, json=decision).status_code == 409
    audited = db_session.query(AuditEvent).filter_by(tag="verify:inspection:decided").one()
    assert audited.details["decision"] == "rejected"
    plain = client.post(
        f"{P}/inspections", headers=inspector.headers, json={**FOUND, "client_id": "plain-12345"}
    ).json
    no_proposal = client.post(
        f"{P}/inspections/{plain['id']}/decision", headers=admin.headers, json=decision
    )
    assert no_proposal.status_code == 409
