"""Measures how long the admin's analytics page takes on a busy shop's tracker store.

`python -m benchmarks.analytics` fills Rasa's `events` table (the columns of Rasa 3.6's
SQLTrackerStore, as tests/analytics/conftest.py builds it) with --conversations-per-day ×
--days conversations, each a copy of one session of the analytics tests' known conversations
(tests/analytics/fixtures/conversations.json, Rasa's own event JSON) under a new sender id and
shifted to its place in the day, the senders' events interleaved by time as Rasa writes them;
the fixture's widget openings without a message come along in the same proportion. The text of
every search that found nothing gets a letter counter, so each is a new text for the report's
redaction cache. A shop database (catalog.db.migrate, temporary SQLite) gets a `handoffs` row
for each copied handoff. Then it times `analytics.report.load_report`, as the page calls it,
over the whole range: the first call of the process (cold: it builds the redactor), then
--repeats warm calls, then --repeats calls over the last --short-days days.

The tracker store is a temporary SQLite file unless --url names another: a PostgreSQL server
gets a fresh schema for the run, dropped afterwards (nothing else on it is touched); a SQLite
URL must name a file that does not exist yet, and the file is removed afterwards. Results go
to --out (benchmarks/results) as analytics.json and analytics.md (named by --name).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import (
    Engine,
    MetaData,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url

from analytics.conversations import (
    HANDOFF_STATUS_SLOT,
    HANDOFF_WAITING,
    SESSION_START_ACTION,
    conversations_from_events,
    read_conversations,
)
from benchmarks.load import _every_process, _machine_busy_s, other_processes
from benchmarks.measure import add_note_option, machine, peak_rss_mib, say, without_notes
from catalog.statuses import HandoffStatus
from core.paths import PROJECT_ROOT
from learning.cli import positive_int
from tracker.writer import declare_events_table, event_row, fill_engine

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
FIXTURE = PROJECT_ROOT / "tests" / "analytics" / "fixtures" / "conversations.json"
DAY_STARTS_S = 30 * 60  # the first conversation of a day starts at 00:30 local
DAY_SPAN_S = 22 * 3600  # and they are spread evenly over the next 22 hours
WIDGET_OPENED_AFTER_S = 30.0  # a widget opening without a message, after the conversation
Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The known conversations, session by session


@dataclass(frozen=True)
class HandoffShape:
    """The shop's `handoffs` row that a copied handoff gets, in seconds after its start."""

    reason: str
    status: str
    created_after_s: float
    taken_after_s: float | None


@dataclass(frozen=True)
class Template:
    """One Rasa session of the fixture: a conversation, or a widget opened with no message."""

    name: str  # fixture sender and session number, e.g. "shopper-ann#2"
    events: tuple[dict[str, Any], ...]
    anchor: float  # the first shopper message's timestamp (the first event's, without one)
    conversation: bool
    zero_result_users: frozenset[int]  # positions of user events whose search found nothing
    handoff: HandoffShape | None


