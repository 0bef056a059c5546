"""folded crop names for search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trace_service.text import fold

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

areas = sa.table(
    "raw_material_areas",
    sa.column("id", sa.Integer),
    sa.column("crops", sa.JSON),
    sa.column("crops_key", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("raw_material_areas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("crops_key", sa.String(length=1000), nullable=False, server_default="")
        )
    connection = op.get_bind()
    for area_id, crops in connection.execute(sa.select(areas.c.id, areas.c.crops)).all():
        key = "".join(f"|{fold(str(crop))}" for crop in crops or []) + "|"
        connection.execute(areas.update().where(areas.c.id == area_id).values(crops_key=key))
    with op.batch_alter_table("raw_material_areas", schema=None) as batch_op:
        batch_op.alter_column("crops_key", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("raw_material_areas", schema=None) as batch_op:
        batch_op.drop_column("crops_key")
