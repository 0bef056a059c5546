"""who recorded each trace event; how many units a packed lot holds

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02

Events get the name and role of who recorded them. Existing events take theirs from the
audit log: the ``trace:event:recorded`` entry of the event (``trace:event:corrected`` for a
correction, which names the correction in its details) names the acting user, whose role is
read from ``users``. Events the log cannot attribute to a user (demo data and the command line
act as no user; an event without an entry) are recorded by the system, under the name the
log gives (``demo``, ``cli``) or ``system``. Lots get ``unit_count``.

Columns are added with plain ALTER TABLE (no batch table rebuild): on SQLite a rebuild
drops and re-creates ``trace_events`` and ``lots``, which rows of other tables refer to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEM = "system"
ROLES = ("admin", "producer", "inspector")

events = sa.table(
    "trace_events",
    sa.column("id", sa.Integer),
    sa.column("recorded_by", sa.Integer),
    sa.column("recorder_name", sa.String),
    sa.column("recorder_role", sa.String),
)
audit = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("actor_user_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("tag", sa.String),
    sa.column("object_id", sa.String),
    sa.column("details", sa.JSON),
)
users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
)


def _recorders(connection: sa.Connection) -> dict[int, tuple[int | None, str]]:
    """(user id or None, actor's name) by trace event id, from the audit log."""
    found: dict[int, tuple[int | None, str]] = {}
    rows = connection.execute(
        sa.select(audit.c.tag, audit.c.object_id, audit.c.details, audit.c.actor_user_id, audit.c.actor)
        .where(audit.c.tag.in_(("trace:event:recorded", "trace:event:corrected")))
        .order_by(audit.c.id)
    )
    for tag, object_id, details, user_id, actor in rows:
        if tag == "trace:event:recorded":
            event_id = object_id
        else:  # the entry is about the corrected event; the correction is in the details
            event_id = (details or {}).get("correction")
        if event_id is not None and str(event_id).isdigit():
            found.setdefault(int(event_id), (user_id, actor))
    return found


def upgrade() -> None:
    op.add_column(
        "trace_events",
        sa.Column("recorder_name", sa.String(length=80), server_default=SYSTEM, nullable=False),
    )
    op.add_column(
        "trace_events",
        sa.Column(
            "recorder_role",
            sa.String(length=16),
            sa.CheckConstraint(
                "recorder_role IN ('admin', 'producer', 'inspector', 'system')",
                name=op.f("ck_trace_events_recorder_role"),
            ),
            server_default=SYSTEM,
            nullable=False,
        ),
    )
    op.add_column(
        "lots",
        sa.Column(
            "unit_count",
            sa.Integer(),
            sa.CheckConstraint("unit_count > 0", name=op.f("ck_lots_positive_unit_count")),
            nullable=True,
        ),
    )

    connection = op.get_bind()
    accounts = {
        user_id: (username, role)
        for user_id, username, role in connection.execute(
            sa.select(users.c.id, users.c.username, users.c.role)
        )
    }
    recorders = _recorders(connection)
    updates = []
    for (event_id,) in connection.execute(sa.select(events.c.id)):
        user_id, actor = recorders.get(event_id, (None, SYSTEM))
        username, role = accounts.get(user_id, (None, None))
        if role in ROLES:
            row = {"key": event_id, "user": user_id, "name": actor or username, "role": role}
        else:  # demo, command line, no entry: the system
            row = {"key": event_id, "user": None, "name": actor or SYSTEM, "role": SYSTEM}
        updates.append(row)
    if updates:
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("key"))
            .values(
                recorded_by=sa.bindparam("user"),
                recorder_name=sa.bindparam("name"),
                recorder_role=sa.bindparam("role"),
            ),
            updates,
        )


def downgrade() -> None:
    op.drop_column("lots", "unit_count")
    op.drop_column("trace_events", "recorder_role")
    op.drop_column("trace_events", "recorder_name")
