"""launcher.supervise: a process of the stack that dies is restarted after a pause that doubles,
counted where /health reads it, and the launcher gives up on one that keeps dying.

Real child processes (a tiny Python that exits, one that sleeps); the supervisor's clock is a
seam the tests move by hand, so no assertion depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.stack import Service, Stack, http_ok, make_private_dir
from launcher.supervise import Backoff, GaveUp, Supervisor, Watcher
from tests.e2e.live import live_stack
from web.restarts import RestartCounts, RestartSettings, restart_counts

DIES = [sys.executable, "-c", "import sys; print('dying now'); sys.exit(3)"]
STEADY = [sys.executable, "-c", "import time; time.sleep(600)"]
WAIT_S = 60.0  # only a ceiling for a child to exit; never asserted
LIVE_WAIT_S = 120.0  # a ceiling for the live restart, never asserted as a duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def small_stack(tmp_path: Path, **commands: list[str]) -> Stack:
    """A Stack whose services are these commands (started for real by Stack.start_service)."""
    config = fresh_config(tmp_path, tmp_path / "logs")
    make_private_dir(config.log_dir)
    stack = Stack(config)
    stack.services = {
        name: Service(name, "tool", command, 0, "") for name, command in commands.items()
    }
    for name in stack.services:
        stack.start_service(name)
    return stack


@pytest.fixture
def lines() -> list[str]:
    return []


def supervisor(stack: Stack, lines: list[str], clock: Clock, **backoff: Any) -> Supervisor:
    return Supervisor(stack, Backoff(**backoff), clock=clock, say=lines.append)


def wait_dead(stack: Stack, name: str) -> None:
    process = stack.services[name].process
    assert process is not None
    process.wait(timeout=WAIT_S)


def test_the_pause_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first_s=1, factor=2, cap_s=60)
    assert [backoff.delay(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_dead_process_is_restarted_after_its_pause_and_counted(
    tmp_path: Path, lines: list[str]
) -> None:
    stack = small_stack(tmp_path, dies=DIES, steady=STEADY)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock)
        assert RestartCounts.read(stack.config.restarts_file).restarts == {"dies": 0, "steady": 0}
        steady_pid = stack.pids()["steady"]
        first = stack.services["dies"].process
        wait_dead(stack, "dies")

        watched.check()
        assert stack.services["dies"].process is first  # scheduled, not yet restarted
        assert "dies exited (status 3); restarting it in 1s" in lines[-1]
        clock.now = 0.99
        watched.check()
        assert stack.services["dies"].process is first
        clock.now = 1.0
        watched.check()

        assert stack.services["dies"].process is not first
        assert watched.counts == {"dies": 1, "steady": 0}
        assert lines[-1].startswith("==> restarted dies (exit status was 3; restart 1")
        counts = RestartCounts.read(stack.config.restarts_file)
        assert counts == RestartCounts({"dies": 1, "steady": 0}, gave_up="")
        assert stack.pids()["steady"] == steady_pid  # the others are left alone
        # the new process wrote to the same log, after the old one
        assert stack.services["dies"].log_tail().count("dying now") >= 1
    finally:
        stack.stop()


def test_each_restart_within_the_window_doubles_the_next_pause(
    tmp_path: Path, lines: list[str]
) -> None:
    stack = small_stack(tmp_path, dies=DIES)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock, max_restarts=10, window_s=1000)
        pauses = []
        for _ in range(4):
            wait_dead(stack, "dies")
            watched.check()  # seen dead at `clock.now`
            died_at, before = clock.now, stack.services["dies"].process
            while stack.services["dies"].process is before:
                clock.now += 0.5
                watched.check()
            pauses.append(clock.now - died_at)
        assert pauses == [1.0, 2.0, 4.0, 8.0]
        assert watched.counts["dies"] == 4
    finally:
        stack.stop()


def test_restarts_older_than_the_window_are_forgotten(tmp_path: Path, lines: list[str]) -> None:
    stack = small_stack(tmp_path, dies=DIES)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock, max_restarts=1, window_s=10)
        wait_dead(stack, "dies")
        watched.check()
        clock.now = 1
        watched.check()  # restart 1 of at most 1 within 10 s
        wait_dead(stack, "dies")
        clock.now = 20  # long after: the window is empty again, the pause is the first one
        watched.check()
        assert "restarting it in 1s" in lines[-1]
        clock.now = 21
        watched.check()
        assert watched.counts["dies"] == 2
    finally:
        stack.stop()


def test_it_gives_up_on_a_process_that_keeps_dying(tmp_path: Path, lines: list[str]) -> None:
    stack = small_stack(tmp_path, dies=DIES, steady=STEADY)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock, max_restarts=2, window_s=600)
        for _ in range(2):
            wait_dead(stack, "dies")
            watched.check()
            clock.now += 60
            watched.check()
        wait_dead(stack, "dies")
        with pytest.raises(GaveUp) as raised:
            watched.check()
        message = str(raised.value)
        assert "dies exited (status 3) after 2 restarts" in message
        assert "stopping everything" in message
        assert str(stack.services["dies"].log_path) in message and "dying now" in message
        counts = RestartCounts.read(stack.config.restarts_file)
        assert counts.gave_up == "dies" and counts.restarts["dies"] == 2
    finally:
        stack.stop()


def test_the_watcher_restarts_in_its_thread_and_reports_giving_up(tmp_path: Path) -> None:
    stack = small_stack(tmp_path, dies=DIES)
    gave_up: list[bool] = []
    watched = Supervisor(stack, Backoff(first_s=0.01, max_restarts=3), say=lambda _: None)
    watcher = Watcher(watched, on_give_up=lambda: gave_up.append(True), poll_s=0.01).start()
    try:
        assert watcher.wait(timeout_s=WAIT_S), "the watcher did not give up"
        assert gave_up == [True]
        assert "dies exited" in watcher.message
        assert watched.counts["dies"] == 3
    finally:
        watcher.close()
        stack.stop()


def test_nothing_is_restarted_once_closed(tmp_path: Path, lines: list[str]) -> None:
    stack = small_stack(tmp_path, dies=DIES)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock)
        watched.close()
        wait_dead(stack, "dies")
        clock.now = 100
        watched.check()
        assert watched.counts["dies"] == 0 and lines == []
    finally:
        stack.stop()


def test_health_reads_the_counts_the_launcher_names(tmp_path: Path) -> None:
    config = fresh_config(tmp_path, tmp_path / "logs")
    for role in ("web", "actions", "rasa"):
        assert config.env(role)["SHOPDESK_RESTARTS_FILE"] == str(tmp_path / "logs/restarts.json")
    path = tmp_path / "restarts.json"
    RestartCounts({"actions": 2, "web": 0}).write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert restart_counts(RestartSettings(restarts_file=str(path))) == {"actions": 2, "web": 0}
    # not started by the launcher (systemd), a missing or broken file: nothing, never an error
    assert restart_counts(RestartSettings()) == {}
    assert restart_counts(RestartSettings(restarts_file=str(tmp_path / "none.json"))) == {}
    path.write_text("{not json")
    assert restart_counts(RestartSettings(restarts_file=str(path))) == {}
    path.write_text('{"restarts": {"web": "many", "rasa": 1}}')
    assert restart_counts(RestartSettings(restarts_file=str(path))) == {"rasa": 1}


@pytest.mark.e2e
@pytest.mark.live
def test_a_killed_action_server_is_restarted_and_the_conversation_goes_on(
    tmp_path: Path,
) -> None:
    """The real stack under the launcher's supervisor: the action server is killed in the
    middle of a conversation, restarted, counted on /health, and the same shopper's next
    question that needs it is answered."""
    config = fresh_config(tmp_path, tmp_path / "logs")
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    with live_stack(config) as stack:
        watcher = Watcher(Supervisor(stack, Backoff(first_s=1)), poll_s=0.2).start()
        try:
            assert product_lines(send(config.chat_url, sender, "do you have a black hoodie?"))
            actions = stack.services["actions"].process
            assert actions is not None
            os.killpg(actions.pid, signal.SIGKILL)
            deadline = time.monotonic() + LIVE_WAIT_S
            while health(config.web_url)["restarts"].get("actions") != 1 or not http_ok(
                stack.services["actions"].health_url
            ):
                assert not watcher.message, watcher.message
                assert time.monotonic() < deadline, "the action server was not restarted"
                time.sleep(0.25)
            replies = send(config.chat_url, sender, "do you have a black hoodie?")
            assert product_lines(replies), replies
            assert health(config.web_url)["restarts"] == {
                "classifier": 0, "actions": 1, "rasa": 0, "web": 0,
            }  # fmt: skip
        finally:
            watcher.close()


def product_lines(replies: list[dict[str, Any]]) -> list[str]:
    """The product list of a search answer: lines with a price and a link."""
    texts = "\n".join(r.get("text", "") for r in replies)
    return [line for line in texts.splitlines() if "$" in line and "http" in line]


def health(web_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{web_url}/health", timeout=5) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def test_a_process_that_cannot_be_started_again_ends_the_watch(
    tmp_path: Path, lines: list[str]
) -> None:
    stack = small_stack(tmp_path, dies=DIES)
    clock = Clock()
    try:
        watched = supervisor(stack, lines, clock)
        wait_dead(stack, "dies")
        watched.check()
        stack.services["dies"].command = [str(tmp_path / "gone" / "python")]
        clock.now = 1
        with pytest.raises(GaveUp, match="dies could not be started again"):
            watched.check()
        assert RestartCounts.read(stack.config.restarts_file).gave_up == "dies"
    finally:
        stack.stop()


def test_launcher_run_stops_everything_with_a_message_when_it_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m launcher run --no-chat` as `make run` starts it, with a stack of tiny
    processes: one keeps dying, so the launcher gives up, stops the other, exits 1."""
    import launcher.__main__ as launcher_main

    stack = small_stack(tmp_path, dies=DIES, steady=STEADY)
    steady = stack.services["steady"]
    monkeypatch.setattr(launcher_main, "missing_environments", lambda config: [])
    monkeypatch.setattr(launcher_main, "prepare", lambda config: None)
    monkeypatch.setattr(launcher_main, "Stack", lambda config: stack)
    monkeypatch.setattr(stack, "start", lambda: {"dies": 0.0, "steady": 0.0})
    monkeypatch.setattr(
        launcher_main,
        "Supervisor",
        lambda running: Supervisor(running, Backoff(first_s=0.01, max_restarts=2)),
    )
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert launcher_main.main(["run", "--no-chat"]) == 1
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        stack.stop()
    captured = capsys.readouterr()
    assert "shopdesk: dies exited (status 3) after 2 restarts" in captured.err
    assert captured.out.count("==> restarted dies") == 2
    assert steady.process is not None and steady.process.poll() is not None  # stopped too
