"""Rules of the trace: event kinds, their CBV business steps, and the most a process can
yield (output mass over input mass), which a recorded transformation may not exceed."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

# The numbers a lot may hold (the API's schemas and the services check the same limits, so
# no value reaches the database's CHECK constraints or overflows its columns).
MAX_UNIT_COUNT = 1_000_000_000
MIN_QUANTITY, MAX_QUANTITY = Decimal("0.001"), Decimal(10) ** 12


class EventKind(StrEnum):
    HARVEST = "harvest"
    TRANSFORMATION = "transformation"
    PACKING = "packing"
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    INSPECTION = "inspection"
    SAMPLING = "sampling"
    RECALL = "recall"
    CORRECTION = "correction"


# An inspection or a sample speaks for the authorities: only inspectors and the province
# office (or the system acting for it) record these, correct them or attach files to them.
OFFICIAL_KINDS = frozenset({EventKind.INSPECTION, EventKind.SAMPLING})


class RecorderRole(StrEnum):
    """Who recorded an event, as it was when they did: a user's role, or the system
    (demo data, command line, anything the audit log cannot attribute to a user)."""

    ADMIN = "admin"
    PRODUCER = "producer"
    INSPECTOR = "inspector"
    SYSTEM = "system"


# Upper bounds, generous on purpose: a figure above them is a typing error or fraud, not a
# good harvest. Fresh coffee cherry gives about 0.2 of its weight as green bean; drying
# alone keeps about half, hulling about 0.4 of the dried cherry, roasting about 0.85.
def max_yields(overrides: dict[str, float]) -> dict[str, Decimal]:
    """The built-in maximum yields with the operator's ``OCOP_MAX_YIELDS`` over them."""
    return {**MAX_YIELD, **{k: Decimal(str(v)) for k, v in overrides.items()}}


# Processing steps in words, as the label page names them and a refusal does (trace/schemas.py
# lists what may be recorded).
PROCESSES: dict[str, tuple[str, str]] = {
    "drying": ("Phơi, sấy", "Drying"),
    "pulping": ("Xát vỏ quả", "Pulping"),
    "fermenting": ("Lên men", "Fermenting"),
    "hulling": ("Xát vỏ trấu", "Hulling"),
    "cherry_to_green": ("Sơ chế thành nhân xanh", "Processing to green beans"),
    "sorting": ("Phân loại", "Sorting"),
    "roasting": ("Rang", "Roasting"),
    "grinding": ("Xay", "Grinding"),
    "blending": ("Phối trộn", "Blending"),
    "extraction": ("Chiết xuất", "Extraction"),
}
PACKING = ("Đóng gói", "Packing")


def process_words(process: str) -> tuple[str, str]:
    """A process in the middle of a sentence: “công đoạn phơi, sấy”, “the drying step”."""
    vi, en = PROCESSES.get(process) or (PACKING if process == "packing" else (process, process))
    return vi[:1].lower() + vi[1:], en[:1].lower() + en[1:]


MAX_YIELD: dict[str, Decimal] = {
    "drying": Decimal("0.60"),
    "pulping": Decimal("0.70"),
    "fermenting": Decimal("1.00"),
    "hulling": Decimal("0.60"),
    "cherry_to_green": Decimal("0.25"),
    "sorting": Decimal("1.00"),
    "roasting": Decimal("0.90"),
    "grinding": Decimal("1.00"),
    "blending": Decimal("1.00"),
    "extraction": Decimal("0.50"),
    "packing": Decimal("1.00"),
}
