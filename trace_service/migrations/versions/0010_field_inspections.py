"""inspectors' devices and field inspections

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

Inspectors' devices (each with its own token, limited to checking stamps and recording
inspections), and what inspectors found in the field, recorded on their devices (often
offline) and sent later: ``client_id`` is the id the device made, unique per inspector, so a
send retried after a lost answer finds the record it already made instead of making another.
A failed check may propose a revocation or a recall, which the office accepts or rejects.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "field_inspections",
        sa.Column("id", ID, nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("inspector_id", ID, nullable=False),
        sa.Column("serial", sa.String(length=15), nullable=True),
        sa.Column("product_id", ID, nullable=True),
        sa.Column("checked_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "passed",
                "doubtful",
                "failed",
                name="inspectionresult",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sample_taken", sa.Boolean(), nullable=False),
        sa.Column(
            "proposal",
            sa.Enum(
                "revocation",
                "recall",
                name="proposal",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "accepted",
                "rejected",
                name="decision",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", trace_service.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)",
            name=op.f("ck_field_inspections_position_whole_or_absent"),
        ),
        sa.CheckConstraint(
            "proposal IS NULL OR result = 'failed'",
            name=op.f("ck_field_inspections_proposal_when_failed"),
        ),
        sa.CheckConstraint(
            "decision IS NULL OR proposal IS NOT NULL",
            name=op.f("ck_field_inspections_decision_of_proposal"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_field_inspections_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_field_inspections_inspector_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_field_inspections_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_inspections")),
        sa.UniqueConstraint(
            "inspector_id",
            "client_id",
            name=op.f("uq_field_inspections_inspector_id_client_id"),
        ),
    )
    with op.batch_alter_table("field_inspections", schema=None) as batch_op:
        for column in ("inspector_id", "product_id", "serial"):
            batch_op.create_index(
                batch_op.f(f"ix_field_inspections_{column}"), [column], unique=False
            )
    op.create_table(
        "inspector_devices",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", trace_service.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_inspector_devices_token_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inspector_devices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_devices")),
        sa.UniqueConstraint("token_id", name=op.f("uq_inspector_devices_token_id")),
    )
    with op.batch_alter_table("inspector_devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspector_devices_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("inspector_devices")
    with op.batch_alter_table("field_inspections", schema=None) as batch_op:
        for column in ("serial", "product_id", "inspector_id"):
            batch_op.drop_index(batch_op.f(f"ix_field_inspections_{column}"))
    op.drop_table("field_inspections")
