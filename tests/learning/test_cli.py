"""`python -m learning`: help, polite errors, and each command end to end."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from catalog.db import session_scope
from catalog.models import NluCorrection
from launcher.stories.parse import load_stories
from learning.cli import main
from nlu_models.artifact import Artifact
from tests.learning.conftest import SMALL_INTENTS, AddCorrections, Shop, write_domain
from tests.learning.test_story_writer import OTHERS, WENT_WELL, Event
from tracker.writer import write_events

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", shop.url)
    monkeypatch.setenv("SHOPDESK_NLU_DATA_DIR", str(shop.data_dir))
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(shop.root / "models"))
    for name in ("SHOPDESK_NLU_EPOCHS", "SHOPDESK_NLU_BATCH_SIZE", "SHOPDESK_NLU_MIN_EXAMPLES"):
        monkeypatch.delenv(name, raising=False)
    return shop


def paths(shop: Shop) -> list[str]:
    return ["--domain", str(shop.paths.domain), "--new-intents", str(shop.paths.new_intents)]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["export", "retrain", "stories", "SHOPDESK_NLU_DATA_DIR"]),
        (["export"], ["nlu_corrections.yml", "--domain", "check-data"]),
        (["retrain"], ["--max-drop", "--dry-run", "--epochs", "--out", "next restart"]),
        (["stories"], ["--from", "--to", "--out", "personal data", "launcher stories"]),
    ],
)
def test_help_explains_every_command(argv: list[str], words: list[str], capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in shown


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stories", "--from", "last tuesday"], "'last tuesday' is not a date like 2026-11-28"),
        (["stories", "--to", "2027-02-30"], "'2027-02-30' is not a date"),
        (["retrain", "--max-drop", "5"], "'5' is not a number from 0 to 1"),
        (["retrain", "--epochs", "0"], "'0' is not a whole number above 0"),
        (["sing"], "invalid choice: 'sing'"),
    ],
)
def test_bad_options_get_a_polite_error(argv: list[str], message: str, capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_reversed_date_range_gets_a_polite_error(env: Shop, capsys: Capture) -> None:
    assert main(["stories", "--from", "2027-01-10", "--to", "2027-01-01"]) == 2
    assert capsys.readouterr().err == "learning: --from 2027-01-10 is after --to 2027-01-01\n"


def test_missing_domain_and_database_get_a_polite_error(
    env: Shop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
) -> None:
    assert main(["export", "--domain", str(tmp_path / "nope.yml")]) == 2
    assert "nope.yml: no Rasa domain there (set --domain)" in capsys.readouterr().err
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert main(["export", *paths(env)]) == 2
    error = capsys.readouterr().err
    assert "none.sqlite3: create it with `python -m catalog.cli load`" in error
    assert not (tmp_path / "none.sqlite3").exists()  # not created empty
    (tmp_path / "none.sqlite3").touch()  # there, but never migrated
    assert main(["export", *paths(env)]) == 2
    error = capsys.readouterr().err
    assert "the database cannot be read (OperationalError)" in error
    assert "python -m catalog.cli load" in error
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    assert main(["stories"]) == 2
    assert "tracker.sqlite3: Rasa creates it on its first start" in capsys.readouterr().err
    assert not (tmp_path / "tracker.sqlite3").exists()


def test_export_prints_the_summary(
    env: Shop, add_corrections: AddCorrections, capsys: Capture
) -> None:
    add_corrections([("yo", "greet"), ("yo", "greet"), ("what time do you open", "store_hours")])
    assert main(["export", *paths(env)]) == 0
    out = capsys.readouterr().out
    assert "learning: 3 correction(s) read from the shop database" in out
    assert "  accepted: 1 (" in out and "nlu_corrections.yml)" in out
    assert "  duplicates: 1 (the same text and intent again)" in out
    assert "    - store_hours: 1 example(s); add it to bot/domain.yml" in out
    assert env.paths.corrections.is_file() and env.paths.new_intents.is_file()


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_retrain_writes_the_report_and_says_when_the_adapter_is_used(
    env: Shop, add_corrections: AddCorrections, capsys: Capture
) -> None:
    write_domain(env.paths.domain, [*SMALL_INTENTS, "store_hours"])
    hours = [
        "when are you open",
        "opening hours?",
        "are you open on sunday",
        "what time do you close",
    ]
    add_corrections([(text, "store_hours") for text in [*hours, "what time do you open"]])
    out_dir = env.root / "report"
    argv = ["retrain", *paths(env), "--epochs", "1", "--out", str(out_dir), "--quiet"]
    assert main(argv) == 0  # no current adapter: the candidate goes in, whatever it scores
    out = capsys.readouterr().out
    assert "| accuracy on the corrections | – |" in out
    assert "**Candidate promoted:** there was no current adapter" in out
    assert "the running classifier uses it after its next restart" in out
    assert "trained with --epochs" in out
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    assert report["before"] is None and report["corrections"] == 5
    assert (out_dir / "report.md").is_file()
    assert (env.root / "models" / "intent" / "shopdesk_classifier.json").is_file()


def test_retrain_without_corrections_keeps_the_adapter_and_trains_nothing(
    env: Shop, capsys: Capture
) -> None:
    model_dir = env.root / "models" / "intent"
    model_dir.mkdir(parents=True)
    current = Artifact(
        task="intent", labels=list(SMALL_INTENTS), data_hash="current", settings={},
        examples=32, epochs_run=1, best_epoch=1, training_seconds=1.0,
    )  # fmt: skip
    current.write(model_dir)
    assert main(["retrain", *paths(env), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "accepted: 0" in captured.out
    assert "no corrections to learn from: the current adapter stays" in captured.err
    assert Artifact.read(model_dir) == current
    assert sorted(p.name for p in model_dir.iterdir()) == ["shopdesk_classifier.json"]


def make_tracker(url: str, senders: dict[str, list[Event]]) -> None:
    """Rasa's `events` table (tracker/writer.py) with these senders' events."""
    write_events(url, senders, by_time=False)


def test_stories_reads_the_tracker_store_and_writes_the_file(
    env: Shop, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    tracker = f"sqlite:///{env.root / 'tracker.sqlite3'}"
    make_tracker(tracker, {"shopper-1": WENT_WELL, **OTHERS})
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", tracker)
    with session_scope(env.url) as session:
        session.add(
            NluCorrection(
                conversation_id="corrected", message_at=0.0, text="bye", predicted_intent="goodbye",
                correct_intent="goodbye", is_new_intent=False, created_at=datetime(2027, 1, 15),
            )
        )  # fmt: skip
    day = date.fromtimestamp(WENT_WELL[0]["timestamp"]).isoformat()
    out = env.root / "stories.yml"
    assert main(["stories", "--from", day, "--to", day, "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert f"learning: 8 conversation(s) from {day} to {day}" in summary
    assert "  written: 1 test story (" in summary
    assert "  held back: personal data: 3" in summary
    assert "  an agent corrected a message in it: 1" in summary
    [story] = load_stories([out])
    assert story.steps[0].text == "hi" and story.steps[-1].name == "conversation_rating"

    # A range with no conversation writes nothing and says so.
    assert main(["stories", "--from", "2020-01-01", "--to", "2020-01-02", "--out", str(out)]) == 0
    assert "written: 0 test stories (no file written)" in capsys.readouterr().out
