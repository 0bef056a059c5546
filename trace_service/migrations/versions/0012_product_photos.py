"""product photos; the office's clearing of a "possibly copied" flag

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``product_photos``: one photo per product as the service drew it again (a 480 px JPEG and a
160 px one, never the uploaded file), with its hash (the URL's version and ETag).

``label_states`` gains the office's last clearing of a copy flag: when, by whom, why, and
the counted views at that moment (the copy rule counts only views after it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "product_photos",
        sa.Column("product_id", BIG, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", BIG, nullable=False),
        sa.Column("height", BIG, nullable=False),
        sa.Column("small", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("upload_sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", trace_service.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", BIG, nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_photos_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_product_photos_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_photos")),
    )
    with op.batch_alter_table("label_states") as batch:
        batch.add_column(
            sa.Column("flag_cleared_at", trace_service.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("flag_cleared_by", BIG, nullable=True))
        batch.add_column(sa.Column("flag_clear_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cleared_views", BIG, nullable=False, server_default="0"))
        batch.create_foreign_key(
            batch.f("fk_label_states_flag_cleared_by_users"), "users", ["flag_cleared_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("label_states") as batch:
        batch.drop_constraint(batch.f("fk_label_states_flag_cleared_by_users"), type_="foreignkey")
        batch.drop_column("cleared_views")
        batch.drop_column("flag_clear_reason")
        batch.drop_column("flag_cleared_by")
        batch.drop_column("flag_cleared_at")
    op.drop_table("product_photos")
