"""field inspections recorded on inspectors' devices

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

What inspectors found in the field, recorded on their devices (often offline) and sent
later: ``client_id`` is the id the device made, unique per inspector, so a send retried
after a lost answer finds the record it already made instead of making a second one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = '0010'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('field_inspections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('inspector_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('serial', sa.String(length=15), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('checked_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('result', sa.Enum('passed', 'doubtful', 'failed', name='inspectionresult', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('sample_taken', sa.Boolean(), nullable=False),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_field_inspections_position_whole_or_absent')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_field_inspections_inspector_id_users')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_field_inspections_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_inspections')),
    sa.UniqueConstraint('inspector_id', 'client_id', name=op.f('uq_field_inspections_inspector_id_client_id'))
    )
    with op.batch_alter_table('field_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_inspections_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_inspections_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_inspections_serial'), ['serial'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('field_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_inspections_serial'))
        batch_op.drop_index(batch_op.f('ix_field_inspections_product_id'))
        batch_op.drop_index(batch_op.f('ix_field_inspections_inspector_id'))

    op.drop_table('field_inspections')
