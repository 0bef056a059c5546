"""the generation of what label pages show, for their per-run cache

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

``page_versions``: one row per name (``label_page``), whose ``version`` every change that a
label page could show sets to a fresh random number (labels/page_cache.py). Each page view
reads it in the same query as its label; a worker's cached facts of a print run are used
only while the number is the one they were composed under.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "page_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_page_versions")),
    )
    # Random, not 0: a database made again from scratch never starts at a number a running
    # worker may still hold facts for.
    op.bulk_insert(table, [{"name": "label_page", "version": secrets.randbits(62)}])


def downgrade() -> None:
    op.drop_table("page_versions")
