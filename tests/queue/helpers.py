"""A committed, certified product with a packed lot, and print runs ordered without a build."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from tests.labels.conftest import seed_committed
from trace_service import create_app
from trace_service.db import session_scope
from trace_service.labels import jobs, services
from trace_service.labels.models import Label
from trace_service.principal import system_principal
from trace_service.signing.service import get_keystore, init_keys

ACTOR = system_principal("test")
MADE: list = []  # apps made by a test, whose connections tests/queue/conftest.py closes


def make_app(url: str, tmp_path: Path, **settings):
    app = create_app(
        {
            "DATABASE_URL": url,
            "KEYS_DIR": str(tmp_path / "keys"),
            "KEYS_PASSPHRASE": "a passphrase for this test only, long and random",
            "LABEL_BASE_URL": "https://tem.ocop.example.vn",
            "LABEL_FILES_DIR": str(tmp_path / "files"),
            "LABEL_BUILD": "background",
            "REDIS_URL": "",
            **settings,
        }
    )
    MADE.append(app)
    return app


def seed(app, bags: int):
    committed = seed_committed(app, bags=bags)
    init_keys(app)
    return committed


def order(app, committed, quantity: int, key: str = "q", **stock) -> int:
    """Issue a run's labels (committed) without starting its build; ``stock`` may name the
    sticker sheet and start position (``services.RunOrder``'s fields)."""
    with app.app_context(), session_scope(app) as session:
        run, _created = services.order_print_run(
            session,
            ACTOR,
            services.RunOrder(
                committed.product_id,
                committed.lot_id,
                quantity,
                False,
                idempotency_key=key,
                **stock,
            ),
            get_keystore(app),
            jobs.label_base_url(app),
        )
        return run.id


def serials(app, run_id: int) -> list[str]:
    with app.app_context(), session_scope(app, writes=False) as session:
        return list(
            session.scalars(select(Label.serial).where(Label.run_id == run_id).order_by(Label.seq))
        )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