def rasa_sessions(events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A sender's events cut at each action_session_start, as Rasa starts a session."""
    sessions: list[list[dict[str, Any]]] = []
    for event in events:
        starts = event.get("event") == "action" and event.get("name") == SESSION_START_ACTION
        if starts or not sessions:
            sessions.append([])
        sessions[-1].append(event)
    return sessions


def _handoff_shape(session: Sequence[dict[str, Any]], anchor: float) -> HandoffShape | None:
    """The handoff row the shop would hold for a session: created when the slot said
    "waiting", taken at an agent's first message, else timed out if the server said so."""
    created = next(
        (
            float(e["timestamp"])
            for e in session
            if e.get("event") == "slot"
            and e.get("name") == HANDOFF_STATUS_SLOT
            and e.get("value") == HANDOFF_WAITING
        ),
        None,
    )
    if created is None:
        return None
    reason = next(
        (str(e["value"]) for e in session if e.get("name") == "handoff_reason" and e.get("value")),
        "asked for a person",
    )
    taken = next(
        (
            float(e["timestamp"])
            for e in session
            if e.get("event") == "bot" and (e.get("metadata") or {}).get("agent_name")
        ),
        None,
    )
    timed_out = any((e.get("metadata") or {}).get("is_external") is True for e in session)
    status = (
        HandoffStatus.HANDED_BACK
        if taken is not None
        else HandoffStatus.TIMED_OUT
        if timed_out
        else HandoffStatus.WAITING
    )
    return HandoffShape(
        reason=reason,
        status=status,
        created_after_s=created - anchor,
        taken_after_s=None if taken is None else taken - anchor,
    )


def load_templates(path: Path = FIXTURE) -> list[Template]:
    """Every session of the fixture, sender by sender, in the fixture's order."""
    senders: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))[
        "senders"
    ]
    templates = []
    for sender_id, events in senders.items():
        for number, session in enumerate(rasa_sessions(events), 1):
            found = conversations_from_events(sender_id, session)
            conversation = found[0] if found else None
            anchor = conversation.started_at if conversation else float(session[0]["timestamp"])
            zero_turns = conversation.zero_result_turns if conversation else []
            zero = {id(turn.events[0]) for turn in zero_turns}
            templates.append(
                Template(
                    name=f"{sender_id}#{number}",
                    events=tuple(session),
                    anchor=anchor,
                    conversation=conversation is not None,
                    zero_result_users=frozenset(i for i, e in enumerate(session) if id(e) in zero),
                    handoff=_handoff_shape(session, anchor) if conversation else None,
                )
            )
    if not any(t.conversation for t in templates):
        raise ValueError(f"{path} holds no conversation to copy")
    return templates


# --------------------------------------------------------------------------------------------
# Filling the tracker store


