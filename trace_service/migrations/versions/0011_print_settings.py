"""print runs on a chosen sticker stock; producers' print offsets

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A print run names the sticker stock it is drawn for (a ``label_templates`` sheet; runs
before this were all on the A4 layout), the first free position on the first sheet, and
the print offset its producer had set when ordering (tenths of a millimetre, + right and
+ down). ``print_settings`` keeps each producer's offset, found with the calibration page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("print_runs") as batch:
        batch.add_column(
            sa.Column("stock", sa.String(length=32), server_default="a4_sheet", nullable=False)
        )
        batch.add_column(sa.Column("start_position", BIG, server_default="1", nullable=False))
        batch.add_column(sa.Column("offset_x_tenth_mm", BIG, server_default="0", nullable=False))
        batch.add_column(sa.Column("offset_y_tenth_mm", BIG, server_default="0", nullable=False))
    op.create_table(
        "print_settings",
        sa.Column("producer_id", BIG, nullable=False),
        sa.Column("offset_x_tenth_mm", BIG, nullable=False),
        sa.Column("offset_y_tenth_mm", BIG, nullable=False),
        sa.Column("updated_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", BIG, nullable=True),
        sa.CheckConstraint(
            "offset_x_tenth_mm BETWEEN -100 AND 100",
            name=op.f("ck_print_settings_offset_x_range"),
        ),
        sa.CheckConstraint(
            "offset_y_tenth_mm BETWEEN -100 AND 100",
            name=op.f("ck_print_settings_offset_y_range"),
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producers.id"], name=op.f("fk_print_settings_producer_id_producers")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_print_settings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("producer_id", name=op.f("pk_print_settings")),
    )


def downgrade() -> None:
    op.drop_table("print_settings")
    with op.batch_alter_table("print_runs") as batch:
        batch.drop_column("offset_y_tenth_mm")
        batch.drop_column("offset_x_tenth_mm")
        batch.drop_column("start_position")
        batch.drop_column("stock")
