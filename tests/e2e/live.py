"""What the live-stack tests share: a stack prepared (catalog, models) and started, stopped
afterwards; skipped without the virtual environments (failed when CI=true)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from launcher.stack import Stack, StackConfig, missing_environments, prepare
from tests.conftest import skip_or_fail


@contextmanager
def live_stack(config: StackConfig) -> Iterator[Stack]:
    if missing := missing_environments(config):
        skip_or_fail("the virtual environments are missing: " + ", ".join(missing))
    prepare(config)
    with Stack(config) as running:
        yield running
