"""The console's analytics for admins: GET /agent/api/analytics and analytics.csv, on the real
app with real SQLite databases (the shop's, and a tracker store with Rasa's `events` table
holding known conversations); and the page itself in chromium.

The helpers here (a Rasa-like events table, signing in) are shared with test_corrections.py.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time as clock
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from catalog.db import migrate, session_scope
from launcher.ports import free_port
from tests.conftest import require, require_module
from tracker.events import TrackerEvents
from tracker.writer import write_events as write_rasa_events
from web.app import CHART_JS, SOCKET_IO_CLIENT, create_app
from web.auth import create_agent
from web.rasa_client import RasaClient
from web.settings import WebSettings

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "a long enough password"
D1, D2, OUTSIDE = date(2026, 11, 2), date(2026, 11, 3), date(2026, 10, 1)
RANGE = {"from": "2026-11-01", "to": "2026-11-07"}


# ---------------------------------------------------------------- Rasa-like tracker events


def at(day: date, hour: int, minute: int = 0, seconds: float = 0.0) -> float:
    """An epoch timestamp of the shop's local time, as Rasa stores event times."""
    return datetime.combine(day, time(hour, minute)).timestamp() + seconds


def session_start(ts: float) -> list[dict[str, Any]]:
    return [
        {"event": "action", "timestamp": ts, "name": "action_session_start"},
        {"event": "session_started", "timestamp": ts},
        {"event": "action", "timestamp": ts, "name": "action_listen"},
    ]


def user(text: str, intent: str, confidence: float, ts: float, **metadata: Any) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "metadata": metadata,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
        },
    }


def bot(text: str, ts: float, **metadata: Any) -> dict[str, Any]:
    return {"event": "bot", "timestamp": ts, "text": text, "metadata": metadata, "data": {}}


def slot(name: str, value: Any, ts: float) -> dict[str, Any]:
    return {"event": "slot", "timestamp": ts, "name": name, "value": value}


def known_conversations() -> dict[str, list[dict[str, Any]]]:
    """Three conversations in 2026-11-01..07 and one before: one rated 5 and contained, one
    handed to a person, one search that found nothing."""
    return {
        "c-ok": [
            *session_start(at(D1, 10)),
            user("hello", "greet", 0.98, at(D1, 10, 0, 1)),
            bot("Hi! What can I do for you?", at(D1, 10, 0, 1.5)),
            user("where is my order", "track_order", 0.91, at(D1, 10, 1)),
            bot("Your order is on its way.", at(D1, 10, 1, 0.5)),
            user("/rate_conversation", "rate_conversation", 1.0, at(D1, 10, 2), display_text="5"),
            slot("conversation_rating", 5, at(D1, 10, 2, 0.1)),
            bot("Thank you!", at(D1, 10, 2, 0.2)),
        ],
        "c-person": [
            *session_start(at(D2, 9)),
            user("I want to talk to a person", "contact_human_agent", 0.95, at(D2, 9, 0, 1)),
            slot("handoff_reason", "asked for a person", at(D2, 9, 0, 1.2)),
            slot("handoff_status", "waiting", at(D2, 9, 0, 1.2)),
            bot("I'm passing you to our team.", at(D2, 9, 0, 1.3)),
        ],
        "c-search": [
            *session_start(at(D2, 15)),
            user("purple unicorn boots", "search_product", 0.88, at(D2, 15, 0, 1)),
            slot("search_hits", 0, at(D2, 15, 0, 1.4)),
            bot("Sorry, I found nothing like that.", at(D2, 15, 0, 1.5)),
        ],
        "c-old": [
            *session_start(at(OUTSIDE, 12)),
            user("hi", "greet", 0.99, at(OUTSIDE, 12, 0, 1)),
            bot("Hi!", at(OUTSIDE, 12, 0, 2)),
        ],
    }


def write_events(path: Path, senders: dict[str, list[dict[str, Any]]]) -> None:
    """Rasa 3.6's SQLTrackerStore `events` table (tracker/writer.py) with these events."""
    write_rasa_events(f"sqlite:///{path}", senders, by_time=False)


# ---------------------------------------------------------------- the app


