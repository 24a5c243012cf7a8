"""analytics.csv_export: the report's tables as CSV, never a formula in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from analytics.conversations import Conversation
from analytics.csv_export import CSV_TABLES, cell, report_csv
from analytics.report import Report, build_report


@pytest.fixture
def report(known: list[Conversation]) -> Report:
    return build_report(known, [], date(2026, 11, 1), date(2026, 11, 4))


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_days(report: Report) -> None:
    text = report_csv(report, "days")
    assert text.split("\r\n") == [
        "date,conversations,contained,handoffs,shopper_messages,fallbacks,searches,"
        "zero_result_searches,ratings,rating_average,reply_p50_ms,reply_p95_ms",
        "2026-11-01,0,0,0,0,0,0,0,0,,,",  # nothing: empty cells, not zeros, for averages
        "2026-11-02,3,2,1,12,2,3,1,1,5.0,250.0,625.0",
        "2026-11-03,3,2,1,10,0,4,4,1,2.0,250.0,500.0",
        "2026-11-04,1,1,0,3,0,1,1,0,,500.0,750.0",
        "",
    ]


def test_intents_one_row_per_day_and_intent(report: Report) -> None:
    table = rows(report_csv(report, "intents"))
    assert table[0] == ["date", "intent", "count"]
    assert len(table) == 1 + 4 * 10  # every day of the range, for each of the top 10
    assert [r for r in table if r[1] == "search_product"] == [
        ["2026-11-01", "search_product", "0"],
        ["2026-11-02", "search_product", "2"],
        ["2026-11-03", "search_product", "3"],
        ["2026-11-04", "search_product", "1"],
    ]
    assert table[1:3] == [["2026-11-01", "search_product", "0"], ["2026-11-01", "greet", "0"]]


def test_small_tables(report: Report) -> None:
    assert rows(report_csv(report, "handoff_reasons")) == [
        ["reason", "count"],
        ["asked for a person", "1"],
        ["the bot did not understand", "1"],
    ]
    assert rows(report_csv(report, "ratings")) == [
        ["rating", "count"], ["1", "0"], ["2", "1"], ["3", "0"], ["4", "0"], ["5", "1"],
    ]  # fmt: skip


def test_a_shoppers_formula_is_written_as_text(report: Report) -> None:
    text = report_csv(report, "zero_result_queries")
    assert rows(text) == [
        ["query", "count", "last_at"],
        ["Unicorn onesie", "2", "2026-11-03T16:00:00"],
        ["unicorn onesie please, my email is <EMAIL>", "1", "2026-11-04T10:00:40"],
        ['\'=HYPERLINK("http://evil.example/x","hoodie")', "1", "2026-11-03T16:00:30"],
        ["any in blue?", "1", "2026-11-03T11:00:20"],
        ["do you have yoga pants in size XS?", "1", "2026-11-03T11:00:00"],
    ]
    assert "jane.doe" not in text


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_defused(start: str) -> None:
    assert cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"


def test_plain_cells() -> None:
    assert cell("a = b") == "a = b"  # only the first character matters
    assert cell(None) == ""
    assert cell(-0.5) == "-0.5"  # a number is no formula
    assert cell(3) == "3"


def test_an_unknown_table_names_the_known_ones(report: Report) -> None:
    with pytest.raises(ValueError) as error:
        report_csv(report, "secrets")
    assert str(error.value) == (
        "Unknown table 'secrets'; the tables are: days, intents, handoff_reasons, "
        "zero_result_queries, ratings."
    )
    assert CSV_TABLES == ("days", "intents", "handoff_reasons", "zero_result_queries", "ratings")
    assert all(len(rows(report_csv(report, table))) > 1 for table in CSV_TABLES)
