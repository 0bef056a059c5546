"""field inspections: the service's own verdict on the stamp checked

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

The device records the verdict its screen showed (offline, from data that may be old); the
service judges the stamp's scanned text again when the record arrives, on the day of the
check, and keeps its own verdict beside the device's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("field_inspections") as batch:
        batch.add_column(sa.Column("service_verdict", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("field_inspections") as batch:
        batch.drop_column("service_verdict")
