"""lots, trace events, genealogy, recalls, attachments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db
from sqlalchemy.dialects import postgresql
revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('producer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('material', sa.String(length=120), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.Column('unit', sa.Enum('kg', 't', 'g', 'bag', 'l', 'piece', name='unit', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('unit_weight_kg', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_lots_positive_quantity')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_lots_producer_id_producers')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_lots_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('code', name=op.f('uq_lots_code'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lots_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lots_product_id'), ['product_id'], unique=False)

    op.create_table('trace_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uri', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('process', sa.String(length=40), nullable=True),
    sa.Column('event_time', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('time_zone', sa.String(length=6), nullable=False),
    sa.Column('producer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('area_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('location', sa.String(length=255), nullable=True),
    sa.Column('harvest_start', sa.Date(), nullable=True),
    sa.Column('harvest_end', sa.Date(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('corrects_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['raw_material_areas.id'], name=op.f('fk_trace_events_area_id_raw_material_areas')),
    sa.ForeignKeyConstraint(['corrects_event_id'], ['trace_events.id'], name=op.f('fk_trace_events_corrects_event_id_trace_events')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_trace_events_producer_id_producers')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_trace_events_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_events')),
    sa.UniqueConstraint('uri', name=op.f('uq_trace_events_uri'))
    )
    with op.batch_alter_table('trace_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_events_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_events_corrects_event_id'), ['corrects_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_events_event_time'), ['event_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_events_producer_id'), ['producer_id'], unique=False)

    op.create_table('lot_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parent_lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['child_lot_id'], ['lots.id'], name=op.f('fk_lot_links_child_lot_id_lots')),
    sa.ForeignKeyConstraint(['event_id'], ['trace_events.id'], name=op.f('fk_lot_links_event_id_trace_events')),
    sa.ForeignKeyConstraint(['parent_lot_id'], ['lots.id'], name=op.f('fk_lot_links_parent_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_links')),
    sa.UniqueConstraint('parent_lot_id', 'child_lot_id', 'event_id', name=op.f('uq_lot_links_parent_lot_id_child_lot_id_event_id'))
    )
    with op.batch_alter_table('lot_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_links_child_lot_id'), ['child_lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lot_links_parent_lot_id'), ['parent_lot_id'], unique=False)

    op.create_table('recalls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recalled_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_recalls_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recalls'))
    )
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recalls_lot_id'), ['lot_id'], unique=False)

    op.create_table('trace_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['trace_events.id'], name=op.f('fk_trace_attachments_event_id_trace_events')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_trace_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_attachments'))
    )
    with op.batch_alter_table('trace_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_attachments_event_id'), ['event_id'], unique=False)

    op.create_table('trace_event_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.Column('unit', sa.Enum('kg', 't', 'g', 'bag', 'l', 'piece', name='unit', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_trace_event_lots_positive_quantity')),
    sa.ForeignKeyConstraint(['event_id'], ['trace_events.id'], name=op.f('fk_trace_event_lots_event_id_trace_events')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_trace_event_lots_lot_id_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace_event_lots')),
    sa.UniqueConstraint('event_id', 'lot_id', 'role', name=op.f('uq_trace_event_lots_event_id_lot_id_role'))
    )
    with op.batch_alter_table('trace_event_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_event_lots_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trace_event_lots_lot_id'), ['lot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trace_event_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_event_lots_lot_id'))
        batch_op.drop_index(batch_op.f('ix_trace_event_lots_event_id'))

    op.drop_table('trace_event_lots')
    with op.batch_alter_table('trace_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_attachments_event_id'))

    op.drop_table('trace_attachments')
    with op.batch_alter_table('recalls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recalls_lot_id'))

    op.drop_table('recalls')
    with op.batch_alter_table('lot_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_links_parent_lot_id'))
        batch_op.drop_index(batch_op.f('ix_lot_links_child_lot_id'))

    op.drop_table('lot_links')
    with op.batch_alter_table('trace_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_events_producer_id'))
        batch_op.drop_index(batch_op.f('ix_trace_events_kind'))
        batch_op.drop_index(batch_op.f('ix_trace_events_event_time'))
        batch_op.drop_index(batch_op.f('ix_trace_events_corrects_event_id'))
        batch_op.drop_index(batch_op.f('ix_trace_events_area_id'))

    op.drop_table('trace_events')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lots_product_id'))
        batch_op.drop_index(batch_op.f('ix_lots_producer_id'))

    op.drop_table('lots')
