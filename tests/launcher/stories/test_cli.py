"""`python -m launcher stories --url ...` against a stand-in Rasa that replays real answers.

The stand-in speaks the three endpoints the runner uses (REST webhook, /status and the
tracker, both behind ?token=) and answers each message with the events and replies a live
Rasa 3.6 gave for it (tests/launcher/stories/fixtures/rasa_3_6_trackers.json).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from launcher import __main__ as launcher_main
from launcher.stories.cli import main
from launcher.stories.rasa_test import rasa_test_story_names, rasa_test_summary

FIXTURE = Path(__file__).parent / "fixtures" / "rasa_3_6_trackers.json"
TOKEN = "test-token-0123456789"


class FakeRasa:
    def __init__(self) -> None:
        conversations = json.loads(FIXTURE.read_text())["conversations"]
        first = conversations["greet_goodbye"]["tracker"]["events"]
        self.session_start: list[dict[str, Any]] = first[:3]
        # text -> (that turn's events, the REST replies)
        self.turns: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        for conversation in conversations.values():
            events = conversation["tracker"]["events"]
            starts = [i for i, e in enumerate(events) if e["event"] == "user"]
            ends = [*starts[1:], len(events)]
            for (start, end), replies in zip(
                zip(starts, ends, strict=True), conversation["replies"], strict=True
            ):
                self.turns.setdefault(events[start]["text"], (events[start:end], replies))
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self.api = True

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/webhooks/rest/webhook":
            events, replies = self.turns.get(body["message"], self.turns["qwzx blorp vrrk"])
            tracker = self.trackers.setdefault(body["sender"], list(self.session_start))
            tracker.extend(events)
            return 200, [{**r, "recipient_id": body["sender"]} for r in replies]
        if not self.api:
            return 404, {"status": "failure"}
        if query.get("token") != TOKEN:
            return 401, {"status": "failure", "reason": "NotAuthenticated"}
        if path == "/status":
            return 200, {"model_file": "shopdesk.tar.gz"}
        prefix, suffix = "/conversations/", "/tracker"
        if path.startswith(prefix) and path.endswith(suffix):
            sender = urllib.parse.unquote(path[len(prefix) : -len(suffix)])
            assert query.get("include_events") == "ALL"
            return 200, {"sender_id": sender, "events": self.trackers.get(sender, [])}
        return 404, {}


@pytest.fixture
def rasa() -> Iterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = fake.handle(method, url.path, query, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


STORIES = """
version: "3.1"
stories:
  - story: greet and goodbye
    steps:
      - user: hello
        intent: greet
      - action: utter_greet
      - user: bye
        intent: goodbye
      - action: utter_goodbye
  - story: goodbye first, wrongly
    steps:
      - user: hello
        intent: greet
      - action: utter_goodbye
  - story: an order
    steps:
      - user: where is my order?
        intent: track_order
      - action: track_order_form
      - active_loop: track_order_form
      - user: "[000000002](order_number)"
        intent: inform
      - action: track_order_form
      - slot_was_set:
          - requested_slot: email
"""


@pytest.fixture(autouse=True)
def token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token reaches the command by environment, never as an argument."""
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", TOKEN)


@pytest.fixture
def story_file(tmp_path: Path) -> Path:
    path = tmp_path / "test_stories.yml"
    path.write_text(STORIES)
    return path


