"""The data checks find what was planted, pass clean data, and stop training before any model."""

import json
import logging
from pathlib import Path

import pytest

from nlu_models.cli import main
from nlu_models.config import ClassifierSettings, DataCheckSettings, TrainingSettings
from nlu_models.data import Example
from nlu_models.data_checks import (
    CHECK_DATA_HINT,
    DataCheckError,
    check_examples,
    normalise,
    refuse_broken_data,
)
from nlu_models.settings import NluSettings

# Four intents a bag of words separates easily: every intent its own words.
CLUSTERS = {
    "track_order": [
        f"where is my {thing} {when}"
        for thing in ("order", "parcel", "package", "delivery")
        for when in ("now", "today", "already", "please")
    ],
    "search_product": [
        f"show me {colour} {item}"
        for colour in ("red", "blue", "green", "black")
        for item in ("jackets", "hoodies", "shorts", "tees")
    ],
    "greet": [
        f"{word} {who}"
        for word in ("hello", "hi", "hey", "good morning")
        for who in ("there", "friend", "bot", "everyone")
    ],
    "newsletter_subscription": [
        f"{verb} me {how} the newsletter"
        for verb in ("subscribe", "sign", "add", "enrol")
        for how in ("to", "up to", "onto", "for")
    ],
}


def clean_examples() -> list[Example]:
    return [Example(text, label) for label, texts in CLUSTERS.items() for text in texts]


def kinds(examples: list[Example], **settings: int) -> dict[str, int]:
    return check_examples(examples, DataCheckSettings(**settings)).counts


BROKEN_NLU = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hi
      - hello
      - hey there
      - good morning
      - Where is my order
  - intent: track_order
    examples: |
      - where  is my ORDER
      - has my parcel shipped
      - track my package
