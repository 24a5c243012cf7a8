"""Sliding-window counters: rate limits per session and per address, sign-in throttling;
the shopper channel's limits and their settings."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Final

from pydantic import BeforeValidator

from core.settings import Section, var, whole_number


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

    def has_room(self, key: str) -> bool:
        """Whether one more event for `key` would be allowed (nothing is counted)."""
        return self.count(key) < self.limit

    def allow(self, key: str) -> bool:
        """Count one more event for `key`; False (and not counted) when over the limit."""
        if self.count(key) >= self.limit:
            return False
        self.add(key)
        return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may have one more event (at least 1): the Retry-After a
        refused client is told, so a polite client does not hammer the server meanwhile."""
        events = self._events.get(key)
        if not events or self.count(key) < self.limit:
            return 1
        return max(1, math.ceil(self.window_s - (self.clock() - events[0])))

    def clear(self, key: str) -> None:
        self._events.pop(key, None)


CONNECTS_ENV: Final = "SHOPDESK_SOCKET_CONNECTS_PER_MINUTE"
MESSAGES_ENV: Final = "SHOPDESK_SOCKET_MESSAGES_PER_MINUTE"
IDLE_ENV: Final = "SHOPDESK_SHOPPER_IDLE_MINUTES"
MINUTE_S: Final = 60.0


PerMinute = Annotated[int, BeforeValidator(whole_number(1))]


class ShopperChannelSettings(Section):
    """How much one network address may ask of the shopper's socket.io channel, and how long
    a conversation may sit idle before its browser is given a new one (docs/web.md).

    The defaults fit real shoppers with room to spare (a page that reconnects, a few tabs, a
    household behind one address); a flood from one address is refused long before it costs
    the server anything. The load benchmark, which plays many shoppers from 127.0.0.1, raises
    them.
    """

    # socket.io handshakes (new connections) per address per minute; also its session requests
    connects_per_minute: PerMinute = var(CONNECTS_ENV, 120)
    # chat messages per address per minute, all its chats together
    messages_per_minute: PerMinute = var(MESSAGES_ENV, 60)
    # a conversation idle this long is not resumed: the browser gets a new, empty one
    idle_minutes: PerMinute = var(IDLE_ENV, 30)

    @property
    def idle_s(self) -> float:
        return self.idle_minutes * MINUTE_S


@dataclass(frozen=True)
class Rule:
    """At most `limit` events within `window_s` seconds, per key of one kind."""

    limit: int
    window_s: float = MINUTE_S


class EventLimits:
    """Named sliding windows checked together: an event is allowed only when every window it
    counts in allows it, and then it is counted in all of them (a refused event counts in
    none, so a refused burst does not extend its own refusal)."""

    def __init__(
        self, rules: Mapping[str, Rule], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._windows = {
            name: SlidingWindow(rule.limit, rule.window_s, clock=clock)
            for name, rule in rules.items()
        }

    def check(self, counted: Iterable[tuple[str, str]]) -> int | None:
        """None when every `(rule, key)` allows one more event (now counted); else the
        seconds to wait before asking again."""
        pairs = [(self._windows[name], key) for name, key in counted]
        waits = [window.retry_after(key) for window, key in pairs if not window.has_room(key)]
        if waits:
            return max(waits)
        for window, key in pairs:
            window.add(key)
        return None

    def forget(self, key: str) -> None:
        """Drop `key` from every window (a socket that disconnected)."""
        for window in self._windows.values():
            window.clear(key)