def test_a_run_reports_each_story_the_failure_and_a_summary(
    rasa: tuple[FakeRasa, str],
    story_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, url = rasa
    report_path = tmp_path / "out" / "report.json"
    status = main([str(story_file), "--url", url, "--report", str(report_path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "PASS  greet and goodbye" in out
    assert "FAIL  goodbye first, wrongly" in out
    assert "step 2: expected action utter_goodbye, got utter_greet" in out
    assert "PASS  an order" in out
    assert "user: 'hello'" in out and "bot replied: \"Hi! I'm the Luma shop assistant." in out
    assert out.rstrip().splitlines()[-2] == "stories: 2 passed, 1 failed, 3 total"
    assert len(fake.trackers) == 3  # a fresh conversation per story

    report = json.loads(report_path.read_text())
    assert report["summary"] == {"passed": 2, "failed": 1, "total": 3}
    assert report["target"] == url and report["rasa_test"] is None
    [greet, wrong, order] = report["stories"]
    assert (greet["status"], greet["failure"]) == ("PASS", None)
    assert [t["actions"] for t in greet["turns"]] == [["utter_greet"], ["utter_goodbye"]]
    assert greet["turns"][0]["intent"] == "greet" and greet["turns"][0]["step"] == 1
    assert wrong["status"] == "FAIL" and wrong["story"] == "goodbye first, wrongly"
    assert wrong["failure"]["step"] == 2 and wrong["failure"]["kind"] == "action"
    assert wrong["failure"]["user"] == "hello"
    assert wrong["failure"]["expected"] == "utter_goodbye"
    assert wrong["failure"]["actual"] == "utter_greet"
    assert wrong["failure"]["replies"][0].startswith("Hi! I'm the Luma shop assistant.")
    assert {"name": "requested_slot", "value": "email"} in order["turns"][1]["slots"]


def test_only_the_named_stories_run_and_all_passing_exits_0(
    rasa: tuple[FakeRasa, str], story_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = rasa
    argv = [str(story_file), "--url", url, "--story", "greet and goodbye"]
    assert launcher_main.main(["stories", *argv]) == 0
    assert "stories: 1 passed, 0 failed, 1 total" in capsys.readouterr().out


def test_the_token_comes_from_the_environment(
    rasa: tuple[FakeRasa, str],
    story_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = rasa
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", TOKEN)
    assert main([str(story_file), "--url", url, "--story", "an order"]) == 0


@pytest.mark.parametrize(
    ("token", "api", "message"),
    [
        ("wrong-token-abcdef", True, "refused the API token (wro…)"),
        (TOKEN, False, "does not serve its HTTP API: start it with --enable-api"),
        (None, True, "--url needs Rasa's API token"),
    ],
)
def test_a_stack_that_cannot_be_used_exits_2(
    rasa: tuple[FakeRasa, str],
    story_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
    api: bool,
    message: str,
) -> None:
    fake, url = rasa
    fake.api = api
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", token or "")
    assert main([str(story_file), "--url", url]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert "wrong-token-abcdef" not in err
    assert fake.trackers == {}


def test_an_unreachable_url_exits_2(story_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(story_file), "--url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach Rasa at http://127.0.0.1:9" in capsys.readouterr().err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        launcher_main.main(["stories", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in ("--url", "--token", "--report", "--story", "--rasa-test", "Exit status"):
        assert option in out


def test_rasa_test_story_names_lose_the_file_rasa_appends(tmp_path: Path) -> None:
    failed = tmp_path / "failed_test_stories.yml"
    failed.write_text(
        'version: "3.1"\nstories:\n- story: wrong (on purpose) (/x/var/rasa-test/stories/'
        "test_01_greet.yml)\n  steps:\n  - intent: greet\n"
    )
    assert rasa_test_story_names(failed) == ["wrong (on purpose)"]


def test_rasa_test_summary_keeps_rasas_verdict_lines() -> None:
    log = [  # lines of a real `rasa test core --e2e` log (Rasa 3.6.21)
        "2026-11-28 10:23:24 INFO     rasa.core.test  - Evaluating 7 stories",
        "2026-11-28 10:23:40 INFO     rasa.core.test  - Finished collecting predictions.",
        "2026-11-28 10:23:40 INFO     rasa.core.test  - Evaluation Results on CONVERSATION level:",
        "2026-11-28 10:23:40 INFO     rasa.core.test  - \tCorrect:          3 / 7",
        "2026-11-28 10:23:40 INFO     rasa.core.test  - \tAccuracy:         0.429",
        "2026-11-28 10:23:40 INFO     rasa.core.test  - Stories report saved to /x/r.json.",
        "2026-11-28 10:23:40 WARNING  rasa.model_testing  - No labels to evaluate.",
        "/x/rasa/shared/utils/io.py:100: UserWarning: Accuracy: not a verdict",
    ]
    assert rasa_test_summary(log) == [
        "Evaluating 7 stories",
        "Evaluation Results on CONVERSATION level:",
        "Correct: 3 / 7",
        "Accuracy: 0.429",
    ]


@pytest.mark.parametrize("given", [["--token", "s3cret-token-xyz"], ["--token=s3cret-token-xyz"]])
def test_a_token_on_the_command_line_is_refused_without_echoing_it(
    rasa: tuple[FakeRasa, str],
    story_file: Path,
    capsys: pytest.CaptureFixture[str],
    given: list[str],
) -> None:
    """Every user of the machine can read a command line (`ps`)."""
    fake, url = rasa
    with pytest.raises(SystemExit) as exited:
        main([str(story_file), "--url", url, *given])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "a command line is visible to every user" in err and "SHOPDESK_RASA_TOKEN" in err
    assert "s3cret" not in err
    assert fake.trackers == {}
