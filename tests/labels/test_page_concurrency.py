"""Many phones opening stamps' pages at once on SQLite (the reviewer's finding 1): each view
writes its count, and a view begun as a plain read could not write once another view had
committed: half of 40 views two at a time answered 503. The page's session now takes the
write lock when it begins, so views wait their turn instead."""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from sqlalchemy import func, select

from tests.browser import served_app
from tests.labels.conftest import P, seed_committed
from trace_service.db import session_scope
from trace_service.labels.models import LabelState


def _status(url: str) -> int:
    phone = {"User-Agent": "Mozilla/5.0 (iPhone) Mobile"}
    request = urllib.request.Request(url, headers=phone)  # noqa: S310 - the test server
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_many_views_at_once_all_answer_and_all_are_counted(tmp_path):
    with served_app(tmp_path) as (app, base):
        seed = seed_committed(app, bags=40)
        client = app.test_client()
        run = client.post(
            f"{P}/print-runs",
            headers=seed.headers,
            json={"product_id": seed.product_id, "lot_id": seed.lot_id, "quantity": 3},
        ).json
        labels = client.get(f"{P}/print-runs/{run['id']}/labels", headers=seed.headers).json
        urls = []
        for label in labels["items"]:
            parts = urlsplit(label["url"])
            urls += [f"{base}{parts.path}?{parts.query}"] * 20
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(_status, urls))
        assert statuses == [200] * len(urls)
        with session_scope(app) as session:
            counted = session.scalar(select(func.sum(LabelState.scan_count)))
        assert counted == len(urls)
