"""`run(coro)`: a coroutine to completion on an event loop of its own, in a worker thread.

`asyncio.run` refuses to start while the main thread already has a running loop, which is
the case for the rest of a test session once Playwright's sync API has started (the
session-scoped `browser` fixture). A thread has no loop, so this works in any order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
