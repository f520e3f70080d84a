"""The acknowledgement maths of the sync protocol: which sequences head office holds without a hole."""

from __future__ import annotations

from collections.abc import Iterable


def contiguous_high(acked: int, held: Iterable[int]) -> int:
    """The highest sequence n such that every sequence from 1 to n is held, given all up to `acked` are.

    `held` may come in any order, repeat itself, and hold numbers at or below `acked` (ignored) or above a
    gap (they wait for the hole to fill and do not count yet).
    """
    high = acked
    for sequence in sorted(set(held)):
        if sequence <= high:
            continue
        if sequence != high + 1:
            break
        high = sequence
    return high


def resend_from(acked: int) -> int:
    """The first sequence a venue sends after head office acknowledged `acked`."""
    return acked + 1


def backoff_seconds(failures: int, *, base: float = 2.0, ceiling: float = 300.0) -> float:
    """How long a venue waits before trying again after `failures` failed sends in a row (doubling, capped)."""
    if failures <= 0:
        return 0.0
    return float(min(ceiling, base * (2 ** min(failures - 1, 16))))
