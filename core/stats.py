"""The one percentile every published "p50/p95" uses, so a benchmark's p95 and the analytics
page's p95 mean the same thing."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value that `percent` % of the values are at or
    below. Always a value that was really measured, plain to check by hand; None if empty."""
    if not values:
        return None
    return measured_percentile(values, percent)


def measured_percentile(values: Sequence[float], percent: float) -> float:
    """`percentile` for a sample known to be non-empty (a benchmark's timings), so callers
    need no None check; ValueError when it is empty after all."""
    if not values:
        raise ValueError("a percentile of no values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be between 0 and 100, not {percent}")
    ordered = sorted(values)
    rank = max(1, -int(-percent * len(ordered) // 100))  # ceil(percent/100 * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]