def letters(number: int) -> str:
    """A counter in lower-case letters ("aaa", "aab", ...): a new word for each number, with
    no digits, since five digits would open the phone-number check real queries rarely need."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(ord("a") + digit) + word
        if not number:
            break
    return word.rjust(3, "a")


@dataclass
class Generated:
    """What was written, to check the report against and to describe the data."""

    conversations: int = 0
    conversations_by_day: dict[date, int] = field(default_factory=dict)
    widget_openings: int = 0
    senders: int = 0
    events: int = 0
    event_bytes: int = 0
    handoff_rows: int = 0
    zero_result_queries: int = 0
    query_texts: set[str] = field(default_factory=set)
    by_template: dict[str, int] = field(default_factory=dict)


@dataclass
class Filler:
    """Copies the templates, conversation after conversation, day after day."""

    templates: list[Template]
    seed: int
    generated: Generated = field(default_factory=Generated)
    _next: int = 0  # position in the templates' cycle
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _sender_id(self) -> str:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4).hex  # as the widget's

    def _copy(self, template: Template, at: float) -> tuple[str, list[Row], Row | None]:
        """One copy of `template` whose first shopper message is at `at`: its rows for Rasa's
        table and its handoff row (naive local times, as the shop stores them)."""
        sender_id = self._sender_id()
        shift = at - template.anchor
        rows = []
        for position, original in enumerate(template.events):
            event = dict(original)
            event["timestamp"] = float(original["timestamp"]) + shift
            if position in template.zero_result_users:
                event["text"] = f"{original.get('text') or ''} {letters(self._counter())}"
                event["parse_data"] = {**(original.get("parse_data") or {}), "text": event["text"]}
                self.generated.query_texts.add(event["text"])
            data = json.dumps(event)
            self.generated.event_bytes += len(data)
            rows.append(event_row(sender_id, event, data))
        handoff = None
        if template.handoff is not None:
            shape = template.handoff
            created = datetime.fromtimestamp(at + shape.created_after_s)
            handoff = {
                "conversation_id": sender_id,
                "reason": shape.reason,
                "status": shape.status,
                "created_at": created,
                "updated_at": created,
                "taken_at": None
                if shape.taken_after_s is None
                else datetime.fromtimestamp(at + shape.taken_after_s),
            }
        return sender_id, rows, handoff

    def _counter(self) -> int:
        self.generated.zero_result_queries += 1
        return self.generated.zero_result_queries

    def day(self, day: date, conversations: int) -> tuple[list[Row], list[Row]]:
        """One day's rows for Rasa's table, in Rasa's order (by time, senders interleaved),
        and its handoff rows."""
        midnight = datetime.combine(day, clock()).timestamp()
        rows: list[Row] = []
        handoffs: list[Row] = []
        placed = 0
        while placed < conversations:
            template = self.templates[self._next % len(self.templates)]
            self._next += 1
            at = midnight + DAY_STARTS_S + (placed + 0.5) * DAY_SPAN_S / conversations
            if not template.conversation:  # a widget opened, nobody wrote
                at += WIDGET_OPENED_AFTER_S
            _, copied, handoff = self._copy(template, at)
            rows += copied
            if handoff is not None:
                handoffs.append(handoff)
            self.generated.senders += 1
            self.generated.by_template[template.name] = (
                self.generated.by_template.get(template.name, 0) + 1
            )
            if template.conversation:
                placed += 1
            else:
                self.generated.widget_openings += 1
        rows.sort(key=lambda row: row["timestamp"])  # stable: each sender's order is kept
        self.generated.conversations += placed
        self.generated.conversations_by_day[day] = placed
        self.generated.events += len(rows)
        self.generated.handoff_rows += len(handoffs)
        return rows, handoffs


def fill(
    tracker: Engine,
    shop: Engine,
    filler: Filler,
    days: list[date],
    per_day: int,
    batch: int,
    say: Callable[[str], None],
) -> float:
    """Writes every day into both stores in batches of `batch` rows; seconds it took."""
    from catalog.models import Handoff

    table = declare_events_table(MetaData())
    started = time.perf_counter()
    for number, day in enumerate(days, 1):
        rows, handoffs = filler.day(day, per_day)
        for first in range(0, len(rows), batch):
            with tracker.begin() as connection:
                connection.execute(table.insert(), rows[first : first + batch])
        if handoffs:
            with shop.begin() as connection:
                connection.execute(insert(Handoff), handoffs)
        elapsed = time.perf_counter() - started
        say(
            f"  day {number}/{len(days)} {day.isoformat()}: {len(rows):,} events; "
            f"{filler.generated.events:,} in all, {filler.generated.events / elapsed:,.0f} rows/s"
        )
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# The tracker store: temporary SQLite, a given SQLite file, or a fresh PostgreSQL schema


def backend_of(url: str) -> str:
    from catalog.db import sqlalchemy_url

    return make_url(sqlalchemy_url(url)).get_backend_name()


@contextmanager
def tracker_store(url: str | None, folder: Path) -> Iterator[str]:
    """A URL whose `events` table the run may create, fill and drop."""
    if url is None:
        yield f"sqlite:///{folder / 'tracker.sqlite3'}"
        return
    from catalog.db import sqlalchemy_url

    parsed = make_url(sqlalchemy_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or path.exists():
            raise ValueError(f"--url: the SQLite file must not exist yet: {parsed.database!r}")
        try:
            yield url
        finally:
            path.unlink(missing_ok=True)
        return
    if backend != "postgresql":
        raise ValueError(f"--url: SQLite or PostgreSQL, not {backend}")
    schema = f"shopdesk_analytics_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(url))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        joiner = "&" if "?" in url else "?"
        try:
            yield f"{url}{joiner}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    return f"PostgreSQL {version.split()[0]}"


def table_mib(engine: Engine) -> float | None:
    """The events table's size with its indexes (SQLite: the whole file)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database:
        return round(Path(database).stat().st_size / 2**20, 1)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_total_relation_size('events')")).scalar()
        return round(int(size or 0) / 2**20, 1)
    return None


def events_read(engine: Engine, since: datetime, until: datetime) -> int:
    """How many events read_conversations reads for the range: all of each sender who wrote."""
    table = declare_events_table(MetaData())
    writers = (
        select(table.c.sender_id)
        .where(
            table.c.type_name == "user",
            table.c.timestamp >= since.timestamp(),
            table.c.timestamp < until.timestamp(),
        )
        .distinct()
    )
    query = select(func.count()).select_from(table).where(table.c.sender_id.in_(writers))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)


# --------------------------------------------------------------------------------------------
# Timing


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, clock()), datetime.combine(end + timedelta(days=1), clock())


