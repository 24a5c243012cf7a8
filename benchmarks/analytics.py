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

The templates and the filling are in benchmarks/analytics_fill.py, the tracker store in
benchmarks/analytics_store.py, the report in benchmarks/analytics_report.py; this module times
the calls and is the command.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, MetaData, select, text

from analytics.conversations import read_conversations
from benchmarks.analytics_fill import Filler, fill, load_templates
from benchmarks.analytics_report import markdown, save
from benchmarks.analytics_store import (
    backend_of,
    events_read,
    server_version,
    table_mib,
    tracker_store,
)
from benchmarks.load_processes import every_process, machine_busy_s, other_processes
from benchmarks.measure import add_note_option, machine, peak_rss_mib, say, without_notes
from core.paths import PROJECT_ROOT
from learning.cli import positive_int
from tracker.writer import declare_events_table, fill_engine

RESULTS = PROJECT_ROOT / "benchmarks" / "results"


# --------------------------------------------------------------------------------------------
# Timing


def _range_text(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


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
    before = every_process()
    busy_before, started = machine_busy_s(), time.time()
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
    busy = (machine_busy_s() - busy_before) / seconds if seconds > 0 else None
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
            "other_busy_processes": other_processes(before, every_process(), seconds, ours),
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
