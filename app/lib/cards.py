"""Card numbers typed into free text (a note, a tab's name, a reason) are masked before anything stores them.

The app takes card payments only through the terminal and never sees a card number; but a guest reads one
out, or a server types one into the wrong field. A run of 13 to 19 digits (spaces or dashes between groups
allowed) that passes the Luhn check is a card number in all but name: it becomes "•••• 1234" at the door,
so no table, log, ticket or print spool ever holds it.
"""

from __future__ import annotations

import re

MIN_DIGITS = 13
MAX_DIGITS = 19
MASK = "\u2022\u2022\u2022\u2022 "

# Digit groups joined by single spaces or dashes; a run ends where the digits do.
_RUN = re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that every card number carries."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """`text` with every card-number-like run of digits replaced by its last four behind a mask."""
    if sum(char.isdigit() for char in text) < MIN_DIGITS:
        return text
    return _RUN.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = list(_GROUP.finditer(run))
    out: list[str] = []
    cursor = 0
    start = 0
    while start < len(groups):
        found = _card_at(groups, start)
        if found is None:
            start += 1
            continue
        end, digits = found
        out.append(run[cursor : groups[start].start()])
        out.append(MASK + digits[-4:])
        cursor = groups[end].end()
        start = end + 1
    out.append(run[cursor:])
    return "".join(out)


def _card_at(groups: list[re.Match[str]], start: int) -> tuple[int, str] | None:
    """The longest card number made of whole groups from `start` on: (index of its last group, its digits)."""
    best: tuple[int, str] | None = None
    digits = ""
    for end in range(start, len(groups)):
        digits += groups[end].group(0)
        if len(digits) > MAX_DIGITS:
            break
        if len(digits) >= MIN_DIGITS and luhn_valid(digits):
            best = (end, digits)
    return best
