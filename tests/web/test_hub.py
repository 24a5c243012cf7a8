"""The hub's memory of conversations stays bounded on a long-running server."""

from __future__ import annotations

from web.hub import Recent


def test_recent_forgets_the_least_recently_written() -> None:
    seen: Recent[int] = Recent(limit=2)
    seen["a"], seen["b"] = 1, 2
    seen["a"] = 3  # written again: now the newest
    seen["c"] = 4
    assert dict(seen) == {"a": 3, "c": 4}
