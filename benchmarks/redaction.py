"""Measures what redacting personal data costs: per log line, per Rasa event, and to load.

`python -m benchmarks.redaction` times `privacy.logs.RedactingFilter` on typical ShopDesk
log lines, once with nothing personal in them (most lines: the filter's cheap gates should
send them through in a few microseconds) and once with an e-mail address, a phone number, a
card, an address or an IP address in them (Presidio runs). Each line is logged --repeats
times through a real logger; only the filter is timed (the record is made outside the timer),
and the same line through the same handler without the filter is timed as the yardstick.
It also times `redact_event` on a user message with and without personal data, and how long
the redactor takes to load. Results go to benchmarks/results/redaction.json.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import machine, peak_rss_mib
from core.paths import PROJECT_ROOT
from core.stats import measured_percentile

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
DEFAULT_OUTPUT = RESULTS / "redaction.json"

# (format, args): lines as the web server, the action server and the catalog log them.
WITHOUT_PERSONAL_DATA: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("Classifier answered in %.1f ms: intent=%s confidence=%.2f", (12.3, "order_status", 0.97)),
    ("Action %s finished for conversation %s", ("action_search_products", "9f1c2a4be07d")),
    ("search %r: %d hits in %.1f ms", ("black hoodie for men under 60", 10, 7.65)),
    ("POST /webhooks/shopdesk/webhook %d %.1f ms", (200, 41.2)),
    ("Order %s: status %s, %d lines, total %s", ("000000101", "shipped", 3, "$154.00")),
    ("Handoff %d queued; %d agents online", (17, 2)),
    ("Retention job removed %d conversations older than %d days", (12, 365)),
    ("Rate limit reached for chat %s", ("c0ffee12",)),
)
WITH_PERSONAL_DATA: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("Order lookup for %s: no order %s", ("jane.doe@example.com", "000000102")),
    ("Shopper asked to be called back on %s", ("(212) 555-0143",)),
    ("Address change for order %s: %s", ("000000101", "6146 Honey Bluff Parkway, Calder")),
    ("Refused a message with a card number: %s", ("4111 1111 1111 1111",)),
    ("Sign-in throttled for %s", ("192.168.1.20",)),
    ("Newsletter sign-up %s from %s", ("roni_cost@example.com", "+44 20 7946 0958")),
    ("Complaint: %s", ("you charged my IBAN DE89 3704 0044 0532 0130 00 twice",)),
    ("Message left: %s", ("call me at 212-555-0143 about order 000000103",)),
)


def _user_event(text: str) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": 1764320000.25,
        "text": text,
        "parse_data": {
            "intent": {"name": "order_status", "confidence": 0.97},
            "entities": [],
            "text": text,
            "intent_ranking": [{"name": "order_status", "confidence": 0.97}],
        },
        "input_channel": "shopdesk",
        "message_id": "0b6e4c11a2d94f3b8e6b1c2d3e4f5a6b",
        "metadata": {},
    }


EVENT_WITHOUT = _user_event("where is my order 000000101? I ordered a black Hero Hoodie")
EVENT_WITH = _user_event("where is my order 000000101? my email is jane.doe@example.com")


def _micros(nanoseconds: list[int]) -> dict[str, float]:
    micros = [n / 1000 for n in nanoseconds]
    return {
        "median_us": round(statistics.median(micros), 1),
        "p95_us": round(measured_percentile(micros, 95), 1),
    }


def time_lines(lines: tuple[tuple[str, tuple[Any, ...]], ...], repeats: int) -> dict[str, Any]:
    """Median and p95 of the filter alone, and of the handler alone, per line and in all."""
    from privacy.logs import RedactingFilter

    log_filter = RedactingFilter()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("benchmarks.redaction")
    per_line: list[dict[str, Any]] = []
    all_filter: list[int] = []
    all_handler: list[int] = []
    for message, args in lines:
        filtered: list[int] = []
        handled: list[int] = []
        for _ in range(repeats):
            record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, args, None)
            start = time.perf_counter_ns()
            log_filter.filter(record)
            filtered.append(time.perf_counter_ns() - start)
            plain = logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, args, None)
            start = time.perf_counter_ns()
            handler.handle(plain)
            handled.append(time.perf_counter_ns() - start)
        handler.stream = io.StringIO()  # do not keep every line in memory
        check = logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, args, None)
        log_filter.filter(check)
        per_line.append(
            {"line": message % args, "redacted": check.getMessage(), **_micros(filtered)}
        )
        all_filter.extend(filtered)
        all_handler.extend(handled)
    return {
        "filter": _micros(all_filter),
        "handler_without_filter": _micros(all_handler),
        "lines": per_line,
    }


def time_events(repeats: int) -> dict[str, Any]:
    from privacy.redaction import redact_event

    timed: dict[str, Any] = {}
    for name, event in (("without_personal_data", EVENT_WITHOUT), ("with", EVENT_WITH)):
        spent: list[int] = []
        for _ in range(repeats):
            start = time.perf_counter_ns()
            redact_event(event)
            spent.append(time.perf_counter_ns() - start)
        timed[name] = {"text": event["text"], **_micros(spent)}
    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.redaction",
        description="Time the personal-data redaction of log lines and Rasa events; write "
        "benchmarks/results/redaction.json.",
    )
    parser.add_argument("--repeats", type=int, default=500, help="times each line is logged")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    rss_before = peak_rss_mib()
    start = time.perf_counter()
    from privacy.redaction import redactor

    redactor()
    load_seconds = time.perf_counter() - start
    load = {  # before machine(), which imports torch to name its version
        "seconds": round(load_seconds, 2),
        "peak_rss_mib_before": rss_before,
        "peak_rss_mib_after": peak_rss_mib(),
        "torch_imported": "torch" in sys.modules,
    }
    result = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(["python -m benchmarks.redaction", *sys.argv[1:]]),
        "machine": machine(),
        "repeats": args.repeats,
        "load": load,
        "log_lines": {
            "without_personal_data": time_lines(WITHOUT_PERSONAL_DATA, args.repeats),
            "with_personal_data": time_lines(WITH_PERSONAL_DATA, args.repeats),
        },
        "rasa_user_event": time_events(args.repeats),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    lines = result["log_lines"]
    print(f"redactor loaded in {load_seconds:.2f} s")
    for name, timing in lines.items():
        print(
            f"log line {name}: filter median {timing['filter']['median_us']} µs "
            f"(p95 {timing['filter']['p95_us']}), handler alone "
            f"{timing['handler_without_filter']['median_us']} µs"
        )
    for name, timing in result["rasa_user_event"].items():
        print(f"user event {name}: median {timing['median_us']} µs")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
