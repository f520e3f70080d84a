"""Charts drawn on the server as SVG: no script, no CDN, every label escaped.

Charts are drawn 480 units wide, about the width they get on a 1024 px tablet, with text of 15 units, so that
labels read at 14 px or more there; static/css/closes.css caps how far a wide screen stretches them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from app.closes.reports import Bar

PALETTE = ("#2f6f5e", "#c0392b", "#d4a017", "#4a6fa5", "#8e44ad", "#16a085", "#e67e22", "#7b1e3a")
WIDTH = 480
FONT = 15
# What one character takes across at most, in chart units: bold digits of a wide sans such as DejaVu.
CHAR_WIDTH = FONT * 0.7


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def _plain(value: int) -> str:
    return f"{value:,}"


def _seconds(value: int) -> str:
    minutes, seconds = divmod(max(value, 0), 60)
    return f"{minutes}:{seconds:02d}"


FORMATS: dict[str, Callable[[int], str]] = {"money": _money, "count": _plain, "seconds": _seconds}


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def column_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str = "money",
    width: int = WIDTH,
    height: int = 240,
    empty: str = "Nothing to show yet",
) -> Markup:
    """Vertical bars (sales by hour, by day): one column per bar, its value above it when it has one.

    Bars at zero carry no value label; when every bar is zero the chart says `empty` instead. Values that
    would crowd their neighbours stand upright above the bar; axis labels are thinned to fit.
    """
    fmt = FORMATS[unit]
    if not any(bar.value for bar in bars):
        return _empty(title, width, 80, empty)
    left, bottom = 8, FONT + 14
    step = (width - 2 * left) / len(bars)
    bar_w = min(max(step * 0.7, 2), 56)
    values = [fmt(bar.value) if bar.value else "" for bar in bars]
    widest = max(_text_width(v) for v in values)
    upright = widest > step - 4
    head = widest + 12 if upright else FONT + 10
    plot_h = height - bottom - head
    top = max(max(bar.value for bar in bars), 1)
    every = max(1, math.ceil((max(_text_width(bar.label) for bar in bars) + 6) / step))
    parts = [_open(title, width, height)]
    for index, (bar, value) in enumerate(zip(bars, values, strict=True)):
        h = plot_h * max(bar.value, 0) / top
        x = left + index * step + (step - bar_w) / 2
        y = head + plot_h - h
        centre = x + bar_w / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="2" fill="{PALETTE[0]}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        if value and upright:
            parts.append(
                f'<text x="{centre:.1f}" y="{y - 6:.1f}" transform="rotate(-90 {centre:.1f} {y - 6:.1f})" '
                f'dominant-baseline="central" class="v">{escape(value)}</text>'
            )
        elif value:
            parts.append(
                f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="v">{escape(value)}</text>'
            )
        if index % every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle" class="l">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return _svg(parts)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str = "money",
    width: int = WIDTH,
    row: int = 32,
    empty: str = "Nothing to show yet",
) -> Markup:
    """Horizontal bars (by category, by server, by station): label, bar, value; negatives drawn in red."""
    fmt = FORMATS[unit]
    if not bars:
        return _empty(title, width, 60, empty)
    height = row * len(bars) + 12
    shown = [_clip(bar.label) for bar in bars]
    values = [fmt(bar.value) + (f" ({bar.note})" if bar.note else "") for bar in bars]
    label_w = min(max(_text_width(label) for label in shown) + 16, width * 0.4)
    value_w = max(_text_width(value) for value in values) + 10
    plot_w = max(width - label_w - value_w - 8, 40)
    top = max(max(abs(bar.value) for bar in bars), 1)
    parts = [_open(title, width, height)]
    for index, (bar, label, value) in enumerate(zip(bars, shown, values, strict=True)):
        y = 6 + index * row
        w = plot_w * abs(bar.value) / top
        colour = PALETTE[index % len(PALETTE)] if bar.value >= 0 else "#b3261e"
        middle = y + row / 2
        parts.append(
            f'<text x="{label_w - 8:.1f}" y="{middle:.1f}" text-anchor="end" dominant-baseline="central" class="l">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_w:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 8}" rx="3" fill="{colour}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{middle:.1f}" dominant-baseline="central" class="v">'
            f"{escape(value)}</text>"
        )
    parts.append("</svg>")
    return _svg(parts)


def _clip(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _empty(title: str, width: int, height: int, message: str) -> Markup:
    return _svg(
        [
            _open(title, width, height),
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" dominant-baseline="central" '
            f'class="l empty">{escape(message)}</text>',
            "</svg>",
        ]
    )


def _svg(parts: list[str]) -> Markup:
    # Every label and value above went through escape(); numbers are formatted floats.
    return Markup("".join(parts))  # noqa: S704
