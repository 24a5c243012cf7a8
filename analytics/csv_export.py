"""A report's tables as CSV, for a spreadsheet.

Queries are the shopper's own words, so a cell could be `=HYPERLINK(...)` that a spreadsheet
would run as a formula (CSV injection, OWASP): a text cell starting with = + - @, a tab or a
carriage return is written with a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from analytics.report import Report

CSV_TABLES = ("days", "intents", "handoff_reasons", "zero_result_queries", "ratings")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DAY_COLUMNS = (
    "date",
    "conversations",
    "contained",
    "handoffs",
    "shopper_messages",
    "fallbacks",
    "searches",
    "zero_result_searches",
    "ratings",
    "rating_average",
    "reply_p50_ms",
    "reply_p95_ms",
)


def cell(value: Any) -> str:
    """A value as a CSV cell: empty for None, text never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_STARTS) else value
    return str(value)


def _rows(report: Report, table: str) -> tuple[Sequence[str], Iterable[Sequence[Any]]]:
    if table == "days":
        return DAY_COLUMNS, ([day[c] for c in DAY_COLUMNS] for day in report.days)
    if table == "intents":
        dates = [day["date"] for day in report.days]
        return ("date", "intent", "count"), (
            (day, row["intent"], row["daily"][index])
            for index, day in enumerate(dates)
            for row in report.top_intents
        )
    if table == "handoff_reasons":
        return ("reason", "count"), ((r["reason"], r["count"]) for r in report.handoff_reasons)
    if table == "zero_result_queries":
        return ("query", "count", "last_at"), (
            (r["query"], r["count"], r["last_at"]) for r in report.zero_result_queries
        )
    if table == "ratings":
        return ("rating", "count"), report.ratings.items()
    raise ValueError(f"Unknown table {table!r}; the tables are: {', '.join(CSV_TABLES)}.")


def report_csv(report: Report, table: str) -> str:
    """One of the report's tables (CSV_TABLES) as CSV text with a header row (RFC 4180)."""
    header, rows = _rows(report, table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
