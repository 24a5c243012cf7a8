"""benchmarks/load_report.py: the summaries of a level and the markdown report. No stack, no
Locust run."""

from typing import Any

import pytest

from benchmarks.load import parse_options
from benchmarks.load_report import by_message, level_result, markdown, summarize


def test_summary_of_latencies_counts_errors_and_takes_exact_percentiles() -> None:
    records = [(float(ms), True) for ms in range(1, 101)] + [(5.0, False)] * 4
    summary = summarize(records, window_s=10.0)
    assert summary["messages"] == 104
    assert summary["answered"] == 100
    assert summary["errors"] == 4
    assert summary["error_rate"] == pytest.approx(4 / 104, abs=1e-4)
    assert summary["msg_per_s"] == 10.0  # answered messages per second
    latency = summary["latency_ms"]
    # nearest rank (core.stats): p50 of 1..100 is the 50th value
    assert (latency["p50"], latency["p95"], latency["p99"]) == (50.0, 95.0, 99.0)
    assert latency["max"] == 100.0
    assert latency["mean"] == 50.5


def test_summary_keeps_fractions_of_a_millisecond() -> None:
    summary = summarize([(12.34, True), (12.36, True), (12.38, True)], window_s=1.0)
    assert summary["latency_ms"]["p50"] == 12.4
    assert summary["latency_ms"]["p99"] == 12.4


def test_summary_without_answers_or_messages() -> None:
    failed = summarize([(1.0, False), (2.0, False)], window_s=2.0)
    assert failed["latency_ms"] is None
    assert failed["error_rate"] == 1.0
    assert failed["msg_per_s"] == 0.0
    empty = summarize([], window_s=0.0)
    assert empty == {
        "messages": 0,
        "answered": 0,
        "errors": 0,
        "error_rate": 0.0,
        "msg_per_s": 0.0,
        "latency_ms": None,
    }


def test_a_level_runs_from_the_test_start_to_the_last_reply() -> None:
    data = {
        "test_start": 1000.0,
        "requests": [[1001.0, 100.0, True, "a"], [1004.0, 200.0, True, "a"], [1002, 5, False, "b"]],
        "errors": {"HTTP 500 to 'hi'": 1},
        "conversations": {"a": 1, "b": 1},
    }
    level = level_result(3, data, [], duration=5)
    assert level["users"] == 3
    assert level["window_s"] == 4.0
    assert level["messages"] == 3
    assert level["errors"] == 1
    assert level["msg_per_s"] == 0.5
    assert level["error_kinds"] == {"HTTP 500 to 'hi'": 1}
    assert list(level["by_message"]) == ["a", "b"]


def test_messages_are_listed_slowest_median_first() -> None:
    requests = [
        [0, 10.0, True, "hi"],
        [0, 30.0, True, "hi"],
        [0, 900.0, True, "under $50"],
        [0, 5.0, False, "thanks"],
    ]
    stats = by_message(requests)
    assert list(stats) == ["under $50", "hi", "thanks"]
    assert stats["hi"] == {
        "messages": 2,
        "errors": 0,
        "p50": 10.0,
        "max": 30.0,
    }  # core.stats nearest rank
    assert stats["thanks"] == {"messages": 1, "errors": 1, "p50": None, "max": None}


def _result(**changes: Any) -> dict[str, Any]:
    level = {
        "users": 10,
        "duration_s": 60,
        "window_s": 60.4,
        "messages": 1200,
        "answered": 1198,
        "errors": 2,
        "error_rate": 0.0017,
        "msg_per_s": 19.83,
        "latency_ms": {"p50": 410.2, "p95": 880.0, "p99": 1200.5, "mean": 450.0, "max": 1500.0},
        "conversations_begun": {"order status": 100},
        "error_kinds": {"empty reply to 'thanks'": 2},
        "by_message": {
            "under $50": {"messages": 80, "errors": 0, "p50": 900.0, "max": 1500.0},
            "thanks": {"messages": 90, "errors": 2, "p50": 50.0, "max": 80.0},
        },
        "other_busy_processes": [{"name": "pytest", "pid": 42, "cpu_cores": 0.8}],
        "processes": {
            "rasa": {"cpu_cores": 0.93, "peak_rss_mib": 812.4},
            "load generator": {"cpu_cores": 0.05, "peak_rss_mib": 60.0},
        },
        "machine_busy_cores": 1.8,
        "span_s": 61.0,
    }
    result = {
        "measured_at": "2026-01-02 03:04 UTC",
        "command": "python -m benchmarks.load --users 10",
        "note": "",
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 7.7, "system": "Linux"},
        "setup": "embedded",
        "users": [10],
        "duration_s": 60,
        "think_time_s": 0.0,
        "conversation_mix": {"order status": 2, "return": 1},
        "cold_start": {
            "healthy_s": {"classifier": 20.1, "rasa": 41.5},
            "all_healthy_s": 41.5,
            "first_reply_s": 44.0,
            "first_reply_ms": 2400.0,
        },
        "warmup_messages": 21,
        "levels": [level],
        "peak_since_start_mib": {"rasa": 830.0},
    }
    result.update(changes)
    return result


def test_markdown_has_the_tables_machine_command_and_cold_start() -> None:
    text = markdown(_result())
    assert text.startswith("# Load")
    assert "Machine: Test CPU, 2 cores, 7.7 GiB; Linux." in text
    assert "`python -m benchmarks.load --users 10`" in text
    assert "| users | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |" in text
    assert "| 10 | 1200 | 19.83 | 410.2 | 880.0 | 1200.5 | 2 (0.2%) |" in text
    assert "| process | 10 users |" in text
    assert "| rasa | 0.93 cores, 812.4 MiB |" in text
    assert "| load generator | 0.05 cores, 60.0 MiB |" in text
    assert "healthy 41.5 s" in text and "classifier 20.1 s" in text
    assert 'first reply to "hi" 44.0 s' in text
    assert "a closed loop" in text
    assert "2× empty reply to 'thanks'" in text
    assert "Slowest messages (median ms): 10 users: 'under $50' 900.0; 'thanks' 50.0." in text
    assert "Other busy processes at 10 users: pytest (42) 0.8 cores." in text
    assert "Note:" not in text
    # every table row has as many cells as its header
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, block


def test_markdown_with_a_note_think_time_and_a_level_without_answers() -> None:
    silent = dict(_result()["levels"][0], users=1, latency_ms=None, error_kinds={}, errors=5)
    text = markdown(_result(note="shared runner", think_time_s=2.5, levels=[silent]))
    assert "| process | 1 user |" in text
    assert "Note: shared runner" in text
    assert "2.5 s between messages" in text
    assert "| – | – | – |" in text
    assert "Errors:" not in text


def test_markdown_shows_a_profile_per_level() -> None:
    profiled = dict(
        _result()["levels"][0],
        profile={"rasa": [(51.2, "validate (validators.py)")], "web": "py-spy is not installed"},
    )
    text = markdown(_result(levels=[profiled]))
    assert "## Where the time goes at 10 users (py-spy)" in text
    assert "- 51.2 % validate (validators.py)" in text
    assert "not profiled: py-spy is not installed" in text
    assert parse_options(["--profile"]).profile and not parse_options([]).profile


def test_messages_can_go_through_the_web_server() -> None:
    assert parse_options([]).via == "rasa"
    assert parse_options(["--via", "web"]).via == "web"
    text = markdown(_result(via="web"))
    assert "through the web server's socket.io channel" in text
    assert "to Rasa's REST channel" in markdown(_result())
