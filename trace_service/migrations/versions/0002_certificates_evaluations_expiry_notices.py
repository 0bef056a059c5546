"""certificates, evaluations, expiry notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evaluations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('council_level', sa.Enum('district', 'province', 'central', name='councillevel', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('council_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('score_a', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score_b', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('score_c', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('total', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('mandatory_met', sa.Boolean(), nullable=False),
    sa.Column('star', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score_a BETWEEN 0 AND 40', name=op.f('ck_evaluations_score_a_range')),
    sa.CheckConstraint('score_b BETWEEN 0 AND 25', name=op.f('ck_evaluations_score_b_range')),
    sa.CheckConstraint('score_c BETWEEN 0 AND 35', name=op.f('ck_evaluations_score_c_range')),
    sa.CheckConstraint('total = score_a + score_b + score_c', name=op.f('ck_evaluations_total_adds_up')),
    sa.ForeignKeyConstraint(['council_unit_id'], ['admin_units.id'], name=op.f('fk_evaluations_council_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_evaluations_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_product_id'), ['product_id'], unique=False)

    op.create_table('certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('decision_number', sa.String(length=64), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('issuing_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('issuing_authority', sa.String(length=255), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_name', sa.String(length=255), nullable=False),
    sa.Column('evaluation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('star', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revocation_decision', sa.String(length=64), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('superseded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('superseded_on', sa.Date(), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('star BETWEEN 3 AND 5', name=op.f('ck_certificates_certified_star')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], name=op.f('fk_certificates_evaluation_id_evaluations')),
    sa.ForeignKeyConstraint(['issuing_unit_id'], ['admin_units.id'], name=op.f('fk_certificates_issuing_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_certificates_product_id_products')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificates.id'], name=op.f('fk_certificates_superseded_by_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('evaluation_id', name=op.f('uq_certificates_evaluation_id')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number')),
    sa.UniqueConstraint('superseded_by_id', name=op.f('uq_certificates_superseded_by_id'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_valid_until'), ['valid_until'], unique=False)

    op.create_table('expiry_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('threshold_days', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('swept_on', sa.Date(), nullable=False),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_expiry_notices_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expiry_notices')),
    sa.UniqueConstraint('certificate_id', 'threshold_days', name=op.f('uq_expiry_notices_certificate_id_threshold_days'))
    )
    with op.batch_alter_table('expiry_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expiry_notices_created_at'), ['created_at'], unique=False)

    op.create_table('notice_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=2000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('next_attempt_at', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('leased_until', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['expiry_notices.id'], name=op.f('fk_notice_deliveries_notice_id_expiry_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_deliveries')),
    sa.UniqueConstraint('notice_id', 'channel', name=op.f('uq_notice_deliveries_notice_id_channel'))
    )
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_deliveries_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_deliveries_status'), ['status'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempted_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['notice_deliveries.id'], name=op.f('fk_delivery_attempts_delivery_id_notice_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_delivery_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_notice_id'))

    op.drop_table('notice_deliveries')
    with op.batch_alter_table('expiry_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expiry_notices_created_at'))

    op.drop_table('expiry_notices')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_valid_until'))
        batch_op.drop_index(batch_op.f('ix_certificates_product_id'))

    op.drop_table('certificates')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_product_id'))

    op.drop_table('evaluations')
