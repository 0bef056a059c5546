"""A run's page facts composed by one worker serve every other (labels/page_cache.py,
``run_page_facts``): kept with the page version and day they hold for, never used past them.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from tests.labels.conftest import P
from tests.labels.test_page_cache import _html, _labels
from trace_service.clock import today_vn
from trace_service.labels.models import run_page_facts
from trace_service.labels.page_cache import EXTENSION, RunCache


@pytest.fixture
def new_worker(app):
    """Each call: the app's cache swapped for an empty one, as a worker just started."""
    held = app.extensions.get(EXTENSION)

    def start() -> RunCache:
        app.extensions[EXTENSION] = RunCache()
        return app.extensions[EXTENSION]

    yield start
    if held is None:
        app.extensions.pop(EXTENSION, None)
    else:
        app.extensions[EXTENSION] = held


def test_a_new_worker_reads_the_facts_another_composed(client, packed, compositions, new_worker):
    first, second = _labels(client, packed)
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, first)
    for label in (second, first):
        cache = new_worker()
        assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
        assert len(cache) == 1
    assert len(compositions) == 1


def test_facts_kept_under_an_older_version_are_composed_again(
    client, packed, compositions, new_worker
):
    label = _labels(client, packed)[0]
    assert "02623999777" not in _html(client, label)
    changed = client.patch(
        f"{P}/producers/{packed.producer.id}",
        headers=packed.account.headers,
        json={"phone": "0262 3999 777"},
    )
    assert changed.status_code == 200, changed.json
    new_worker()
    assert "02623999777" in _html(client, label)
    new_worker()  # and what that view composed is kept for the next worker
    assert "02623999777" in _html(client, label)
    assert len(compositions) == 2


def test_yesterdays_facts_are_not_todays(client, packed, compositions, new_worker, db_session):
    label = _labels(client, packed)[0]
    _html(client, label)
    yesterday = today_vn() - timedelta(days=1)
    db_session.execute(update(run_page_facts).values(day=yesterday))
    new_worker()
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    assert len(compositions) == 2
    assert db_session.scalar(select(run_page_facts.c.day)) == today_vn()


@pytest.mark.parametrize("body", ['{"format": 0}', "not json", '{"format": 1, "product": 5}'])
def test_a_body_that_does_not_read_back_is_composed_again(
    client, packed, compositions, new_worker, db_session, body
):
    label = _labels(client, packed)[0]
    _html(client, label)
    db_session.execute(update(run_page_facts).values(body=body))
    new_worker()
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    assert len(compositions) == 2


def test_a_head_request_keeps_what_it_composed_for_other_workers(
    client, packed, compositions, new_worker, db_session
):
    """Link previews and monitors ask HEAD: it counts no view, but what it composed is kept."""
    label = _labels(client, packed)[0]
    parts = urlsplit(label["url"])
    assert client.head(f"{parts.path}?{parts.query}").status_code == 200
    assert db_session.scalar(select(func.count()).select_from(run_page_facts)) == 1
    new_worker()
    assert "Sản phẩm OCOP còn hiệu lực" in _html(client, label)
    assert len(compositions) == 1
