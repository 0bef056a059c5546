"""consumer reports to the province OCOP office

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03

A shopper's report about a stamp or product: the code and verdict the page showed, what is
wrong, where it was bought, an optional photo and contact; open until the office closes it
with a note.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PROBLEMS = ("fake", "expired", "quality", "wrong_info", "other")


def upgrade() -> None:
    op.create_table(
        "consumer_reports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label_id", BIG_ID, nullable=True),
        sa.Column("product_id", BIG_ID, nullable=True),
        sa.Column("producer_id", BIG_ID, nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column(
            "problem",
            sa.Enum(
                *PROBLEMS, name="problem", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=64), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                name="reportstatus",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("created_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", trace_service.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", BIG_ID, nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_consumer_reports_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_consumer_reports_label_id_labels")
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producers.id"],
            name=op.f("fk_consumer_reports_producer_id_producers"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_consumer_reports_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_reports")),
    )
    for column in ("label_id", "product_id", "producer_id", "status", "created_at"):
        op.create_index(
            op.f(f"ix_consumer_reports_{column}"), "consumer_reports", [column], unique=False
        )


def downgrade() -> None:
    for column in ("label_id", "product_id", "producer_id", "status", "created_at"):
        op.drop_index(op.f(f"ix_consumer_reports_{column}"), table_name="consumer_reports")
    op.drop_table("consumer_reports")
