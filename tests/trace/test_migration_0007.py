"""Migration 0007: existing events get who recorded them from the audit log; what the log
cannot attribute to a user is recorded by the system; lots get a unit count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from tests.databases import fresh_database
from trace_service.db import make_engine
from trace_service.migrate import upgrade

NOW = "2025-12-01 00:00:00"
SETUP = [
    "INSERT INTO admin_units (id, name, level, valid_from, search_key)"
    " VALUES (1, 'Xã Thử', 'commune', '2004-01-01', '')",
    "INSERT INTO producers (id, kind, name, registration_code, address, commune_id,"
    " representative, search_key, created_at, updated_at) VALUES (1, 'other', 'HTX', '6400000001',"
    " 'B', 1, 'C', '', :now, :now)",
    "INSERT INTO users (id, username, display_name, role, producer_id, is_active, created_at,"
    " updated_at) VALUES (10, 'htx', 'HTX', 'producer', 1, true, :now, :now),"
    " (11, 'thanhtra', 'Thanh tra', 'inspector', NULL, true, :now, :now),"
    " (12, 'vanphong', 'Văn phòng', 'admin', NULL, true, :now, :now)",
    "INSERT INTO raw_material_areas (id, producer_id, name, commune_id, area_ha, crops,"
    " certifications, search_key, crops_key, created_at, updated_at) VALUES (1, 1, 'V', 1, 1,"
    " '[]', '[]', '', '|', :now, :now)",
    "INSERT INTO lots (id, code, producer_id, material, quantity, unit, created_at)"
    " VALUES (1, 'H-1', 1, 'Quả cà phê', 100, 'kg', :now)",
]
# (id, kind, recorded_by, corrects_event_id)
EVENTS = [
    (1, "harvest", 10, None),  # the producer, through the API
    (2, "inspection", 11, None),  # the inspector
    (3, "correction", 12, 2),  # the office corrects the inspection
    (4, "harvest", None, None),  # demo data: no user
    (5, "shipping", 10, None),  # no audit entry at all
]
# (event id the entry names, tag, actor_user_id, actor, details)
AUDIT = [
    ("1", "trace:event:recorded", 10, "htx", {"kind": "harvest"}),
    ("2", "trace:event:recorded", 11, "thanhtra", {"kind": "inspection"}),
    ("2", "trace:event:corrected", 12, "vanphong", {"correction": 3, "reason": "Nhầm"}),
    ("4", "trace:event:recorded", None, "demo", {"kind": "harvest"}),
    ("1", "trace:attachment:added", 12, "vanphong", {"attachment": 1}),  # not a recording
]


def _seed(connection) -> None:
    for sql in SETUP:
        connection.execute(text(sql), {"now": NOW})
    for event_id, kind, user_id, corrects in EVENTS:
        connection.execute(
            text(
                "INSERT INTO trace_events (id, uri, kind, event_time, time_zone, producer_id,"
                " details, corrects_event_id, recorded_by, recorded_at) VALUES (:id, :uri,"
                " :kind, :now, '+07:00', 1, '{}', :corrects, :user, :now)"
            ),
            {
                "id": event_id,
                "uri": f"urn:uuid:00000000-0000-4000-8000-00000000000{event_id}",
                "kind": kind,
                "now": NOW,
                "corrects": corrects,
                "user": user_id,
            },
        )
    for n, (object_id, tag, user_id, actor, details) in enumerate(AUDIT, start=1):
        connection.execute(
            text(
                "INSERT INTO audit_events (id, occurred_at, actor_user_id, actor, tag,"
                " object_type, object_id, details, prev_hash, hash) VALUES (:id, :now, :user,"
                " :actor, :tag, 'trace_event', :object_id, :details, :prev, :hash)"
            ),
            {
                "id": n,
                "now": NOW,
                "user": user_id,
                "actor": actor,
                "tag": tag,
                "object_id": object_id,
                "details": json.dumps(details),
                "prev": f"{n - 1:064d}",
                "hash": f"{n:064d}",
            },
        )


@contextmanager
def _migrated(backend: str, tmp_path) -> Iterator[Engine]:
    """A database with the rows above written at 0005, then migrated to 0007."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0005")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                _seed(connection)
            upgrade(url, "0007")
            yield engine
        finally:
            engine.dispose()


def test_existing_events_get_their_recorder_from_the_audit_log(backend, tmp_path):
    with _migrated(backend, tmp_path) as engine, engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, recorded_by, recorder_name, recorder_role FROM trace_events ORDER BY id"
            )
        ).all()
        unit_count = connection.execute(text("SELECT unit_count FROM lots")).scalar()
    assert [tuple(row) for row in rows] == [
        (1, 10, "htx", "producer"),
        (2, 11, "thanhtra", "inspector"),
        (3, 12, "vanphong", "admin"),
        (4, None, "demo", "system"),
        (5, None, "system", "system"),
    ]
    assert unit_count is None


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE trace_events SET recorder_role = 'owner'",
        "UPDATE lots SET unit_count = 0",
    ],
)
def test_the_database_refuses_an_unknown_role_or_a_unit_count_of_zero(backend, tmp_path, sql):
    with (
        _migrated(backend, tmp_path) as engine,
        pytest.raises(IntegrityError),
        engine.begin() as connection,
    ):
        connection.execute(text(sql))
