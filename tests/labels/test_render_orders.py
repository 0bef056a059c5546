"""A run ordered for a sticker stock, from a position, with the producer's print offset,
through the API: kept on the run, drawn into its PDF, refused when it cannot print."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.decode import read_qr_codes
from tests.labels.conftest import P
from trace_service.audit.models import AuditEvent
from trace_service.errors import Forbidden, InvalidInput
from trace_service.labels.models import Label, PrintRun
from trace_service.labels.print_settings import own_offset, set_offset
from trace_service.labels.render.sheet_pdf import SheetLayout
from trace_service.principal import Principal, Role


def _order(client, packed, quantity=40, headers=None, **extra):
    body = {"product_id": packed.product.id, "lot_id": packed.bags, "quantity": quantity, **extra}
    return client.post(
        f"{P}/print-runs", headers={**packed.account.headers, **(headers or {})}, json=body
    )


def _producer(packed) -> Principal:
    user = packed.account.user
    return Principal(user.id, user.username, Role.PRODUCER, packed.producer.id)


def test_a_run_on_square_labels_from_position_5_with_the_offset_scans_where_its_labels_are(
    client, packed, db_session, tmp_path
):
    set_offset(db_session, _producer(packed), Decimal("1.2"), Decimal("-0.8"))
    response = _order(client, packed, stock="avery_l7120", start_position=5)
    assert response.status_code == 202, response.json
    run = response.json
    assert (run["stock"], run["start_position"]) == ("avery_l7120", 5)
    assert run["offset_mm"] == [1.2, -0.8]
    assert run["pages"] == 2  # 31 labels on the first sheet from position 5, 9 on the next

    pdf = client.get(run["files"]["sheets"][0]["url"], headers=packed.account.headers)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf.data)
    pdf.close()
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-f", "1", "-l", "1", str(path),
         str(tmp_path / "p")],
        check=True,
    )  # fmt: skip
    page = np.array(Image.open(next(tmp_path.glob("p*.png"))).convert("L"))
    labels = client.get(
        f"{P}/print-runs/{run['id']}/labels?page_size=100", headers=packed.account.headers
    ).json["items"]
    urls = [item["url"] for item in labels]  # in sheet order
    found = read_qr_codes(Image.fromarray(page))
    assert sorted(code.text for code in found) == sorted(urls[:31])
    layout = SheetLayout.load("avery_l7120", (1.2, -0.8))
    scale = 150 / 72
    for code in found:
        p = code.position
        cx = (p.top_left.x + p.bottom_right.x) / 2 / scale
        cy = layout.page_h - (p.top_left.y + p.bottom_right.y) / 2 / scale
        x, y = layout.slots[4 + urls.index(code.text)]  # the first at position 5
        assert x < cx < x + layout.stamp_w and y < cy < y + layout.stamp_h


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"stock": "avery_l9999"}, "stock"),
        ({"stock": "avery_l7120", "start_position": 36}, "start_position"),
        ({"stock": "avery_l7120", "scratch_code": True}, "stock"),
        ({"start_position": 0}, "start_position"),
    ],
)
def test_an_order_that_cannot_print_on_its_stock_is_refused_and_issues_nothing(
    client, packed, db_session, extra, field
):
    response = _order(client, packed, **extra)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert db_session.scalar(select(func.count()).select_from(PrintRun)) == 0
    assert db_session.scalar(select(func.count()).select_from(Label)) == 0


def test_an_order_without_a_stock_is_printed_on_the_a4_layout_as_before(client, packed):
    run = _order(client, packed, quantity=5).json
    assert (run["stock"], run["start_position"], run["offset_mm"]) == ("a4_sheet", 1, [0, 0])


def test_the_same_key_for_another_stock_is_another_order(client, packed):
    key = {"Idempotency-Key": "stock-key-1"}
    assert _order(client, packed, quantity=5, headers=key).status_code == 202
    again = _order(client, packed, quantity=5, headers=key, stock="avery_l7160")
    assert again.status_code == 409


def test_the_offset_is_kept_per_producer_bounded_and_audited(packed, db_session):
    actor = _producer(packed)
    assert own_offset(db_session, actor).as_floats() == (0, 0)
    set_offset(db_session, actor, Decimal("-10"), Decimal("2.34"))
    assert own_offset(db_session, actor).as_floats() == (-10, 2.3)
    for x, y in ((Decimal("10.1"), Decimal(0)), (Decimal(0), Decimal("-11"))):
        with pytest.raises(InvalidInput):
            set_offset(db_session, actor, x, y)
    with pytest.raises(Forbidden):
        set_offset(db_session, Principal(1, "office", Role.ADMIN), Decimal(1), Decimal(1))
    tags = db_session.scalars(
        select(AuditEvent.details).where(AuditEvent.tag == "label:print_settings:offset_set")
    ).all()
    assert tags and tags[-1]["after_mm"] == ["-10", "2.3"]