class Console:
    """The real web app on SQLite; Rasa's HTTP API is replaced by the tracker store's rows
    (the console reads a conversation from Rasa; nothing here sends Rasa a message)."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tracker_path = tmp_path / "tracker.sqlite3"
        write_events(self.tracker_path, known_conversations())
        self.tracker_url = f"sqlite:///{self.tracker_path}"
        monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", self.tracker_url)
        self.db_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        migrate(self.db_url)
        with session_scope(self.db_url) as session:
            create_agent(session, "anna", "Anna", PASSWORD)
            create_agent(session, "root", "Admin", PASSWORD, role="admin")
        store = TrackerEvents(self.tracker_url)

        async def tracker(client: RasaClient, sender: str) -> dict[str, Any]:
            return {"sender_id": sender, "events": store.events(sender), "slots": {}}

        monkeypatch.setattr(RasaClient, "tracker", tracker)
        self.app: Any = create_app(
            WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="unused"),
            self.db_url,
            b"k" * 40,
        )


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    """Sign `username` in on this client (instead of whoever was); the CSRF header to send."""
    client.cookies.clear()
    answer = client.post("/agent/api/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Console:
    return Console(tmp_path, monkeypatch)


@pytest.fixture
def client(console: Console) -> Iterator[TestClient]:
    with TestClient(console.app, raise_server_exceptions=False) as test_client:
        yield test_client


# ---------------------------------------------------------------- the JSON report


def test_an_admin_gets_the_report_of_the_range(client: TestClient) -> None:
    sign_in(client, "root")
    answer = client.get("/agent/api/analytics", params=RANGE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    report = answer.json()
    assert (report["from"], report["to"]) == ("2026-11-01", "2026-11-07")
    totals = report["totals"]
    assert totals["conversations"] == 3  # c-old is before the range
    assert (totals["contained"], totals["handoffs"]) == (2, 1)
    assert totals["handoff_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert (totals["searches"], totals["zero_result_searches"]) == (1, 1)
    assert (totals["ratings"], totals["rating_average"]) == (1, 5)
    assert [d["date"] for d in report["days"]] == [f"2026-11-0{n}" for n in range(1, 8)]
    by_day = {d["date"]: d["conversations"] for d in report["days"]}
    assert (by_day["2026-11-02"], by_day["2026-11-03"], by_day["2026-11-04"]) == (1, 2, 0)
    assert report["handoff_reasons"] == [{"reason": "asked for a person", "count": 1}]
    assert [q["query"] for q in report["zero_result_queries"]] == ["purple unicorn boots"]
    assert report["ratings"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    intents = {row["intent"] for row in report["top_intents"]}
    assert {"greet", "track_order", "search_product"} <= intents
    assert "rate_conversation" not in intents  # a button, not the shopper's words


def test_without_dates_the_report_is_the_last_28_days(client: TestClient) -> None:
    sign_in(client, "root")
    report = client.get("/agent/api/analytics").json()
    assert len(report["days"]) == 28
    assert report["to"] == date.today().isoformat()


def test_only_an_admin_sees_analytics(client: TestClient) -> None:
    for path in ("/agent/api/analytics", "/agent/api/analytics.csv"):
        client.cookies.clear()
        assert client.get(path).status_code == 401
        sign_in(client, "anna")
        refused = client.get(path, params=RANGE)
        assert refused.status_code == 403
        assert refused.json() == {"error": "Only an admin can see the analytics."}


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "1.11.2026", "to": "2026-11-07"}, "Please give the start date as YYYY-MM-DD"),
        ({"from": "2026-11-01", "to": "2026-02-30"}, "Please give the end date as YYYY-MM-DD"),
        ({"from": "2026-11-07", "to": "2026-11-01"}, "is after the end date"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "Please choose at most"),
    ],
)
def test_a_bad_range_gets_a_sentence(client: TestClient, params: dict[str, str], says: str) -> None:
    sign_in(client, "root")
    for path in ("/agent/api/analytics", "/agent/api/analytics.csv"):
        answer = client.get(path, params=params)
        assert answer.status_code == 400
        assert says in answer.json()["error"]


# ---------------------------------------------------------------- CSV


def test_an_admin_downloads_a_table_as_csv(client: TestClient) -> None:
    sign_in(client, "root")
    answer = client.get("/agent/api/analytics.csv", params={**RANGE, "table": "days"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="shopdesk-days-2026-11-01-2026-11-07.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["date"] for row in rows] == [f"2026-11-0{n}" for n in range(1, 8)]
    assert [row["conversations"] for row in rows[1:4]] == ["1", "2", "0"]

    reasons = client.get("/agent/api/analytics.csv", params={**RANGE, "table": "handoff_reasons"})
    assert (
        "shopdesk-handoff_reasons-2026-11-01-2026-11-07.csv"
        in (reasons.headers["content-disposition"])
    )
    assert list(csv.reader(io.StringIO(reasons.text))) == [
        ["reason", "count"],
        ["asked for a person", "1"],
    ]


def test_every_table_named_downloads(client: TestClient) -> None:
    sign_in(client, "root")
    for table in ("days", "intents", "handoff_reasons", "zero_result_queries", "ratings"):
        answer = client.get("/agent/api/analytics.csv", params={**RANGE, "table": table})
        assert answer.status_code == 200, (table, answer.text)
        assert answer.text.splitlines()[0]  # a header row


def test_an_unknown_table_is_refused_naming_the_known_ones(client: TestClient) -> None:
    sign_in(client, "root")
    answer = client.get("/agent/api/analytics.csv", params={**RANGE, "table": "secrets"})
    assert answer.status_code == 400
    message = answer.json()["error"]
    assert "secrets" in message
    for table in ("days", "intents", "handoff_reasons", "zero_result_queries", "ratings"):
        assert table in message


def test_the_chart_library_is_served_from_our_own_origin(client: TestClient) -> None:
    require(CHART_JS.exists(), "web/node_modules is missing: run scripts/bootstrap")
    answer = client.get("/static/vendor/chart.umd.js")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]
    assert "Chart.js v4" in answer.text[:200]


# ---------------------------------------------------------------- the page, in chromium


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if condition():
            return
        clock.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def live_console(console: Console) -> Iterator[str]:
    """The app served by uvicorn on a free port, for the browser; its base URL."""
    require_module("playwright", "playwright is missing: run scripts/bootstrap")
    require(
        SOCKET_IO_CLIENT.exists() and CHART_JS.exists(),
        "web/node_modules is missing: run scripts/bootstrap",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(console.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the console's server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def sign_in_on_page(page: Page, base: str, username: str, hash_part: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/agent/{hash_part}")
    page.get_by_test_id("console-username").fill(username)
    page.get_by_test_id("console-password").fill(PASSWORD)
    page.get_by_test_id("console-signin").click()
    expect(page.get_by_test_id("console-agent-name")).to_be_visible()


XSS = "<img src=x onerror=window.__xss=1>"


def test_an_admin_reads_analytics_in_the_console(
    console: Console,
    live_console: str,
    browser_page: Page,
    page_errors: list[str],
    screenshot: Callable[[Page, str], None],
) -> None:
    from playwright.sync_api import expect

    write_events(  # a search in markup: shown as text, never run
        console.tracker_path,
        {
            "c-xss": [
                *session_start(at(D2, 16)),
                user(XSS, "search_product", 0.7, at(D2, 16, 0, 1)),
                slot("search_hits", 0, at(D2, 16, 0, 1.2)),
                bot("Sorry, I found nothing like that.", at(D2, 16, 0, 1.3)),
            ]
        },
    )
    page = browser_page
    sign_in_on_page(page, live_console, "root")
    page.get_by_test_id("console-tab-analytics").click()
    expect(page.get_by_test_id("analytics")).to_be_visible()
    page.get_by_test_id("analytics-from").fill("2026-11-01")
    page.get_by_test_id("analytics-to").fill("2026-11-07")
    page.get_by_test_id("analytics-show").click()
    expect(page.get_by_test_id("analytics-status")).to_contain_text("7 days")

    def kpi(name: str) -> Any:
        return page.get_by_test_id(f"analytics-kpi-{name}").get_by_test_id("analytics-kpi-value")

    expect(kpi("conversations")).to_have_text("4")
    expect(kpi("handoff")).to_have_text("25 %")
    expect(kpi("zero-results")).to_have_text("100 %")
    expect(kpi("rating")).to_have_text("5.0 ★")

    # Chart.js drew on the canvas, under the page's CSP, and the canvas says what it shows
    canvas = page.get_by_test_id("analytics-chart-volume")
    expect(canvas).to_be_visible()
    expect(canvas).to_have_attribute("aria-label", re.compile(r"4 in all, 3 contained"))
    assert page.evaluate("() => !!window.Chart.getChart(document.getElementById('chart-volume'))")
    assert canvas.evaluate("c => c.width > 0 && c.height > 0")

    screenshot(page, "top")
    page.get_by_test_id("analytics-chart-intents").scroll_into_view_if_needed()
    screenshot(page, "charts")
    zero = page.get_by_test_id("analytics-table-zero")
    zero.scroll_into_view_if_needed()
    screenshot(page, "tables")
    expect(zero).to_contain_text(XSS)
    expect(zero).to_contain_text("purple unicorn boots")
    assert page.evaluate("() => window.__xss") is None
    expect(page.get_by_test_id("analytics-table-reasons")).to_contain_text("asked for a person")

    with page.expect_download() as started:
        page.get_by_test_id("analytics-csv-zero_result_queries").click()
    download = started.value
    assert download.suggested_filename == ("shopdesk-zero_result_queries-2026-11-01-2026-11-07.csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["query", "count", "last_at"]
    assert {row[0] for row in rows[1:]} == {XSS, "purple unicorn boots"}
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []  # before sign-in


def test_an_agent_has_no_analytics_tab(live_console: str, browser_page: Page) -> None:
    from playwright.sync_api import expect

    sign_in_on_page(browser_page, live_console, "anna", "#analytics")
    expect(browser_page.get_by_test_id("console-queue")).to_be_visible()
    expect(browser_page.get_by_test_id("console-tab-analytics")).to_be_hidden()
    expect(browser_page.get_by_test_id("analytics")).to_be_hidden()


def test_without_the_chart_library_the_tables_still_show(
    live_console: str, browser_page: Page
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.route("**/static/vendor/chart.umd.js", lambda route: route.abort())
    sign_in_on_page(page, live_console, "root", "#analytics")
    page.get_by_test_id("analytics-last-7").click()
    expect(page.get_by_test_id("analytics-kpis")).to_contain_text("Conversations")
    expect(page.locator("#charts-missing")).to_be_visible()
    expect(page.get_by_test_id("analytics-chart-volume")).to_be_hidden()
    expect(page.get_by_test_id("analytics-table-days")).to_be_visible()  # opened for them
    expect(page.get_by_test_id("analytics-table-ratings")).to_contain_text("5 ★")
