"""Alembic environment: one set of migrations for SQLite and PostgreSQL."""

from alembic import context
from sqlalchemy.engine import Connection

import trace_service.models  # noqa: F401 - fills Base.metadata
from trace_service.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()
