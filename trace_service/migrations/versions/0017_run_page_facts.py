"""label pages' run facts shared by every worker

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

``run_page_facts``: a print run's page facts as the first worker to need them composed them,
with the page version and the day they were composed for (labels/page_cache.py). Every
other worker and instance reads them with the label instead of composing them again; a row
whose version or day is no longer current is composed again and replaced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_page_facts",
        sa.Column(
            "run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["print_runs.id"],
            name=op.f("fk_run_page_facts_run_id_print_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_page_facts")),
    )


def downgrade() -> None:
    op.drop_table("run_page_facts")
