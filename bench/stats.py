"""Latency percentiles and the summary the benchmark prints."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples`; 0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ms: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    """{'p50': …, 'p95': …, 'p99': …} rounded to 0.1 ms."""
    return {f"p{p}": round(percentile(samples_ms, p), 1) for p in points}
