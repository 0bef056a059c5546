"""Bar charts drawn as SVG by the server: no script, no chart library, no other host.

Each chart is an image with its title and description (``role="img"``, ``<title>`` and
``<desc>``); the page puts the same figures in a table beside it, so a screen reader and a
printout lose nothing. Every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from trace_service.web.formatting import vn_number

# The chart's own units are CSS pixels at its narrowest: the stylesheet never draws it under
# WIDTH px (a narrower screen scrolls it sideways in its frame), so its 12 px text is never
# shrunk below 12 px, as it was (about 9 px) when a 390 px phone squeezed it to 358 px.
WIDTH = 440
LABEL_WIDTH = 150
BAR = 14
GAP = 10
TOP = 28


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # "bar", "bar2" or "bar3" (colours in ocop.css, each ≥ 3:1 against white)
    values: Sequence[float]


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    targets: Sequence[float | None] | None = None,
) -> Markup:
    """Horizontal bars: one group a category, one bar a series, the value written at its end;
    ``targets`` draws a dashed line per category (a plan's figure)."""
    values = [v for s in series for v in s.values] + [t or 0 for t in targets or []]
    most = max(values, default=0)
    scale = (WIDTH - LABEL_WIDTH - 50) / most if most else 0
    group = len(series) * BAR + GAP
    legend_height = 20 if len(series) > 1 else 0
    height = TOP + legend_height + len(categories) * group + 10
    parts = [
        # A frame that scrolls sideways on a narrow phone, reachable by keyboard to scroll.
        f'<div class="chart-frame" role="region" tabindex="0" aria-labelledby="{chart_id}-t">',
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<text x="0" y="16" font-weight="700">{escape(title)}</text>',
    ]
    if legend_height:
        parts += _legend(series)
    y = TOP + legend_height
    for index, category in enumerate(categories):
        target = (targets or [None] * len(categories))[index]
        parts += _group(y, category, [(s, s.values[index]) for s in series], target, scale)
        y += group
    parts.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH}" '
        f'y1="{TOP + legend_height - 4}" y2="{y}"/>'
    )
    parts.append("</svg></div>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], 0
    for s in series:
        parts.append(f'<rect class="{s.css}" x="{x}" y="{TOP - 8}" width="12" height="12"/>')
        parts.append(f'<text x="{x + 16}" y="{TOP + 2}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return parts


def _group(
    y: int, category: str, bars: list[tuple[Series, float]], target: float | None, scale: float
) -> list[str]:
    """One category: its name, a bar per series with its value, and the target's dash."""
    group = len(bars) * BAR + GAP
    parts = [
        f'<text x="{LABEL_WIDTH - 6}" y="{y + group / 2}" text-anchor="end">'
        f"{escape(_short(category))}</text>"
    ]
    for row, (s, value) in enumerate(bars):
        top = y + row * BAR
        length = max(value * scale, 0)
        parts.append(
            f'<rect class="{s.css}" x="{LABEL_WIDTH}" y="{top}" '
            f'width="{length:.1f}" height="{BAR - 2}"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{top + BAR - 3}">'
            f"{escape(vn_number(value))}</text>"
        )
    if target is not None:
        at = LABEL_WIDTH + target * scale
        parts.append(
            f'<line class="target" x1="{at:.1f}" x2="{at:.1f}" y1="{y - 2}" '
            f'y2="{y + group - GAP + 2}"/>'
        )
    return parts


def _short(text: str, most: int = 20) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
