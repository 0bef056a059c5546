"""The Alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.databases import fresh_database
from trace_service.db import make_engine
from trace_service.migrate import alembic_config, current_revision, upgrade
from trace_service.models import Base


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_produce_exactly_the_models_schema(database_url):
    assert _differences(database_url) == []


def test_the_database_is_at_the_single_head_revision(database_url):
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1, "migrations have branched; merge them"
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert current_revision(connection) == heads[0]
    engine.dispose()


def test_every_migration_downgrades_and_upgrades_again(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        command.downgrade(alembic_config(url), "base")
        engine = make_engine(url)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(url)
        assert _differences(url) == []


@pytest.mark.parametrize("pragma, expected", [("foreign_keys", 1), ("journal_mode", "wal")])
def test_sqlite_runs_with_foreign_keys_and_wal(backend, database_url, pragma, expected):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected
    engine.dispose()


def test_migration_0003_folds_the_crops_of_existing_areas(backend, tmp_path):
    from sqlalchemy import text

    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0002")
        engine = make_engine(url)
        with engine.begin() as connection:
            for sql in (
                "INSERT INTO admin_units (id, name, level, valid_from, search_key)"
                " VALUES (1, 'Xã Thử', 'commune', '2004-01-01', '')",
                "INSERT INTO producers (id, kind, name, registration_code, address, commune_id,"
                " representative, search_key, created_at, updated_at) VALUES (1, 'other', 'A',"
                " '6400000001', 'B', 1, 'C', '', '2025-01-01', '2025-01-01')",
                "INSERT INTO raw_material_areas (id, producer_id, name, commune_id, area_ha, crops,"
                " certifications, search_key, created_at, updated_at) VALUES (1, 1, 'V', 1, 1,"
                " '[\"Cà phê vối\", \"Hồ tiêu\"]', '[]', '', '2025-01-01', '2025-01-01')",
            ):
                connection.execute(text(sql))
        upgrade(url)
        with engine.connect() as connection:
            key = connection.execute(text("SELECT crops_key FROM raw_material_areas")).scalar()
        engine.dispose()
        assert key == "|ca phe voi|ho tieu|"
