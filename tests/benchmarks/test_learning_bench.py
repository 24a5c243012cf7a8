"""benchmarks.learning on a tiny shop: four Bitext intents with ten examples each, a tiny
current adapter trained on them (the offline 8-bit MiniLM, as tests/learning trains it), and a
small CSV in Bitext's columns. Everything lives in temporary folders; no timing is asserted.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.learning import main, parser
from nlu_models.artifact import Artifact
from nlu_models.bitext import SOURCE
from nlu_models.config import ClassifierSettings
from nlu_models.data import read_nlu_dir
from nlu_models.training import ensure_trained
from tests.benchmarks.help import assert_help_explains_every_option
from tests.learning.conftest import write_domain
from tests.learning.test_retrain import small_settings

# Two epochs: a weak current adapter, so the pool surely has misread messages.
WEAK_EPOCHS = 2

INTENTS = ("cancel_order", "check_refund_policy", "get_refund", "track_refund")
IN_DATA, IN_CSV = 10, 6  # distinct Bitext texts per intent: the shop's data, then the CSV
TINY = ["--test-size", "6", "--corrections", "3", "--epochs", "2"]


@dataclass(frozen=True)
class TinyShop:
    settings: ClassifierSettings
    csv: Path
    domain: Path
    adapter: Artifact

    def args(self, out: Path, *more: str) -> list[str]:
        return ["--csv", str(self.csv), "--domain", str(self.domain), "--out", str(out), *more]


def bitext_rows() -> dict[str, list[dict[str, str]]]:
    """The first IN_DATA + IN_CSV rows of distinct (lower-cased) text of each intent."""
    rows: dict[str, list[dict[str, str]]] = {intent: [] for intent in INTENTS}
    seen: set[str] = set()
    with SOURCE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            key = " ".join(row["instruction"].split()).lower()
            chosen = rows.get(row["intent"])
            if chosen is not None and len(chosen) < IN_DATA + IN_CSV and key not in seen:
                seen.add(key)
                chosen.append(row)
    return rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyShop:
    root = tmp_path_factory.mktemp("learning-bench")
    rows = bitext_rows()
    data = root / "data"
    data.mkdir()
    lines = ['version: "3.1"', "nlu:"]
    for intent in INTENTS:
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {' '.join(r['instruction'].split())}" for r in rows[intent][:IN_DATA]]
    (data / "nlu.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    domain = root / "domain.yml"
    write_domain(domain, INTENTS)

    with SOURCE.open(encoding="utf-8", newline="") as handle:
        columns = csv.DictReader(handle).fieldnames
    assert columns is not None
    written = [row for intent in INTENTS for row in rows[intent][IN_DATA:]]
    known = dict(rows["get_refund"][0])  # a text the data has, in other capitals
    known["instruction"] = known["instruction"].upper()
    again = dict(rows["cancel_order"][IN_DATA])  # the same text and intent twice
    other = dict(again, intent="review", instruction="I want to leave a review")
    both = [dict(again, instruction="money back or cancel?", intent=i) for i in INTENTS[:2]]
    table = root / "bitext.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows([*written, known, again, other, *both])

    settings = small_settings(data, root / "models", epochs=WEAK_EPOCHS)
    assert ensure_trained(settings, "intent", read_nlu_dir(data), progress=False).trained
    adapter = Artifact.read(settings.model_dir("intent"))
    assert adapter is not None
    return TinyShop(settings, table, domain, adapter)


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_a_tiny_run_writes_both_files_with_the_right_counts(
    tiny: TinyShop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    assert main([*tiny.args(out, *TINY), "--quiet", "--note", "tiny"], tiny.settings) == 0

    result = json.loads((out / "learning.json").read_text(encoding="utf-8"))
    assert {
        "measured_at", "command", "machine", "settings", "data", "corrections", "export",
        "scores", "training", "decision", "wall_seconds", "peak_rss_mib", "notes",
    } <= set(result)  # fmt: skip
    assert result["command"].startswith("python -m benchmarks.learning --csv")
    assert "--note" not in result["command"] and result["notes"] == ["tiny"]
    data = result["data"]
    assert data["own_examples"] == 4 * IN_DATA and data["own_intents"] == 4
    assert data["bitext"] == {
        "rows": 4 * IN_CSV + 5,
        "candidates": 4 * IN_CSV,
        "intents": 4,
        "already_in_data": 1,
        "duplicates": 1,
        "ambiguous": 2,
        "empty": 0,
        "other_intents": {"review": 1},
    }
    assert (data["test"], data["pool"], data["test_intents"]) == (6, 4 * IN_CSV - 6, 4)
    assert data["replaced_corrections_file"] is False

    fixes = result["corrections"]
    assert fixes["wanted"] == fixes["selected"] == 3
    assert len(fixes["messages"]) == 3
    assert sum(count for _, _, count in fixes["pairs"]) == 3
    assert all(m["correct"] != m["predicted"] for m in fixes["messages"])
    assert 3 <= fixes["pool_read"] <= data["pool"]
    export = result["export"]
    assert (export["read"], export["accepted"], export["refused"]) == (3, 3, False)

    scores = result["scores"]
    assert scores["validation_examples"] == 8  # a quarter of the shop's 40
    assert scores["corrections"] == 3 and scores["test_examples"] == 6
    assert scores["training_examples"] == {"before": 32, "after": 35}
    for name in (
        "validation_accuracy", "validation_macro_f1", "corrections_accuracy", "test_accuracy",
        "test_macro_f1", "test_accuracy_corrected_intents",
    ):  # fmt: skip
        assert set(scores[name]) == {"before", "after"}
        assert all(0.0 <= value <= 1.0 for value in scores[name].values()), name
    assert scores["test_fixed"] + scores["test_broken"] <= 6
    assert result["training"]["max_epochs"] == result["training"]["epochs_run"] == 2
    assert result["training"]["seconds"] > 0
    assert result["decision"]["max_drop"] == 0.01
    assert isinstance(result["decision"]["would_promote"], bool)

    markdown = (out / "learning.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Learning loop")
    assert "| unseen test accuracy (6) |" in markdown
    assert "| training examples | 32 | 35 | +3 |" in markdown
    assert "- tiny" in markdown
    shown = capsys.readouterr().out
    assert "== the current adapter reads the pool" in shown  # progress while it works
    assert "wrote" in shown

    # The shop's own data and adapter were only read: the loop ran on a copy.
    assert not (tiny.settings.intent_data / "nlu_corrections.yml").exists()
    assert Artifact.read(tiny.settings.model_dir("intent")) == tiny.adapter
    assert sorted(p.name for p in tiny.settings.model_root.iterdir()) == ["intent"]


def test_without_an_adapter_it_refuses_politely(
    tiny: TinyShop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = small_settings(tiny.settings.intent_data, tmp_path / "no-models", epochs=WEAK_EPOCHS)
    out = tmp_path / "results"
    assert main(tiny.args(out, *TINY), settings) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert error.endswith("run `python -m launcher prepare` first")
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--test-size", "0"], "'0' is not a whole number above 0"),
        (["--corrections", "many"], "'many' is not a whole number above 0"),
        (["--max-drop", "2"], "'2' is not a number from 0 to 1"),
        (["--test-size", str(4 * IN_CSV)], "leaves no corrections pool"),
        (["--csv", "no-such.csv"], "no-such.csv: no such file"),
        (["--domain", "no-domain.yml"], "no Rasa domain there"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    tiny: TinyShop,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    says: str,
) -> None:
    out = tmp_path / "results"
    try:  # argparse's checks exit, the benchmark's own return
        status: int | str | None = main(tiny.args(out, *arguments), tiny.settings)
    except SystemExit as exited:
        status = exited.code
    assert status == 2
    error = capsys.readouterr().err.strip()
    assert says in error and "\n" not in error
    assert not out.exists()


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert_help_explains_every_option(main, parser, capsys)
