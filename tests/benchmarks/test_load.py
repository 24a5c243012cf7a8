"""The pure parts of benchmarks/load.py: options, the loopback check, the conversation scripts
of benchmarks/locustfile.py, the summaries and the markdown. No stack, no Locust run."""

import argparse
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import (
    LOCUSTFILE,
    LoadError,
    Sample,
    by_message,
    conversations,
    level_result,
    locust_command,
    loopback_url,
    main,
    markdown,
    other_processes,
    parse_options,
    summarize,
    usage,
    users_levels,
    validate_conversations,
)


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


def _sample(at: float, cpu: float, rss: float, busy: float = 0.0) -> Sample:
    return Sample(at, {"rasa": cpu}, {"rasa": rss}, busy)


def test_cpu_is_averaged_over_the_samples_that_bracket_the_window() -> None:
    samples = [
        _sample(100.0, 1.0, 200.0, 10.0),
        _sample(101.0, 1.5, 250.0, 11.0),
        _sample(103.0, 4.5, 400.0, 14.0),
        _sample(105.0, 7.5, 300.0, 17.0),
        _sample(106.0, 7.6, 900.0, 17.1),  # after the window: not in the peak
    ]
    measured = usage(samples, start=101.2, end=104.5)
    # from the sample at 101 s to the one at 105 s: 6 CPU seconds in 4 s
    assert measured["processes"]["rasa"] == {"cpu_cores": 1.5, "peak_rss_mib": 400.0}
    assert measured["machine_busy_cores"] == 1.5
    assert measured["span_s"] == 4.0


def test_usage_without_samples_or_time_between_them() -> None:
    assert usage([], 0.0, 1.0)["processes"] == {}
    single = usage([_sample(5.0, 1.0, 10.0)], 0.0, 10.0)
    assert single["processes"]["rasa"]["cpu_cores"] is None


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


def test_other_busy_processes_leave_out_ours_and_idle_ones() -> None:
    before = {(1, 1.0): ("rasa", 10.0), (2, 1.0): ("pytest", 5.0), (3, 1.0): ("sshd", 1.0)}
    after = {
        (1, 1.0): ("rasa", 30.0),
        (2, 1.0): ("pytest", 15.0),
        (3, 1.0): ("sshd", 1.1),
        (4, 9.0): ("make", 4.0),  # started during the level
    }
    busy = other_processes(before, after, seconds=10.0, ours={(1, 1.0)})
    assert busy == [
        {"name": "pytest", "pid": 2, "cpu_cores": 1.0},
        {"name": "make", "pid": 4, "cpu_cores": 0.4},
    ]
    assert other_processes(before, after, seconds=0.0, ours=set()) == []


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


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5005",
        "http://127.1.2.3:80/x",
        "http://localhost:5005",
        "http://[::1]:5005",
    ],
)
def test_loopback_hosts_are_allowed(url: str) -> None:
    assert loopback_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:5005",
        "http://example.com",
        "http://0.0.0.0:5005",
        "http://localhost.example.com:5005",
        "ftp://127.0.0.1/",
        "127.0.0.1:5005",
        "",
    ],
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(LoadError, match="only loopback hosts"):
        loopback_url(url)


def test_the_locust_command_refuses_another_host() -> None:
    with pytest.raises(LoadError):
        locust_command("http://192.168.1.10:5005", 5, 10)
    command = locust_command("http://127.0.0.1:5005", 5, 10)
    assert command[command.index("-u") + 1] == command[command.index("-r") + 1] == "5"
    assert command[command.index("--run-time") + 1] == "10s"
    assert "--headless" in command and "--only-summary" in command


def test_default_options() -> None:
    args = parse_options([])
    assert args.users == [1, 10, 20, 50]
    assert (args.duration, args.think_time, args.setup, args.note) == (60, 0.0, "embedded", "")
    assert args.out.name == "load"
    assert parse_options(["--out", "/tmp/x.json"]).out == Path("/tmp/x")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--users", ""], "separated by commas"),
        (["--users", "1,,5"], "separated by commas"),
        (["--users", "0"], "from 1 to"),
        (["--users", "-3"], "from 1 to"),
        (["--users", "ten"], "from 1 to"),
        (["--users", "5,5"], "given twice"),
        (["--duration", "2"], "whole number of seconds"),
        (["--duration", "1.5"], "whole number of seconds"),
        (["--think-time", "-1"], "from 0 to"),
        (["--think-time", "nan"], "from 0 to"),
        (["--think-time", "soon"], "from 0 to"),
        (["--setup", "cloud"], "invalid choice"),
        (["--out", "."], "file name prefix"),
    ],
)
def test_bad_options_exit_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_options(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_users_levels_keeps_the_order_given() -> None:
    assert users_levels("20, 1,5") == [20, 1, 5]
    with pytest.raises(argparse.ArgumentTypeError):
        users_levels("1001")


def test_the_locustfile_conversations_are_well_formed() -> None:
    scripts = conversations(LOCUSTFILE)
    assert len(scripts) >= 4
    texts = [text.lower() for _, messages in scripts.values() for text in messages]
    assert any("hoodie" in t for t in texts), "a product search"
    assert any("order" in t for t in texts) and any("@example." in t for t in texts)
    assert any("return" in t for t in texts)
    assert any("payment" in t or "shipping" in t for t in texts), "a policy question"
    for name, (weight, messages) in scripts.items():
        assert weight >= 1, name
        assert all(text == text.strip() and "[" not in text for text in messages), name


def test_order_numbers_and_emails_in_the_conversations_are_demo_pairs() -> None:
    """Each order number is followed, in the same conversation, by the e-mail of that order
    in the conversation tests of bot/tests (where the pairs are known to verify)."""
    stories = "\n".join(
        p.read_text() for p in (LOCUSTFILE.parent.parent / "bot/tests").glob("*.yml")
    )
    for name, (_, messages) in conversations().items():
        joined = " ".join(messages)
        numbers = [w.strip("?.,") for w in joined.split() if w.strip("?.,").isdigit()]
        emails = [w for w in joined.split() if "@" in w]
        assert len(numbers) == len(emails), name
        for number, email in zip(numbers, emails, strict=True):
            assert f"[{number}](order_number)" in stories, (name, number)
            assert f"[{email}](email)" in stories, (name, email)


def test_bad_conversation_data_is_refused(tmp_path: Path) -> None:
    bad_data: list[Any] = [
        {},
        {"x": (0, ["hi"])},
        {"x": (1, [])},
        {"x": (1, ["hi", " "])},
        {"": (1, ["a"])},
        {"x": ["hi"]},
        ["hi"],
    ]
    for bad in bad_data:
        with pytest.raises(ValueError):
            validate_conversations(bad)
    missing = tmp_path / "locustfile.py"
    missing.write_text("OTHER = {}\n")
    with pytest.raises(ValueError, match="no CONVERSATIONS"):
        conversations(missing)


def test_bad_scaled_settings_stop_the_run_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPDESK_REDIS_URL", "http://cache:6379")
    code = main(["--setup", "scaled", "--users", "1", "--out", str(tmp_path / "x")])
    assert code != 0
    error = capsys.readouterr().err
    assert "SHOPDESK_REDIS_URL must look like" in error and "Traceback" not in error
    assert not (tmp_path / "x.json").exists()


def test_messages_can_go_through_the_web_server() -> None:
    assert parse_options([]).via == "rasa"
    assert parse_options(["--via", "web"]).via == "web"
    text = markdown(_result(via="web"))
    assert "through the web server's socket.io channel" in text
    assert "to Rasa's REST channel" in markdown(_result())
