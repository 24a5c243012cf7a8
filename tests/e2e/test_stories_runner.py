"""`python -m launcher stories` on a real stack it starts itself, and `--rasa-test` beside it.

Relies only on greet → utter_greet and goodbye → utter_goodbye (other intents change often).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from launcher.stack import ROOT, StackConfig, missing_environments
from launcher.stories import cli, play
from launcher.stories import rasa_test as rasa_test_runner
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.e2e

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
  - story: wrong on purpose
    steps:
      - user: hello
        intent: greet
      - action: utter_goodbye
"""


def missing_models(config: StackConfig) -> list[str]:
    nlu_root = Path(os.environ.get("SHOPDESK_NLU_MODEL_ROOT") or ROOT / "models" / "nlu")
    wanted = [config.rasa_model_dir / "shopdesk.tar.gz", nlu_root / "intent", nlu_root / "category"]
    return [str(path) for path in wanted if not path.exists()]


def test_stories_play_against_a_fresh_stack_and_report_the_divergence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = StackConfig()
    if missing := missing_environments(config):
        skip_or_fail("the virtual environments are missing: " + ", ".join(missing))
    if missing := missing_models(config):
        skip_or_fail("the trained models are missing (run `make run` once): " + ", ".join(missing))
    monkeypatch.setattr(play, "STORY_LOG_DIR", tmp_path / "logs")
    monkeypatch.setattr(rasa_test_runner, "DEFAULT_RASA_TEST_DIR", tmp_path / "rasa-test")
    story_file = tmp_path / "test_greetings.yml"
    story_file.write_text(STORIES)
    report_path = tmp_path / "report.json"

    status = cli.main([str(story_file), "--report", str(report_path), "--rasa-test"])

    out, err = capsys.readouterr()
    assert status == 1, out + err
    assert "PASS  greet and goodbye" in out
    assert "FAIL  wrong on purpose" in out
    assert "stories: 1 passed, 1 failed, 2 total" in out
    report = json.loads(report_path.read_text())
    assert report["summary"] == {"passed": 1, "failed": 1, "total": 2}
    passed, failed = report["stories"]
    assert [t["intent"] for t in passed["turns"]] == ["greet", "goodbye"]
    assert [t["actions"] for t in passed["turns"]] == [["utter_greet"], ["utter_goodbye"]]
    assert all(t["replies"] for t in passed["turns"])
    failure = failed["failure"]
    assert (failure["step"], failure["kind"], failure["user"]) == (2, "action", "hello")
    assert failure["message"] == "expected action utter_goodbye, got utter_greet"
    assert failure["replies"] == failed["turns"][0]["replies"] != []

    rasa_test = report["rasa_test"]
    assert rasa_test["exit_code"] == 0, (tmp_path / "rasa-test" / "rasa-test.log").read_text()
    assert rasa_test["failed_stories"] == ["wrong on purpose"]
    assert rasa_test["passed_stories"] == ["greet and goodbye"]
    assert rasa_test["conversation_accuracy"]["correct"] == 1
    assert any(line.startswith("Correct:") for line in rasa_test["summary"])
    logs = sorted(path.name for path in (tmp_path / "logs").glob("*.log"))
    assert logs == ["actions.log", "classifier.log", "rasa.log", "web.log"]
