"""Sliding-window counters: rate limits per session and per address, sign-in throttling."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindow:
    """Events per key within the last `window_s` seconds; keys unused for a window are
    forgotten, and at most `max_keys` are kept, so memory stays bounded under a flood."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def count(self, key: str) -> int:
        events = self._events.get(key)
        if events is None:
            return 0
        now = self.clock()
        while events and now - events[0] > self.window_s:
            events.popleft()
        if not events:
            del self._events[key]
            return 0
        return len(events)

    def add(self, key: str) -> None:
        self.count(key)  # drop the expired first
        self._events.setdefault(key, deque()).append(self.clock())
        self._events.move_to_end(key)
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def allow(self, key: str) -> bool:
        """Count one more event for `key`; False (and not counted) when over the limit."""
        if self.count(key) >= self.limit:
            return False
        self.add(key)
        return True

    def clear(self, key: str) -> None:
        self._events.pop(key, None)
