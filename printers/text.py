"""Plain-text helpers for paper: control-character stripping, code-page fitting and wrapping."""

from __future__ import annotations

import textwrap
import unicodedata
from functools import lru_cache

# Characters that tablets and menus produce but single-byte code pages lack.
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2022": "*",
    "\u00b7": "-",
    "\u0142": "l",
    "\u0141": "L",
    "\u0111": "d",
    "\u0110": "D",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0153": "oe",
    "\u0152": "OE",
}

_LINE_BREAKS = {"\r\n", "\r", "\n", "\u2028", "\u2029", "\x0b", "\x0c", "\x85"}


def clean_text(text: str, *, multiline: bool = False) -> str:
    """Text with every control character removed, so it can never become a printer command.

    Only newline survives, and only when `multiline`; tabs become spaces.
    """
    normalized = text.replace("\r\n", "\n")
    out: list[str] = []
    for char in normalized:
        if char in _LINE_BREAKS:
            out.append("\n" if multiline else " ")
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            # Cf covers zero-width and bidi marks; they have no glyph on paper
            continue
        else:
            out.append(char)
    return "".join(out)


@lru_cache(maxsize=32)
def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def fit_code_page(text: str, codec: str) -> str:
    """Text rewritten to characters the code page has: lookalikes, then bare letters, then "?"."""
    out: list[str] = []
    for char in text:
        if _encodable(char, codec):
            out.append(char)
            continue
        lookalike = _LOOKALIKES.get(char)
        if lookalike is not None and all(_encodable(c, codec) for c in lookalike):
            out.append(lookalike)
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if bare and all(_encodable(c, codec) for c in bare):
            out.append(bare)
        else:
            out.append("?")
    return "".join(out)


def wrap(text: str, width: int, *, indent: str = "", hanging: str = "") -> list[str]:
    """Text broken into lines of at most `width` characters; long words are split."""
    if width <= len(indent) or width <= len(hanging):
        raise ValueError("indent leaves no room for text")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(
            paragraph,
            width,
            initial_indent=indent,
            subsequent_indent=hanging,
            break_long_words=True,
            break_on_hyphens=True,
        )
        lines.extend(wrapped or [indent.rstrip()])
    return lines


def two_columns(left: str, right: str, width: int) -> list[str]:
    """A left label and a right-aligned value padded to exactly `width` characters.

    A label too long to share the line wraps, and the value goes on its last line. A value too long to leave the
    label room beside it (a server's long name on narrow paper) goes on lines of its own under the label, both
    whole: nothing is cut off.
    """
    room = width - len(right) - 1
    if room <= len(_HANGING):
        label = [line.ljust(width) for line in wrap(left, width, hanging=_HANGING)] if left else []
        return label + [line.rjust(width) for line in wrap(right, width, hanging=_HANGING)]
    label_lines = wrap(left, room, hanging=_HANGING) if left else [""]
    *first, last = label_lines
    return [line.ljust(width) for line in first] + [last.ljust(room) + " " + right]


_HANGING = "  "
"""The indent of a label's or a value's wrapped lines."""
