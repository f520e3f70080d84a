"""What people type, checked the same way in every domain: trimmed text within a limit, whole numbers in a range.

Each refusal names the field, so the person knows what to change; nothing is written before it.
"""

from __future__ import annotations

from app.lib.errors import InvalidInput


def clean_text(value: object, *, label: str, max_length: int, required: bool = True, multiline: bool = False) -> str:
    """`value` trimmed; refused when required and empty, too long, or holding control characters.

    Line breaks and tabs pass only in `multiline` text (a description, a reason).
    """
    cleaned = str(value if value is not None else "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{label} is required.")
    if len(cleaned) > max_length:
        raise InvalidInput(f"{label} is {len(cleaned)} characters; the limit is {max_length}.")
    allowed = "\n\t" if multiline else ""
    if any(ord(c) < 32 and c not in allowed for c in cleaned):
        raise InvalidInput(f"{label} contains control characters.")
    return cleaned


def whole_number(value: object, *, label: str, minimum: int, maximum: int) -> int:
    """`value` if it is an integer (not a bool) between `minimum` and `maximum`, else a refusal."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.")
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{label} must be between {minimum} and {maximum}.")
    return value