"""


def test_clean_data_has_no_errors_and_no_near_duplicates() -> None:
    report = check_examples(clean_examples())
    assert report.errors == []
    assert report.counts["near_duplicate"] == 0
    assert report.examples == 64 and report.intents == 4
    assert report.to_text().splitlines()[-1].startswith("Summary: 64 examples, 4 intents: 0 error")


def test_same_text_under_two_intents_is_an_error() -> None:
    """Case, width (NFKC) and spacing do not make a text different."""
    assert normalise("  Ｗhere   is MY order ") == "where is my order"
    examples = [*clean_examples(), Example("ＨＥＬＬＯ  there", "track_order")]
    report = check_examples(examples)
    [error] = report.errors
    assert error.kind == "conflicting_duplicate" and error.severity == "error"
    assert error.intents == ("greet", "track_order")
    assert any("hello there" in text for text in error.texts)


def test_an_intent_with_too_few_examples_is_an_error() -> None:
    examples = [*clean_examples(), Example("bye", "goodbye"), Example("see you", "goodbye")]
    report = check_examples(examples)
    [error] = report.errors
    assert (error.kind, error.intents) == ("too_few_examples", ("goodbye",))
    assert "2 example(s), fewer than the minimum of 5" in error.explanation
    assert kinds(examples, min_examples=2)["too_few_examples"] == 0


def test_one_intent_alone_is_an_error() -> None:
    report = check_examples([Example(text, "greet") for text in CLUSTERS["greet"]])
    assert [e.kind for e in report.errors] == ["too_few_intents"]


def test_near_duplicates_under_different_intents_are_warnings() -> None:
    examples = [*clean_examples(), Example("where is my order now!", "greet")]
    report = check_examples(examples)
    near = [f for f in report.warnings if f.kind == "near_duplicate"]
    assert near and report.errors == []
    assert set(near[0].intents) == {"greet", "track_order"}
    assert "where is my order now!" in near[0].texts and near[0].similarity is not None
    assert near[0].similarity >= 0.9


def test_a_planted_mislabel_is_found_with_the_right_suggestion() -> None:
    examples = clean_examples()
    examples[3] = Example(examples[3].text, "search_product")  # a track_order text
    report = check_examples(examples)
    flagged = [f for f in report.warnings if f.kind == "likely_mislabelled"]
    assert flagged and flagged[0].texts == (examples[3].text,)
    assert flagged[0].intents == ("search_product", "track_order")
    assert flagged[0].suggested_intent == "track_order"
    assert flagged[0].probability is not None and flagged[0].given_probability is not None
    assert flagged[0].probability > flagged[0].given_probability


def test_listed_warnings_are_capped_but_all_counted() -> None:
    examples = [
        *clean_examples(),
        Example("where is my order now!", "greet"),
        Example("show me red jackets!", "greet"),
        Example("hello there!", "search_product"),
    ]
    report = check_examples(examples, DataCheckSettings(max_listed=1))
    assert report.counts["near_duplicate"] >= 3
    assert len([f for f in report.warnings if f.kind == "near_duplicate"]) == 1
    assert "more near_duplicate finding(s) not listed" in report.to_text()
    data = json.loads(json.dumps(report.to_dict()))
    assert data["warnings"] == report.count("warning") >= 3 and data["errors"] == 0


def test_report_lists_errors_before_warnings() -> None:
    examples = [
        *clean_examples(),
        Example("where is my order now!", "greet"),
        Example("Hello there", "newsletter_subscription"),
    ]
    text = check_examples(examples).to_text()
    assert text.index("ERROR conflicting_duplicate") < text.index("WARNING near_duplicate")


def test_refusal_lists_errors_and_warnings_get_a_one_line_summary(caplog) -> None:
    with pytest.raises(DataCheckError, match="training refused") as refused:
        refuse_broken_data([*clean_examples(), Example("hello there", "track_order")])
    assert "conflicting_duplicate [greet, track_order]" in str(refused.value)
    with caplog.at_level(logging.WARNING, logger="nlu_models.data_checks"):
        refuse_broken_data([*clean_examples(), Example("where is my order now!", "greet")])
    assert "near duplicate" in caplog.text and CHECK_DATA_HINT in caplog.text


def test_minimum_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_MIN_EXAMPLES", "12")
    assert NluSettings.from_env().data_checks().min_examples == 12
    monkeypatch.setenv("SHOPDESK_NLU_MIN_EXAMPLES", "none")
    with pytest.raises(ValueError, match="SHOPDESK_NLU_MIN_EXAMPLES"):
        NluSettings.from_env().data_checks()


@pytest.fixture
def broken_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(BROKEN_NLU, encoding="utf-8")
    return data


def test_check_data_exits_1_on_errors_and_writes_json(broken_dir, tmp_path, capsys) -> None:
    out = tmp_path / "report" / "checks.json"
    assert main(["check-data", "--data-dir", str(broken_dir), "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "ERROR conflicting_duplicate [greet, track_order]" in printed
    assert "ERROR too_few_examples [track_order]" in printed
    assert printed.rstrip().splitlines()[-1].startswith("Summary: 8 examples, 2 intents: 2 error")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["errors"] == 2 and {f["kind"] for f in report["findings"]} >= {
        "conflicting_duplicate",
        "too_few_examples",
    }


def test_check_data_passes_the_projects_own_data(project_root, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_DATA_DIR", str(project_root / "bot" / "data"))
    assert main(["check-data"]) == 0
    summary = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert " intents: 0 error(s)" in summary


def test_check_data_help(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check-data", "--help"])
    assert exit_.value.code == 0
    assert "Exits 1 when there are errors" in capsys.readouterr().out


@pytest.fixture
def no_model(monkeypatch) -> None:
    """Loading the tokenizer or the base model fails the test: the refusal must come first."""

    def loaded(*_: object, **__: object) -> None:
        raise AssertionError("a model was loaded for broken data")

    monkeypatch.setattr("nlu_models.training.load_tokenizer", loaded)
    monkeypatch.setattr("nlu_models.training.load_encoder", loaded)


@pytest.mark.parametrize("command", [["train"], ["ensure", "--task", "intent"]])
def test_training_refuses_broken_data_before_loading_a_model(
    command, no_model, broken_dir, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_DATA_DIR", str(broken_dir))
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(tmp_path / "models"))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "training refused" in err and "Traceback" not in err
    assert "conflicting_duplicate [greet, track_order]" in err
    assert "too_few_examples [track_order]" in err
    assert not (tmp_path / "models" / "intent").exists()


def test_ensure_trained_refuses_broken_data(no_model, tmp_path) -> None:
    from nlu_models.training import ensure_trained

    settings = ClassifierSettings(
        model_root=tmp_path / "models", training=TrainingSettings(max_epochs=1)
    )
    with pytest.raises(DataCheckError):
        ensure_trained(settings, "intent", [Example("hi", "greet"), Example("hi", "goodbye")])
