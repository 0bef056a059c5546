"""field inspections' photos, lab results and lots

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

Photos taken at a field inspection (re-encoded as JPEG by the service, size capped), the
laboratory's result on a sample recorded later, and the lot of the stamp checked (found by
its serial): what an accepted recall proposal recalls and where the inspection shows on the
lot's trace.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("field_inspections") as batch:
        batch.add_column(sa.Column("lot_id", ID, nullable=True))
        batch.add_column(sa.Column("lab_passed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("lab_result", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "lab_recorded_at", trace_service.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.create_foreign_key(
            op.f("fk_field_inspections_lot_id_lots"), "lots", ["lot_id"], ["id"]
        )
        batch.create_index(op.f("ix_field_inspections_lot_id"), ["lot_id"], unique=False)
    op.create_table(
        "inspection_photos",
        sa.Column("id", ID, nullable=False),
        sa.Column("inspection_id", ID, nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["field_inspections.id"],
            name=op.f("fk_inspection_photos_inspection_id_field_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photos")),
    )
    op.create_index(
        op.f("ix_inspection_photos_inspection_id"),
        "inspection_photos",
        ["inspection_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inspection_photos_inspection_id"), table_name="inspection_photos")
    op.drop_table("inspection_photos")
    with op.batch_alter_table("field_inspections") as batch:
        batch.drop_index(op.f("ix_field_inspections_lot_id"))
        batch.drop_constraint(op.f("fk_field_inspections_lot_id_lots"), type_="foreignkey")
        batch.drop_column("lab_recorded_at")
        batch.drop_column("lab_result")
        batch.drop_column("lab_passed")
        batch.drop_column("lot_id")
