"""registry, users, tokens, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trace_service.db
from sqlalchemy.dialects import postgresql
revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('admin_units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.Enum('province', 'district', 'commune', name='unitlevel', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('successor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('search_key', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_units.id'], name=op.f('fk_admin_units_parent_id_admin_units')),
    sa.ForeignKeyConstraint(['successor_id'], ['admin_units.id'], name=op.f('fk_admin_units_successor_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_units'))
    )
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_units_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('producers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('cooperative', 'enterprise', 'household_business', 'other', name='producerkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('registration_code', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('commune_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('representative', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('search_key', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_units.id'], name=op.f('fk_producers_commune_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_producers')),
    sa.UniqueConstraint('registration_code', name=op.f('uq_producers_registration_code'))
    )
    with op.batch_alter_table('producers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_producers_commune_id'), ['commune_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('producer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name_vi', sa.String(length=255), nullable=False),
    sa.Column('name_en', sa.String(length=255), nullable=True),
    sa.Column('product_group', sa.Enum('food', 'beverages', 'herbal', 'handicrafts', 'ornamental', 'tourism', name='productgroup', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('gtin14', sa.String(length=14), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('images', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('standards', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('shelf_life_days', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('search_key', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_products_producer_id_producers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('gtin14', name=op.f('uq_products_gtin14'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_product_group'), ['product_group'], unique=False)

    op.create_table('raw_material_areas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('producer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('commune_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('area_ha', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('crops', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('certifications', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('geometry', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('search_key', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_units.id'], name=op.f('fk_raw_material_areas_commune_id_admin_units')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_raw_material_areas_producer_id_producers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_material_areas'))
    )
    with op.batch_alter_table('raw_material_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_raw_material_areas_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_raw_material_areas_producer_id'), ['producer_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('admin', 'producer', 'inspector', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('producer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'producer' AND producer_id IS NOT NULL) OR (role <> 'producer' AND producer_id IS NULL)", name=op.f('ck_users_producer_binding')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_users_producer_id_producers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_producer_id'), ['producer_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', trace_service.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', trace_service.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_events_actor_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_tag'), ['tag'], unique=False)

    op.create_table('product_listings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.Enum('shopee', 'lazada', 'tiki', 'tiktok_shop', 'sendo', 'postmart', 'voso', 'facebook', 'zalo', 'own_website', 'province_ocop_site', 'other', name='platform', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_listings_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_listings')),
    sa.UniqueConstraint('product_id', 'url', name=op.f('uq_product_listings_product_id_url'))
    )
    with op.batch_alter_table('product_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_listings_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('product_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_listings_product_id'))

    op.drop_table('product_listings')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_tag'))
        batch_op.drop_index('ix_audit_events_object')

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_producer_id'))

    op.drop_table('users')
    with op.batch_alter_table('raw_material_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_raw_material_areas_producer_id'))
        batch_op.drop_index(batch_op.f('ix_raw_material_areas_commune_id'))

    op.drop_table('raw_material_areas')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_product_group'))
        batch_op.drop_index(batch_op.f('ix_products_producer_id'))

    op.drop_table('products')
    with op.batch_alter_table('producers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_producers_commune_id'))

    op.drop_table('producers')
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_units_parent_id'))
        batch_op.drop_index(batch_op.f('ix_admin_units_code'))

    op.drop_table('admin_units')
