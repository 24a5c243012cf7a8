"""The web server's housekeeping: it masks the transcripts of ended sessions and applies the
retention period itself, on a schedule, so neither depends on a cron job nobody set up.

Every `SHOPDESK_HOUSEKEEPING_INTERVAL_S` seconds (default hourly; the first run a minute
after start, or sooner with a shorter interval; 0 turns it off, e.g. where several web
servers share one database and cron runs `python -m launcher.privacy mask` and
`retention` instead) it runs, off the event loop:

1. `privacy.masking.mask_transcripts`: sessions ended (a later session started, or idle for
   `SHOPDESK_MASK_IDLE_MINUTES`, default 90) are masked as `SHOPDESK_TRANSCRIPT_PII` says,
   after each conversation is linked to whom it verified;
2. `privacy.retention.apply_retention`: every event, note, correction... older than
   `SHOPDESK_TRANSCRIPT_RETENTION_DAYS` (default 365) goes.

Each run logs one line of counts, never an address, a name or a conversation id. Both jobs
are safe to repeat and to run beside Rasa; a failed run is logged (the error's type only: a
database error can quote the row it failed on) and the next one tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

from catalog.db import session_scope
from core.settings import Section, number, var, whole_number
from learning.forget import training_data_forgetter
from privacy.masking import mask_transcripts
from privacy.retention import DEFAULT_RETENTION_DAYS, RetentionResult, apply_retention

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 3600.0
FIRST_RUN_S = 60.0  # soon after start, once the stack is up, not in the middle of it
DEFAULT_IDLE_MINUTES = 90  # Rasa starts a new session after 60 minutes


def _interval(value: object) -> float:
    seconds = number(0)(value)
    if 0 < seconds < 1:
        raise ValueError("must be 0 (off) or at least 1")
    return seconds


class HousekeepingSettings(Section):
    """SHOPDESK_HOUSEKEEPING_INTERVAL_S, SHOPDESK_MASK_IDLE_MINUTES and
    SHOPDESK_TRANSCRIPT_RETENTION_DAYS; SettingsError, with a sentence, for a bad one."""

    interval_s: Annotated[float, BeforeValidator(_interval)] = var(  # 0: off
        "SHOPDESK_HOUSEKEEPING_INTERVAL_S", DEFAULT_INTERVAL_S
    )
    # At least 1: 0 would mask sessions still going on, whose slots the bot reads back.
    idle_minutes: Annotated[int, BeforeValidator(whole_number(1))] = var(
        "SHOPDESK_MASK_IDLE_MINUTES", DEFAULT_IDLE_MINUTES
    )
    # At least 1: 0 would delete every conversation, live ones included.
    retention_days: Annotated[int, BeforeValidator(whole_number(1))] = var(
        "SHOPDESK_TRANSCRIPT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS
    )

    @property
    def first_run_s(self) -> float:
        return min(FIRST_RUN_S, self.interval_s)


@dataclass(frozen=True)
class HousekeepingRun:
    masked: int  # transcript events masked
    retention: RetentionResult
    retention_days: int

    def summary(self) -> str:
        """The run's log line: counts only."""
        return (
            f"housekeeping: {self.masked} transcript events masked; retention "
            f"{self.retention_days} days: {self.retention.summary()}"
        )


def run_once(
    database_url: str,
    tracker_url: str,
    settings: HousekeepingSettings,
    now: datetime | None = None,
) -> HousekeepingRun:
    """Mask, then apply retention: one run, blocking (the loop runs it in a thread)."""
    with session_scope(database_url) as session:
        masked = mask_transcripts(tracker_url, settings.idle_minutes, now=now, session=session)
        retention = apply_retention(
            session,
            tracker_url,
            settings.retention_days,
            now=now,
            forgetter=training_data_forgetter(),
        )
    return HousekeepingRun(masked, retention, settings.retention_days)


async def keep_house(database_url: str, tracker_url: str, settings: HousekeepingSettings) -> None:
    """Run `run_once` soon after start, then every interval, until cancelled."""
    delay = settings.first_run_s
    while True:
        await asyncio.sleep(delay)
        delay = settings.interval_s
        try:
            run = await asyncio.to_thread(run_once, database_url, tracker_url, settings)
        except Exception as error:  # the schedule must outlive a busy or missing database
            log.warning(
                "housekeeping failed (%s); trying again in %gs", type(error).__name__, delay
            )
            continue
        log.info(run.summary())


def start(
    database_url: str, tracker_url: str, settings: HousekeepingSettings
) -> asyncio.Task[None] | None:
    """The housekeeping task of the running server; None (and one log line) when off."""
    if settings.interval_s <= 0:
        log.info("housekeeping off (SHOPDESK_HOUSEKEEPING_INTERVAL_S=0): run it from cron")
        return None
    log.info(
        "housekeeping every %gs: masking sessions idle %d minutes, keeping %d days",
        settings.interval_s,
        settings.idle_minutes,
        settings.retention_days,
    )
    return asyncio.create_task(keep_house(database_url, tracker_url, settings))


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
