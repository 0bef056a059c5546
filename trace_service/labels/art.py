"""What the renderers draw: the facts shared by a run's stamps and each label's own parts.

Renderers (``render/``) take these plain values and never touch the database, so the same
code draws a 1-label preview and a 100,000-label run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

QUIET_ZONE_MODULES = 4  # ISO/IEC 18004 and GS1: 4 light modules around every QR code


@dataclass(frozen=True)
class StampFacts:
    """The same on every stamp of a run."""

    star: int  # 3, 4 or 5
    product_name: str
    producer_name: str
    certificate_number: str
    valid_until: date  # last valid day, inclusive


@dataclass(frozen=True)
class LabelArt:
    """One label: its URL, its QR matrix and the codes printed beside it."""

    url: str
    code: str  # the serial as printed, grouped: "7K3M9-QXA2B-CDEF4"
    matrix: npt.NDArray[np.bool_]  # (n, n), True = dark, without the quiet zone
    scratch_code: str | None = None  # printed under a scratch-off layer, when the run has one
