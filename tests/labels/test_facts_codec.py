"""Page facts kept as JSON read back as the very facts composed (labels/facts_codec.py)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trace_service.certificates.rules import Status
from trace_service.labels import facts_codec
from trace_service.labels.page_facts import CertificateFacts, RecallFacts, RunFacts, Step
from trace_service.registry.photos import PhotoRef
from trace_service.registry.units import Address

FULL = RunFacts(
    product="Cà phê bột Robusta Đắk Mil – rang mộc",
    product_en="Dak Mil Robusta ground coffee",
    producer='HTX "Thuận An" <b>',
    address=Address("Thôn 3, Xã Đắk Song, Tỉnh Lâm Đồng", "Thôn 3, Xã Đắk Hòa", date(2025, 6, 30)),
    phone="0262 3999 123",
    star=4,
    lot="DM2601-RB1",
    certificate=CertificateFacts(
        "12/2025/OCOP",
        "UBND tỉnh Đắk Nông",
        "1234/QĐ-UBND",
        date(2025, 3, 1),
        date(2025, 3, 2),
        date(2028, 3, 1),
        date(2026, 1, 5),
        date(2026, 2, 1),
    ),
    certificate_status=Status.REVOKED,
    packed_on=date(2026, 1, 6),
    chain=(
        Step(
            "area",
            date(2025, 11, 20),
            ("Vườn A", "Vườn A"),
            "Xã Đắk Song",
            Decimal("1.25"),
            "https://www.openstreetmap.org/?mlat=12.1&mlon=107.6",
        ),
        Step("process", date(2025, 12, 1), ("Rang", "Roasting")),
    ),
    recalls=(RecallFacts("Nấm mốc", "45/QĐ-UBND", datetime(2026, 2, 1, 2, 0, tzinfo=UTC)),),
    photo=PhotoRef("/p/1.jpg", "/p/1-s.jpg", 800, 600),
)


def test_every_field_reads_back_as_composed() -> None:
    assert all(getattr(FULL, f.name) is not None for f in fields(RunFacts))
    kept = facts_codec.loads(facts_codec.dumps(FULL))
    assert kept == FULL
    assert isinstance(kept.chain[0].hectares, Decimal) and kept.certificate_status is Status.REVOKED
    assert kept.recalled_since == date(2026, 2, 1)


def test_drawn_html_is_not_kept() -> None:
    FULL.drawn["vi"] = "<div>card</div>"
    try:
        assert "card" not in facts_codec.dumps(FULL)
    finally:
        FULL.drawn.clear()


@pytest.mark.parametrize(
    "body",
    ["", "[]", "null", '{"format": 2}', json.dumps({"format": 1, "chain": "x"}), '{"format": 1}'],
)
def test_a_body_of_another_shape_reads_as_nothing(body: str) -> None:
    assert facts_codec.loads(body) is None
