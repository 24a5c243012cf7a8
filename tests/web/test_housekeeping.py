"""The web server masks ended sessions and applies retention itself, on a schedule, and
logs one line of counts per run (web/housekeeping.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.db import migrate, session_scope
from catalog.models import ConversationSubject
from core.clock import utc_now
from core.settings import SettingsError
from learning.forget import LearningFiles
from tests.async_run import run as run_async
from tests.privacy.test_privacy import add_events, make_tracker, slot, tracker_rows, user
from web.housekeeping import HousekeepingSettings, keep_house, run_once

EMAIL = "pat.lee@example.org"


@pytest.fixture(autouse=True)
def learning_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention also ages the learning loop's exports: this test's, not the checkout's."""
    files = LearningFiles(tmp_path / "a.yml", tmp_path / "b.yml", tmp_path / "c.yml")
    monkeypatch.setattr(LearningFiles, "from_env", classmethod(lambda cls: files))


def test_the_settings_default_to_hourly_and_refuse_what_would_harm() -> None:
    default = HousekeepingSettings.from_env({})
    assert (default.interval_s, default.idle_minutes, default.retention_days) == (3600, 90, 365)
    assert default.first_run_s == 60
    short = HousekeepingSettings.from_env({"SHOPDESK_HOUSEKEEPING_INTERVAL_S": "2"})
    assert short.first_run_s == 2
    assert HousekeepingSettings.from_env({"SHOPDESK_HOUSEKEEPING_INTERVAL_S": "0"}).interval_s == 0
    for name, value in (
        ("SHOPDESK_HOUSEKEEPING_INTERVAL_S", "often"),
        ("SHOPDESK_HOUSEKEEPING_INTERVAL_S", "0.5"),
        ("SHOPDESK_HOUSEKEEPING_INTERVAL_S", "-5"),
        ("SHOPDESK_MASK_IDLE_MINUTES", "0"),  # would mask sessions going on
        ("SHOPDESK_TRANSCRIPT_RETENTION_DAYS", "0"),
    ):
        with pytest.raises(SettingsError, match=name):
            HousekeepingSettings.from_env({name: value})


@pytest.fixture
def stores(tmp_path: Path) -> tuple[str, str]:
    """A migrated shop database and a tracker store with an ended and a live conversation,
    and events from long ago of a shopper who came back."""
    shop = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(shop)
    tracker = make_tracker(f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    now = utc_now()
    said = [user(f"it's {EMAIL}"), slot("verified_customer_email", EMAIL)]
    add_events(tracker, "ended", said, start=now - timedelta(hours=3))
    add_events(tracker, "going", said, start=now - timedelta(minutes=1))
    add_events(tracker, "back", [user("hi", "greet")], start=now - timedelta(days=400))
    add_events(tracker, "back", [user("hello again", "greet")], start=now - timedelta(minutes=1))
    return shop, tracker


def texts(tracker: str, sender: str) -> list[str]:
    return [
        str(json.loads(row[6]).get("text"))
        for row in tracker_rows(tracker)
        if row[1] == sender and row[2] == "user"
    ]


def test_a_run_masks_ended_sessions_and_forgets_old_events(stores: tuple[str, str]) -> None:
    shop, tracker = stores
    run = run_once(shop, tracker, HousekeepingSettings.from_env({}))
    assert run.masked == 2  # the ended conversation's message and slot
    assert run.retention.tracker_events == 3  # the returning shopper's first visit
    assert texts(tracker, "ended") == ["it's <EMAIL>"]
    assert texts(tracker, "going") == [f"it's {EMAIL}"]  # still going: the bot reads it
    assert texts(tracker, "back") == ["hello again"]
    with session_scope(shop) as session:  # linked before its address was masked
        assert session.scalars(select(ConversationSubject.conversation_id)).all() == ["ended"]
    line = run.summary()
    assert line.startswith("housekeeping: 2 transcript events masked; retention 365 days: ")
    assert EMAIL not in line and "ended" not in line


def test_the_schedule_runs_soon_after_start_and_then_again(
    stores: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    shop, tracker = stores
    settings = HousekeepingSettings.from_env({"SHOPDESK_HOUSEKEEPING_INTERVAL_S": "1"})

    def logged() -> list[str]:
        return [r.message for r in caplog.records if r.message.startswith("housekeeping:")]

    async def two_runs() -> list[str]:
        task = asyncio.create_task(keep_house(shop, tracker, settings))
        try:
            while len(runs := logged()) < 2:
                await asyncio.sleep(0.2)
            return runs
        finally:
            task.cancel()

    with caplog.at_level(logging.INFO, logger="web.housekeeping"):
        runs = run_async(asyncio.wait_for(two_runs(), 120))
    assert runs[0].startswith("housekeeping: 2 transcript events masked")
    assert runs[1].startswith("housekeeping: 0 transcript events masked")  # once only
    assert texts(tracker, "ended") == ["it's <EMAIL>"]
