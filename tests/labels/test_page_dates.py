"""Dates on the label page are Vietnam's calendar days, whatever the database keeps (issue 10,
finding 8: a recall at 00:00 +07:00 on 06/11 read 05/11, its UTC day)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.labels.conftest import P


def _label_path(client, packed) -> str:
    run = client.post(
        f"{P}/print-runs",
        headers=packed.account.headers,
        json={"product_id": packed.product.id, "lot_id": packed.bags, "quantity": 1},
    ).json
    label = client.get(f"{P}/print-runs/{run['id']}/labels", headers=packed.account.headers).json
    parts = urlsplit(label["items"][0]["url"])
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    ("recalled_at", "shown", "not_shown"),
    [
        ("2026-11-06T00:00:00+07:00", "(06/11/2026)", "05/11/2026"),  # 17:00 UTC on 05/11
        ("2026-11-05T23:59:00+07:00", "(05/11/2026)", "06/11/2026"),
        ("2026-11-05T17:30:00+00:00", "(06/11/2026)", "05/11/2026"),  # 00:30 in Vietnam
    ],
)
def test_does_the_label_page_date_a_recall_by_the_day_in_vietnam(
    client, packed, admin, recalled_at, shown, not_shown
):
    path = _label_path(client, packed)
    recall = client.post(
        f"{P}/lots/{packed.bags}/recall",
        headers=admin.headers,
        json={"recalled_at": recalled_at, "decision": "15/QĐ-SNN", "reason": "Nấm mốc"},
    )
    assert recall.status_code == 201, recall.json

    html = client.get(path).get_data(as_text=True)

    assert f"Nấm mốc – 15/QĐ-SNN {shown}" in html
    assert not_shown not in html
