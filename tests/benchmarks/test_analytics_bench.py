"""benchmarks.analytics: a tiny run writes both result files, and the report it times counts
exactly the conversations it wrote. No timing is asserted: speed is the command's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.analytics import main, parser
from tests.benchmarks.help import assert_help_explains_every_option


def test_a_tiny_run_writes_both_files_and_the_report_counts_what_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(
        ["--conversations-per-day", "5", "--days", "2", "--repeats", "1", "--out", str(tmp_path),
         "--note", "a tiny run"]
    ) == 0  # fmt: skip
    result = json.loads((tmp_path / "analytics.json").read_text())
    assert {
        "measured_at", "command", "machine", "time_zone", "tracker_store", "data", "fill",
        "whole_range", "short_range", "calls", "summary", "phases", "memory", "machine_load",
        "expected", "report_matches", "notes",
    } <= set(result)  # fmt: skip
    data = result["data"]
    assert data["conversations"] == 10
    assert data["widget_openings"] == 1  # the fixture's one opening per nine conversations
    assert data["distinct_query_texts"] == data["zero_result_queries"] > 0
    assert data["events"] > 0 and data["handoff_rows"] > 0
    assert result["report_matches"] is True
    whole, warm, short = result["calls"]
    assert whole["conversations"] == warm["conversations"] == 10  # what load_report counted
    assert short["conversations"] == 10  # the last 7 days hold both days
    assert whole["redaction_cache_misses"] == data["distinct_query_texts"]
    assert set(result["summary"]) == {"cold_s", "warm_median_s", "short_warm_median_s"}
    assert result["memory"]["peak_rss_mib"] > 0
    assert "other_busy_processes" in result["machine_load"]
    assert result["notes"] == ["a tiny run"]
    assert "--note" not in result["command"]
    markdown = (tmp_path / "analytics.md").read_text()
    assert markdown.startswith("# Analytics page")
    assert "| cold (first call) | 2 days" in markdown
    assert "- a tiny run" in markdown
    assert "day 2/2" in capsys.readouterr().out  # progress while filling


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert_help_explains_every_option(main, parser, capsys)


def test_a_sqlite_url_must_name_a_new_file(tmp_path: Path) -> None:
    existing = tmp_path / "tracker.sqlite3"
    existing.write_bytes(b"")
    assert main(["--url", f"sqlite:///{existing}", "--out", str(tmp_path / "out")]) == 2
    assert existing.exists()  # never touched
    assert not (tmp_path / "out").exists()
