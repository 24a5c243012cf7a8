"""bot/markers.yml, with Rasa's own marker code (runs in the Rasa venv): the markers load, name
only what bot/domain.yml has, and on the known conversations they agree with the analytics'
Python definitions (analytics/conversations.py) on which were handed off, had fallbacks, were
rated, searched or timed out. Both sides assert the fixture's hand-written `expected`."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rasa.core.evaluation.marker_base import Marker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ROOT / "bot" / "markers.yml"
KNOWN = json.loads(
    (ROOT / "tests" / "analytics" / "fixtures" / "conversations.json").read_text(encoding="utf-8")
)
MARKER_NAMES = {"handed_off", "fallback", "searched", "rated", "handoff_timed_out"}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain.yml"))


def shoppers(session: list[Event]) -> bool:
    """A conversation is a session in which the shopper wrote (not the server's triggers)."""
    return any(
        isinstance(e, UserUttered) and not (e.metadata or {}).get("is_external") for e in session
    )


def expected() -> dict[str, list[dict[str, Any]]]:
    """What the markers must say of each sender's conversations, in order, from `expected`."""
    by_sender: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(KNOWN["expected"], key=lambda row: row["local"]):
        by_sender.setdefault(row["sender_id"], []).append(
            {
                "handed_off": row["handed_off"],
                "fallback": row["fallbacks"],
                "searched": row["searches"] > 0,
                "rated": row["rating"] is not None,
                "handoff_timed_out": row["handoff_timeouts"],
            }
        )
    return by_sender


def said(found: dict[str, int]) -> dict[str, Any]:
    """Marker name -> how often it applied, as the expectations write it."""
    return {
        "handed_off": found.get("handed_off", 0) > 0,
        "fallback": found.get("fallback", 0),
        "searched": found.get("searched", 0) > 0,
        "rated": found.get("rated", 0) > 0,
        "handoff_timed_out": found.get("handoff_timed_out", 0),
    }


def test_markers_load_and_name_only_what_the_domain_has(domain: Domain) -> None:
    markers = Marker.from_path(MARKERS)
    assert {str(marker) for marker in markers.sub_markers} == MARKER_NAMES
    assert markers.validate_against_domain(domain)


def test_markers_agree_with_the_python_definitions_on_the_known_conversations() -> None:
    markers = Marker.from_path(MARKERS)
    found: dict[str, list[dict[str, Any]]] = {}
    for sender_id, raw in KNOWN["senders"].items():
        events = [Event.from_parameters(event) for event in raw]
        assert [event.as_dict() for event in events] == raw  # Rasa's own shape, exactly
        sessions = Marker._split_sessions(events)
        results = markers.evaluate_events(events)
        assert len(results) == len(sessions)
        conversations = [
            said({name: len(hits) for name, hits in result.items()})
            for (session, _), result in zip(sessions, results, strict=True)
            if shoppers(session)
        ]
        if conversations:
            found[sender_id] = conversations
    assert found == expected()
    assert "shopper-gus" not in found  # opened the chat, never wrote


def write_tracker_store(path: Path, domain: Domain) -> None:
    """The fixture's conversations saved by Rasa's own SQLTrackerStore, as Rasa saves them."""
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    for sender_id, raw in KNOWN["senders"].items():
        events = [Event.from_parameters(event) for event in raw]
        tracker = DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)
        asyncio.run(store.save(tracker))
    store.engine.dispose()


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory: pytest.TempPathFactory, domain: Domain) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "rasa_tracker.sqlite3"
    write_tracker_store(path, domain)
    return path


def test_rasa_stores_the_rows_the_python_tests_write(tracker_db: Path) -> None:
    """tests/analytics/conftest.py (make_tracker) fills the events table without Rasa; these
    are the rows Rasa itself writes for the same events: the JSON as it is, in order."""
    with sqlite3.connect(tracker_db) as database:
        rows = database.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
            "FROM events ORDER BY id"
        ).fetchall()
    for sender_id, raw in KNOWN["senders"].items():
        mine = [row[1:] for row in rows if row[0] == sender_id]
        assert [json.loads(row[-1]) for row in mine] == raw
        assert [row[:-1] for row in mine] == [
            (
                event["event"],
                event["timestamp"],
                ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
                event.get("name"),
            )
            for event in raw
        ]


def test_rasas_marker_command_on_a_tracker_store(tmp_path: Path, tracker_db: Path) -> None:
    """The command docs/analytics.md gives, on a tracker store Rasa wrote."""
    output = tmp_path / "markers.csv"
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "evaluate", "markers", "all", "--config", "bot/markers.yml",
         "--domain", "bot/domain.yml", "--endpoints", "bot/endpoints.yml",
         "--stats-file-prefix", str(tmp_path / "markers-stats"), str(output)],
        cwd=ROOT,
        env={**os.environ, "SHOPDESK_TRACKER_DB": str(tracker_db),
             "SHOPDESK_ACTIONS_URL": "http://127.0.0.1:9/unused",
             "SHOPDESK_INTERNAL_TOKEN": "unused", "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert (tmp_path / "markers-stats-overall.csv").is_file()
    with output.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for row in rows:
        applied = counts.setdefault((row["sender_id"], int(row["session_idx"])), {})
        applied[row["marker"]] = applied.get(row["marker"], 0) + 1
    # Rasa numbers every session; ann's two are 0 and 1, everyone else has one.
    assert said(counts[("shopper-cat", 0)]) == expected()["shopper-cat"][0]
    assert said(counts[("shopper-dan", 0)]) == expected()["shopper-dan"][0]
    assert [said(counts[("shopper-ann", n)]) for n in (0, 1)] == expected()["shopper-ann"]
    assert said(counts.get(("shopper-ivy", 0), {})) == expected()["shopper-ivy"][0]
    assert ("shopper-gus", 0) not in counts
