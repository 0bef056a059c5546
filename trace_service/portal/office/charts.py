"""Bar charts drawn as SVG by the server: no script, no chart library, no other host.

Each chart is an image with its title and description (``role="img"``, ``<title>`` and
``<desc>``); the page puts the same figures in a table beside it, so a screen reader and a
printout lose nothing. Every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from trace_service.web.formatting import vn_number

# The chart is drawn at the width of its frame (``width:100%``; 358 px on a 390 px phone,
# 36rem at most), so nothing scrolls or is cut off. Its units are chosen so its 12-unit text
# is never drawn under 12 px: WIDTH units fill a frame of at least WIDTH px. The longest
# texts are kept inside: unit names shortened ("Huyện " dropped), a value that would pass
# the right edge written inside its bar, a long title on two lines.
WIDTH = 350
LABEL_WIDTH = 100
BAR = 14
GAP = 10
TOP = 28
CHAR = 7  # a 12-unit character's width, at most (bold, capitals aside), for fitting texts
TITLE_LINE = 17


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
    target_name: str = "Chỉ tiêu",
) -> Markup:
    """Horizontal bars: one group a category, one bar a series, the value written at its end
    (inside the bar when it would pass the edge); ``targets`` draws a dashed line per
    category (a plan's figure), named below its bar ("Chỉ tiêu: 4")."""
    values = [v for s in series for v in s.values] + [t or 0 for t in targets or []]
    most = max(values, default=0)
    scale = (WIDTH - LABEL_WIDTH - 30) / most if most else 0
    group = len(series) * BAR + GAP + (BAR if targets else 0)
    lines = _wrap(title, WIDTH // CHAR)
    top = TOP + (TITLE_LINE + 4) * (len(lines) - 1)
    legend_height = 20 if len(series) > 1 else 0
    height = top + legend_height + len(categories) * group + 10
    parts = [
        f'<div class="chart-frame"><svg class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    parts += [
        f'<text x="0" y="{16 + TITLE_LINE * n}" font-weight="700">{escape(line)}</text>'
        for n, line in enumerate(lines)
    ]
    if legend_height:
        parts += _legend(series, top)
    y = top + legend_height
    for index, category in enumerate(categories):
        target = (targets or [None] * len(categories))[index]
        bars = [(s, s.values[index]) for s in series]
        parts += _group(y, category, bars, scale)
        if target is not None:
            parts += _target(y, len(series) * BAR, target, scale, target_name)
        y += group
    parts.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH}" '
        f'y1="{top + legend_height - 4}" y2="{y}"/>'
    )
    parts.append("</svg></div>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _wrap(text: str, most: int) -> list[str]:
    """``text`` on one line, or two broken at a space when longer than ``most`` characters."""
    if len(text) <= most or " " not in text[:most]:
        return [text]
    cut = text.rindex(" ", 0, most + 1)
    return [text[:cut], _short(text[cut + 1 :], most)]


def _legend(series: Sequence[Series], top: int) -> list[str]:
    parts, x = [], 0
    for s in series:
        parts.append(f'<rect class="{s.css}" x="{x}" y="{top - 8}" width="12" height="12"/>')
        parts.append(f'<text x="{x + 16}" y="{top + 2}">{escape(s.name)}</text>')
        x += 24 + CHAR * len(s.name)
    return parts


def _group(y: float, category: str, bars: list[tuple[Series, float]], scale: float) -> list[str]:
    """One category: its name, and a bar per series with its value."""
    height = len(bars) * BAR
    parts = [
        f'<text x="{LABEL_WIDTH - 6}" y="{y + height / 2 + 4}" text-anchor="end">'
        f"{escape(_short(short_unit(category)))}</text>"
    ]
    for row, (s, value) in enumerate(bars):
        top = y + row * BAR
        length = max(value * scale, 0)
        text = vn_number(value)
        end = LABEL_WIDTH + length
        parts.append(
            f'<rect class="{s.css}" x="{LABEL_WIDTH}" y="{top}" '
            f'width="{length:.1f}" height="{BAR - 2}"/>'
        )
        if end + 4 + CHAR * len(text) > WIDTH:  # past the edge: inside the bar's end
            at = f'x="{end - 3:.1f}" text-anchor="end" class="in"'
        else:
            at = f'x="{end + 4:.1f}"'
        parts.append(f'<text {at} y="{top + BAR - 3}">{escape(text)}</text>')
    return parts


def _target(y: float, height: int, target: float, scale: float, name: str) -> list[str]:
    """A plan's figure: a dashed line across the category's bars, named on the row below."""
    at = LABEL_WIDTH + target * scale
    text = f"{name}: {vn_number(target)}"
    # Centred under the line, kept within the chart's bar area.
    left = min(max(at - CHAR * len(text) / 2, LABEL_WIDTH + 2), WIDTH - CHAR * len(text))
    return [
        f'<line class="target" x1="{at:.1f}" x2="{at:.1f}" y1="{y - 2}" y2="{y + height + 2}"/>',
        f'<text class="target-name" x="{left:.1f}" y="{y + height + BAR - 1}">'
        f"{escape(text)}</text>",
    ]


def short_unit(name: str) -> str:
    """A unit's name as a chart's narrow column writes it (the table beside has it whole):
    "Huyện Đắk Song" → "Đắk Song", "Thành phố Gia Nghĩa" → "TP Gia Nghĩa"."""
    for long, short in (("Huyện ", ""), ("Thành phố ", "TP "), ("Thị xã ", "TX ")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _short(text: str, most: int = 14) -> str:  # 14 of a name's usual letters fit in 94 units
    return text if len(text) <= most else text[: most - 1] + "…"
