"""Rasa's own validator on the domain, NLU data and rules (runs in the Rasa venv)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Set by the classifier client when the classifier cannot answer, triggered by the web server
# when no agent took a handoff in time, or sent by the rating buttons: never typed, so never
# in the NLU data.
EXPECTED_WARNINGS = {
    f"The intent '{intent}' is listed in the domain file, but is not found in the NLU training "
    "data."
    for intent in ("classifier_unavailable", "handoff_timeout", "rate_conversation")
}


def form_questions() -> set[str]:
    """Rasa 3.6's validator does not see that a form asks `utter_ask_<slot>` itself, so it
    warns that these responses are unused; every other warning is a real problem."""
    import yaml

    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    slots = {s for form in domain["forms"].values() for s in form["required_slots"]}
    return {
        f"The utterance '{name}' is not used in any story or rule."
        for name in domain["responses"]
        if name.startswith("utter_ask_") and name.removeprefix("utter_ask_") in slots
    }


def sent_by_actions() -> set[str]:
    """Rasa's validator sees only stories and rules, not the responses custom actions send
    (`utter_message(response=...)`); tests/actions/test_contract.py checks those. Read from
    the source: the actions need Python 3.11, this venv is 3.10."""
    names = {
        name
        for path in (ROOT / "actions").glob("*.py")
        for name in re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8"))
    }
    return {f"The utterance '{name}' is not used in any story or rule." for name in names}


def test_domain_data_and_rules_are_consistent() -> None:
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "data", "validate", "--domain", "bot/domain.yml", "--data", "bot/data",
         "--config", "config.yml"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "bot")},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = {w.strip() for w in re.findall(r"UserWarning: (.*)", output)}
    assert warnings - EXPECTED_WARNINGS - form_questions() - sent_by_actions() == set()
    assert "No story structure conflicts found" in output
