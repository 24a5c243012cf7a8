"""The one percentile (core/stats.py): nearest rank, the definition every published p95 uses."""

from __future__ import annotations

import pytest

from core.stats import measured_percentile, percentile


def test_nearest_rank_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0  # the lower middle of an even count
    assert percentile([float(n) for n in range(1, 21)], 95) == 19.0  # 95 % of 20 = 19th
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0
    assert percentile([float(n) for n in range(1, 101)], 50) == 50.0
    assert percentile([2.0, 1.0], 0) == 1.0  # rank at least 1: the smallest value


def test_a_percentile_is_always_a_measured_value() -> None:
    values = [12.3, 7.1, 99.9, 15.0, 8.8, 10.2, 11.1]
    for percent in (1, 25, 50, 90, 95, 99, 100):
        assert percentile(values, percent) in values


def test_measured_percentile_refuses_an_empty_sample_and_a_bad_percent() -> None:
    assert measured_percentile([5.0, 1.0], 50) == 1.0
    with pytest.raises(ValueError, match="no values"):
        measured_percentile([], 95)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)
