"""`python -m launcher run`, as `make run` starts it: up, answering, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launcher.chat import send
from launcher.ports import free_port
from launcher.stack import ROOT, StackConfig, missing_environments
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    ports = {
        "SHOPDESK_RASA_PORT": str(free_port()),
        "SHOPDESK_ACTIONS_PORT": str(free_port()),
        "SHOPDESK_NLU_PORT": str(free_port()),
        "SHOPDESK_WEB_PORT": str(free_port()),
    }
    if missing := missing_environments(StackConfig()):
        skip_or_fail("the virtual environments are missing: " + ", ".join(missing))
    env = {
        **os.environ,
        **ports,
        "SHOPDESK_DB_PATH": str(tmp_path / "shop.sqlite3"),
        "SHOPDESK_TRACKER_DB": str(tmp_path / "tracker.sqlite3"),
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "launcher", "run", "--no-chat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert launcher.stdout is not None
    try:
        deadline = time.monotonic() + 900  # the first run trains both adapters
        for line in launcher.stdout:
            if line.startswith("ShopDesk is up") or time.monotonic() > deadline:
                break
        assert launcher.poll() is None, "the launcher stopped before the stack was up"
        started = children(launcher.pid)
        assert len(started) == 4  # classifier, actions, Rasa, web
        chat_url = f"http://127.0.0.1:{ports['SHOPDESK_RASA_PORT']}/webhooks/rest/webhook"
        assert send(chat_url, "launcher-test", "hello")

        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=60) == 0
        time.sleep(0.5)
        assert [pid for pid in started if alive(pid)] == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