def timed_calls(
    tracker: Engine,
    shop_url: str,
    start: date,
    end: date,
    calls: int,
    say: Callable[[str], None],
    label: str,
) -> dict[str, Any]:
    """`calls` calls of load_report over start..end, each in a fresh shop session as the page
    makes one; seconds of each, the report's conversation count and the redaction cache's
    hits and misses."""
    from analytics.report import load_report, redacted
    from catalog.db import session_scope

    seconds: list[float] = []
    conversations: set[int] = set()
    hits = misses = 0
    for call in range(1, calls + 1):
        gc.collect()  # the previous call's garbage is not this call's work
        before = redacted.cache_info()
        with session_scope(shop_url) as session:
            started = time.perf_counter()
            report = load_report(tracker, session, start, end)
            seconds.append(time.perf_counter() - started)
        after = redacted.cache_info()
        hits += after.hits - before.hits
        misses += after.misses - before.misses
        conversations.add(int(report.totals["conversations"]))
        del report
        say(f"  {label} {call}/{calls}: {seconds[-1]:.2f} s")
    if len(conversations) != 1:
        raise RuntimeError(f"load_report counted different conversations: {conversations}")
    return {
        "seconds": [round(s, 3) for s in seconds],
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "conversations": conversations.pop(),
        "redaction_cache_hits": hits,
        "redaction_cache_misses": misses,
    }


def phases(tracker: Engine, shop_url: str, start: date, end: date) -> dict[str, float]:
    """One more warm call, done in load_report's three steps, each timed (seconds)."""
    from analytics.report import build_report
    from catalog.db import session_scope
    from catalog.models import Handoff

    gc.collect()
    since, until = _bounds(start, end)
    with session_scope(shop_url) as session:
        started = time.perf_counter()
        conversations = read_conversations(tracker, since, until)
        read = time.perf_counter()
        handoffs = session.scalars(
            select(Handoff).where(Handoff.created_at >= since, Handoff.created_at < until)
        ).all()
        queried = time.perf_counter()
        build_report(conversations, handoffs, start, end)
        built = time.perf_counter()
    return {
        "read_conversations_s": round(read - started, 3),
        "handoffs_query_s": round(queried - read, 3),
        "build_report_s": round(built - queried, 3),
    }


# --------------------------------------------------------------------------------------------
# Results


