"""The analytics benchmark's report: the results as analytics.md beside analytics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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
