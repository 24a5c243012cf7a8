"""Every conversation story in bot/tests against a fresh live stack: classifier, Rasa, the
action server and a new SQLite shop with the demo order book (what `make stories` runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launcher.stack import StackConfig, missing_environments
from launcher.stories import cli, play
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.e2e


def test_every_story_passes_against_the_live_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if missing := missing_environments(StackConfig()):
        skip_or_fail("the virtual environments are missing: " + ", ".join(missing))
    monkeypatch.setattr(play, "STORY_LOG_DIR", tmp_path / "logs")
    report_path = tmp_path / "report.json"

    status = cli.main([str(cli.DEFAULT_STORY_DIR), "--report", str(report_path)])

    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["summary"]["total"] >= 40
    assert status == 0, out[-6000:]
    assert report["summary"]["failed"] == 0