def _range_text(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    size = result["data"]
    load = result["machine_load"]
    lines = [
        "# Analytics page: `load_report` on a busy shop's tracker store",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']}, tracker store "
        f"{result['tracker_store']['version']}, time zone {result['time_zone']}, with:",
        "",
        f"    {result['command']}",
        "",
        f"Rasa's `events` table held {size['conversations']:,} conversations "
        f"({size['conversations_per_day']:,} a day × {size['days']} days, "
        f"{result['whole_range']['from']} to {result['whole_range']['to']}) of "
        f"{size['senders']:,} senders, {size['widget_openings']:,} of them widget openings "
        f"without a message: {size['events']:,} events, {size['event_json_mib']} MiB of event "
        f"JSON ({size['table_mib']} MiB on disk with its index). Each is a copy of one session "
        "of tests/analytics/fixtures/conversations.json (Rasa 3.6's own events) under a new "
        "sender id, shifted in time; the senders' events are interleaved by time, as Rasa writes "
        f"them. Searches that found nothing: {size['zero_result_queries']:,}, with "
        f"{size['distinct_query_texts']:,} distinct texts (each got a letter counter), so the "
        f"report's redaction cache (4,096 texts) cannot flatter the numbers. The shop database "
        f"(SQLite) had {size['handoff_rows']:,} `handoffs` rows. Filling took "
        f"{result['fill']['seconds']} s ({result['fill']['rows_per_s']:,} rows/s).",
        "",
        "Wall time of `analytics.report.load_report(tracker_engine, session, start, end)`, as "
        "the page calls it (a fresh shop session per call, not timed). Cold is the process's "
        "first call: it builds the redactor (Presidio) too; the database files are in the "
        "operating system's cache either way, as on a shop that is in use.",
        "",
        "| call | range | conversations | events read | median (s) | min (s) | max (s) "
        "| redaction cache hits / misses (all its calls) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["calls"]:
        lines.append(
            f"| {row['call']} | {row['range']} ({row['from']}..{row['to']}) "
            f"| {row['conversations']:,} | {row['events_read']:,} | {row['median_s']} "
            f"| {row['min_s']} | {row['max_s']} "
            f"| {row['redaction_cache_hits']:,} / {row['redaction_cache_misses']:,} |"
        )
    split = result["phases"]
    lines += [
        "",
        f"One more warm call over the whole range, in load_report's steps: read_conversations "
        f"(SQL, JSON, conversations) {split['read_conversations_s']} s, the handoffs query "
        f"{split['handoffs_query_s']} s, build_report (counting, redaction) "
        f"{split['build_report_s']} s.",
        "",
        f"Memory: the process's resident memory was {result['memory']['rss_before_mib']} MiB "
        f"before the first call (peak {result['memory']['peak_rss_before_mib']} MiB while "
        f"filling); its peak after all calls was {result['memory']['peak_rss_mib']} MiB "
        "(ru_maxrss).",
        "",
        f"The machine while timing: {load['machine_busy_cores']} cores busy on average "
        f"(this process included), load average {load['load_average_1m']} at the start.",
    ]
    if load["other_busy_processes"]:
        shown = ", ".join(
            f"{p['name']} (pid {p['pid']}) {p['cpu_cores']}" for p in load["other_busy_processes"]
        )
        lines.append(f"Other busy processes (cores): {shown}.")
        if result["tracker_store"]["backend"] == "postgresql":
            lines.append("The postgres processes include the server answering these calls.")
    else:
        lines.append("No other process used 0.05 cores or more.")
    if result.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def save(result: dict[str, Any], out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(result))


# --------------------------------------------------------------------------------------------
# The command


def parser() -> argparse.ArgumentParser:
    parts = __doc__.split("\n\n") if __doc__ else ["", "", ""]
    made = argparse.ArgumentParser(
        prog="python -m benchmarks.analytics",
        description=parts[1],
        epilog=parts[2],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    made.add_argument(
        "--conversations-per-day",
        type=positive_int,
        default=1000,
        help="conversations written for each day (the fixture's widget openings without a "
        "message come on top, in the fixture's proportion)",
    )
    made.add_argument(
        "--days", type=positive_int, default=28, help="days of conversations, ending yesterday"
    )
    made.add_argument(
        "--short-days",
        type=positive_int,
        default=7,
        help="the shorter range also timed: the last N days",
    )
    made.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="warm calls per range (after the cold one); the median is reported",
    )
    made.add_argument(
        "--url",
        default=None,
        help="the tracker store: a PostgreSQL server (a fresh schema is made for the run and "
        "dropped after, e.g. postgresql://127.0.0.1:5432/test) or sqlite:///FILE for a file "
        "that does not exist yet (removed after); default: a temporary SQLite file",
    )
    made.add_argument(
        "--out", type=Path, default=RESULTS, help="the folder the result files are written to"
    )
    made.add_argument("--name", default="analytics", help="the result files' name, without .md")
    made.add_argument(
        "--batch", type=positive_int, default=10_000, help="rows per INSERT while filling"
    )
    made.add_argument("--seed", type=int, default=7, help="seed of the generated sender ids")
    add_note_option(made)
    return made


def run(args: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    from catalog.db import engine_for, migrate
    from tracker.events import TrackerEvents

    templates = load_templates()
    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    short_start = end - timedelta(days=args.short_days - 1)
    days = [start + timedelta(days=n) for n in range(args.days)]
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(["python -m benchmarks.analytics", *without_notes(list(argv))]),
        "machine": machine(),
        "time_zone": os.environ.get("TZ") or "/".join(dict.fromkeys(time.tzname)),
        "notes": list(args.note),
    }
    with tempfile.TemporaryDirectory(prefix="shopdesk-analytics-") as folder:
        shop_url = f"sqlite:///{Path(folder) / 'shop.sqlite3'}"
        with tracker_store(args.url, Path(folder)) as url:
            say(f"== shop database and tracker store ({backend_of(url)})")
            migrate(shop_url)
            writer = fill_engine(url)  # writes as Rasa would; the page only reads
            transcripts = TrackerEvents(url)  # the engine the page's load_report is given
            tracker = transcripts.engine
            try:
                declare_events_table(MetaData()).create(writer)
                filler = Filler(templates, args.seed)
                say(
                    f"== filling: {args.conversations_per_day:,} conversations a day × "
                    f"{args.days} days, {start} to {end}"
                )
                seconds = fill(
                    writer,
                    engine_for(shop_url),
                    filler,
                    days,
                    args.conversations_per_day,
                    args.batch,
                    say,
                )
                if writer.dialect.name == "postgresql":
                    with writer.connect() as connection:
                        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                            text("ANALYZE events")
                        )  # as autovacuum would have on a store in use
                made = filler.generated
                result["tracker_store"] = {
                    "backend": tracker.dialect.name,
                    "version": server_version(tracker),
                    "url": tracker.url.render_as_string(hide_password=True)
                    if args.url
                    else "temporary SQLite file",
                }
                result["data"] = {
                    "conversations_per_day": args.conversations_per_day,
                    "days": args.days,
                    "conversations": made.conversations,
                    "widget_openings": made.widget_openings,
                    "senders": made.senders,
                    "events": made.events,
                    "event_json_mib": round(made.event_bytes / 2**20, 1),
                    "table_mib": table_mib(tracker),
                    "zero_result_queries": made.zero_result_queries,
                    "distinct_query_texts": len(made.query_texts),
                    "handoff_rows": made.handoff_rows,
                    "copies_by_fixture_session": made.by_template,
                }
                result["fill"] = {
                    "seconds": round(seconds, 1),
                    "rows_per_s": round(made.events / seconds) if seconds > 0 else None,
                }
                result["whole_range"] = {"from": start.isoformat(), "to": end.isoformat()}
                result["short_range"] = {"from": short_start.isoformat(), "to": end.isoformat()}
                expected_short = sum(
                    n for day, n in made.conversations_by_day.items() if day >= short_start
                )
                result["memory"] = {
                    "rss_before_mib": round(psutil.Process().memory_info().rss / 2**20, 1),
                    "peak_rss_before_mib": peak_rss_mib(),
                }
                result |= time_everything(
                    tracker, shop_url, (start, end), (short_start, end), args, say
                )
                result["memory"]["peak_rss_mib"] = peak_rss_mib()
                result["expected"] = {
                    "whole_range_conversations": made.conversations,
                    "short_range_conversations": expected_short,
                }
                counted = {row["range_days"]: row["conversations"] for row in result["calls"]}
                result["report_matches"] = (
                    counted.get(args.days) == made.conversations
                    and counted.get(args.short_days) == expected_short
                )
            finally:
                tracker.dispose()  # close the pools before the schema or file goes
                writer.dispose()
                engine_for(shop_url).dispose()
    return result


def time_everything(
    tracker: Engine,
    shop_url: str,
    whole: tuple[date, date],
    short: tuple[date, date],
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The cold call, the warm calls of both ranges, the phases, and the machine's load."""
    ours = {(os.getpid(), psutil.Process().create_time())}
    before = _every_process()
    busy_before, started = _machine_busy_s(), time.time()
    load_1m = round(os.getloadavg()[0], 2)
    calls = []
    plan = [
        ("cold (first call)", whole, 1),
        (f"warm, median of {args.repeats}", whole, args.repeats),
        (f"warm, median of {args.repeats}", short, args.repeats),
    ]
    say("== timing load_report")
    for label, (start, end), repeats in plan:
        days = (end - start).days + 1
        row: dict[str, Any] = {
            "call": label,
            "range": _range_text(days),
            "range_days": days,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "events_read": events_read(tracker, *_bounds(start, end)),
        }
        row |= timed_calls(tracker, shop_url, start, end, repeats, say, f"{row['range']}, {label}")
        calls.append(row)
    split = phases(tracker, shop_url, *whole)
    say(f"  split: {split}")
    seconds = time.time() - started
    busy = (_machine_busy_s() - busy_before) / seconds if seconds > 0 else None
    return {
        "calls": calls,
        "summary": {
            "cold_s": calls[0]["median_s"],
            "warm_median_s": calls[1]["median_s"],
            "short_warm_median_s": calls[2]["median_s"],
        },
        "phases": split,
        "machine_load": {
            "machine_busy_cores": None if busy is None else round(busy, 2),
            "load_average_1m": load_1m,
            "other_busy_processes": other_processes(before, _every_process(), seconds, ours),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(arguments)
    try:
        result = run(args, arguments)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    save(result, args.out, args.name)
    say(markdown(result))
    if not result["report_matches"]:
        print("error: the report did not count the conversations written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
