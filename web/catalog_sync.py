"""The web server's scheduled catalog sync: every `SHOPDESK_CATALOG_SYNC_MINUTES` it syncs the
shop's products (catalog/sync_run.py, settings in `CatalogSyncSettings`), off the event loop,
then rebuilds the entity vocabulary the classifier reads product names from.

Off by default (0): the demo's catalog is the Luma data, and a shop that syncs from cron
(`python -m catalog.cli sync`) or runs several web servers on one database should leave it
off. Like housekeeping (web/housekeeping.py), the first run comes soon after start, each run
logs one line of counts, and a failed run writes nothing (the sync is one transaction; the
safety valve refuses before writing) and is logged politely: the error's type, or the valve's
sentence, never a traceback or a product feed's content. The next run tries again.

The classifier service reads the vocabulary when it starts (nlu_models/service.py), so a new
product's name is found as an entity after its next restart; search, recommendations and
"more like this" follow at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Final

from catalog.sync import SyncRefused, SyncReport
from catalog.sync_run import CatalogSyncSettings as CatalogSyncSettings  # web/app.py reads it
from catalog.sync_run import SyncOptions, read_source, run_sync

log = logging.getLogger(__name__)

FIRST_RUN_S: Final = 60.0  # once the stack is up, not in the middle of its start
SECONDS_PER_MINUTE: Final = 60.0


@dataclass(frozen=True)
class ScheduledRun:
    report: SyncReport
    vocabulary_words: int | None  # product names in the rebuilt vocabulary; None: unchanged

    def summary(self) -> str:
        words = (
            ""
            if self.vocabulary_words is None
            else f"; vocabulary rebuilt ({self.vocabulary_words} product names)"
        )
        return f"catalog sync: {self.report.summary()}{words}"


def _changed(report: SyncReport) -> bool:
    return bool(report.added or report.changed or report.discontinued or report.relisted)


def refresh_vocabulary() -> int:
    """The entity vocabulary rebuilt from the catalog, as `python -m nlu_models ensure` does."""
    from nlu_models.ensure import refresh_vocabulary as rebuild
    from nlu_models.settings import classifier_settings

    return len(rebuild(classifier_settings()).products)


def run_once(database_url: str, settings: CatalogSyncSettings) -> ScheduledRun:
    """One sync, blocking (the loop runs it in a thread); raises what `run_sync` raises."""
    report = run_sync(database_url, read_source(settings.source), SyncOptions())
    words = refresh_vocabulary() if _changed(report) else None
    return ScheduledRun(report, words)


async def keep_synced(database_url: str, settings: CatalogSyncSettings) -> None:
    """Run `run_once` soon after start, then every interval, until cancelled."""
    interval = settings.minutes * SECONDS_PER_MINUTE
    delay = min(FIRST_RUN_S, interval)
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            run = await asyncio.to_thread(run_once, database_url, settings)
        except SyncRefused as refused:  # the valve's own sentence: counts, no product data
            log.warning("catalog sync refused, nothing written: %s", refused)
            continue
        except Exception as error:  # a shop that is down, a missing feed: try again later
            log.warning(
                "catalog sync failed, nothing written (%s); trying again in %g minutes",
                type(error).__name__,
                settings.minutes,
            )
            continue
        log.info(run.summary())


def start(database_url: str, settings: CatalogSyncSettings) -> asyncio.Task[None] | None:
    """The scheduled sync of the running server; None (and one log line) when off."""
    if settings.minutes <= 0:
        log.info("catalog sync off (SHOPDESK_CATALOG_SYNC_MINUTES=0)")
        return None
    log.info("catalog sync every %g minutes from %s", settings.minutes, settings.source.describe())
    return asyncio.create_task(keep_synced(database_url, settings))


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
