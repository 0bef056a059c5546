"""Fixtures: one migrated database per backend for the session, one rolled-back transaction
per test, an authenticated client per role."""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests import factories
from tests.databases import BACKENDS, fresh_database
from trace_service import create_app
from trace_service.auth.models import User
from trace_service.auth.services import issue_token
from trace_service.db import get_db
from trace_service.migrate import upgrade
from trace_service.principal import Role, system_principal
from trace_service.ratelimit import rate_limits
from trace_service.signing.service import init_keys

# Every engine that connected, so a test's own engines are disposed when it ends: an engine a
# test dropped without dispose() kept its pooled psycopg connections open until a garbage
# collection, in whichever later test, turned psycopg's ResourceWarning into that test's error.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
event.listen(Engine, "engine_connect", lambda connection: _engines.add(connection.engine))


@pytest.fixture(autouse=True)
def _engines_disposed() -> Iterator[None]:
    before = set(_engines)
    yield
    for engine in set(_engines) - before:
        engine.dispose()  # closes the idle connections; one still checked out is left alone


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "KEYS_DIR": str(tmp_path_factory.mktemp("keys")),
            "KEYS_PASSPHRASE": "test passphrase, long enough to be a real one",
            "LABEL_BASE_URL": "https://tem.ocop.example.vn",
            "LABEL_FILES_DIR": str(tmp_path_factory.mktemp("print_runs")),
            "LABEL_BUILD": "inline",
            "REDIS_URL": "",  # rate limits in memory, reset for every test (see client)
        }
    )
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    init_keys(application)  # as `scripts/run` does with `flask keys init`
    yield application
    get_db(application).engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; the app's own
    sessions join it through savepoints, so their commits are undone too."""
    db = get_db(app)
    connection = db.engine.connect()
    transaction = connection.begin()
    db.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = db.sessionmaker()
    factories.bind(session)
    # Print-run files are named by run id, and ids come round again once the test's rows are
    # rolled back: each test gets its own folder, so no test reads another's files.
    files_dir = app.config["LABEL_FILES_DIR"]
    app.config["LABEL_FILES_DIR"] = tempfile.mkdtemp(dir=files_dir)
    try:
        yield session
    finally:
        app.config["LABEL_FILES_DIR"] = files_dir
        session.close()
        transaction.rollback()
        connection.close()
        db.sessionmaker.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    rate_limits(app).reset()  # no test inherits another's failed sign-ins
    return app.test_client()


@dataclass
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_account(session: Session, role: Role, producer_id: int | None = None) -> Account:
    user = factories.UserFactory(role=role, producer_id=producer_id)
    issued = issue_token(session, system_principal("test"), user, "test", ttl_days=30)
    return Account(user=user, token=issued.token)


@pytest.fixture
def admin(db_session: Session) -> Account:
    return make_account(db_session, Role.ADMIN)


@pytest.fixture
def inspector(db_session: Session) -> Account:
    return make_account(db_session, Role.INSPECTOR)


@pytest.fixture
def producer_account(db_session: Session) -> Account:
    producer = factories.ProducerFactory()
    return make_account(db_session, Role.PRODUCER, producer.id)
