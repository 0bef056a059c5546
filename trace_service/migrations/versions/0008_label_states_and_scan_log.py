"""what happened to each stamp since printing; the scan log, by month on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``label_states``: one row per stamp once it is scanned, voided or its scratch code entered
(counters, the last few clients, the copy flag, the voiding, the scratch check).

``label_scans``: the append-only scan log. On PostgreSQL it is partitioned by month of
``scanned_at`` from the start: the parent here, this month's and next month's partitions and
a default partition (so a scan never fails for want of a partition), all partitions in the
schema ``label_scan_months``; ``flask labels prune-scans`` adds the months ahead and drops the
months past the retention.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
PARTITIONS = "label_scan_months"


def _month_partition(first: date) -> str:
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        f"CREATE TABLE IF NOT EXISTS {PARTITIONS}.label_scans_{first:%Y%m} PARTITION OF "
        f"label_scans FOR VALUES FROM ('{first.isoformat()} 00:00+00') "
        f"TO ('{after.isoformat()} 00:00+00')"
    )


def _partitioned_scan_log() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITIONS}")
    op.execute(
        "CREATE TABLE label_scans ("
        " label_id BIGINT NOT NULL,"
        " scanned_at TIMESTAMP WITH TIME ZONE NOT NULL,"
        " client_hash VARCHAR(32) NOT NULL,"
        " device VARCHAR(8) NOT NULL,"
        " source VARCHAR(8) NOT NULL,"
        " CONSTRAINT fk_label_scans_label_id_labels FOREIGN KEY (label_id) REFERENCES labels (id)"
        ") PARTITION BY RANGE (scanned_at)"
    )
    op.execute(f"CREATE TABLE {PARTITIONS}.label_scans_default PARTITION OF label_scans DEFAULT")
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    next_month = date(this_month.year + this_month.month // 12, this_month.month % 12 + 1, 1)
    for first in (this_month, next_month):
        op.execute(_month_partition(first))


def _plain_scan_log() -> None:
    op.create_table(
        "label_scans",
        sa.Column("label_id", BIG, nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_hash", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_label_scans_label_id_labels")
        ),
    )


def upgrade() -> None:
    op.create_table(
        "label_states",
        sa.Column("label_id", BIG, nullable=False),
        sa.Column("scan_count", BIG, nullable=False),
        sa.Column("counted_views", BIG, nullable=False, server_default="0"),
        sa.Column("first_scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recent_clients", JSON, nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag_reason", sa.String(length=16), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by", BIG, nullable=True),
        sa.Column("scratch_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scratch_failures", BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_label_states_label_id_labels")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"], ["users.id"], name=op.f("fk_label_states_voided_by_users")
        ),
        sa.PrimaryKeyConstraint("label_id", name=op.f("pk_label_states")),
    )
    op.create_index(
        op.f("ix_label_states_flagged_at"), "label_states", ["flagged_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        _partitioned_scan_log()
    else:
        _plain_scan_log()
    op.create_index("ix_label_scans_label_id_scanned_at", "label_scans", ["label_id", "scanned_at"])
    op.create_index("ix_label_scans_scanned_at", "label_scans", ["scanned_at"])


def downgrade() -> None:
    op.drop_index("ix_label_scans_scanned_at", table_name="label_scans")
    op.drop_index("ix_label_scans_label_id_scanned_at", table_name="label_scans")
    op.drop_table("label_scans")  # its partitions go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITIONS} CASCADE")
    op.drop_index(op.f("ix_label_states_flagged_at"), table_name="label_states")
    op.drop_table("label_states")
