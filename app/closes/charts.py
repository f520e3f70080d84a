"""Charts drawn on the server as SVG: no script, no CDN, every label escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from app.closes.reports import Bar

PALETTE = ("#2f6f5e", "#c0392b", "#d4a017", "#4a6fa5", "#8e44ad", "#16a085", "#e67e22", "#7b1e3a")


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


def column_chart(
    bars: Sequence[Bar], *, title: str, unit: str = "money", width: int = 640, height: int = 220
) -> Markup:
    """Vertical bars (sales by hour, by day): one column per bar, value above, label below."""
    fmt = FORMATS[unit]
    if not bars:
        return _empty(title, width, height)
    top = max(max(bar.value for bar in bars), 1)
    left, bottom, head = 8, 28, 22
    plot_h = height - bottom - head
    step = (width - 2 * left) / len(bars)
    bar_w = min(max(step * 0.7, 2), 56)
    parts = [_open(title, width, height)]
    for index, bar in enumerate(bars):
        value = max(bar.value, 0)
        h = plot_h * value / top
        x = left + index * step + (step - bar_w) / 2
        y = head + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="2" fill="{PALETTE[0]}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        if len(bars) <= 24:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="v">'
                f"{escape(fmt(bar.value))}</text>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" class="l">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return _svg(parts)


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "money", width: int = 640, row: int = 30) -> Markup:
    """Horizontal bars (by category, by server, by station): label, bar, value; negatives drawn in red."""
    fmt = FORMATS[unit]
    height = max(row * len(bars) + 12, 60)
    if not bars:
        return _empty(title, width, 60)
    label_w, value_w = 190, 100
    plot_w = width - label_w - value_w - 16
    top = max(max(abs(bar.value) for bar in bars), 1)
    parts = [_open(title, width, height)]
    for index, bar in enumerate(bars):
        y = 6 + index * row
        w = plot_w * abs(bar.value) / top
        colour = PALETTE[index % len(PALETTE)] if bar.value >= 0 else "#b3261e"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" class="l">'
            f"{escape(_clip(bar.label))}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" rx="3" fill="{colour}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        note = f" ({bar.note})" if bar.note else ""
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + row / 2 + 4:.1f}" class="v">'
            f"{escape(fmt(bar.value) + note)}</text>"
        )
    parts.append("</svg>")
    return _svg(parts)


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _empty(title: str, width: int, height: int) -> Markup:
    return _svg(
        [
            _open(title, width, height),
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" class="l">Nothing to show yet</text>',
            "</svg>",
        ]
    )


def _svg(parts: list[str]) -> Markup:
    # Every label and value above went through escape(); numbers are formatted floats.
    return Markup("".join(parts))  # noqa: S704
