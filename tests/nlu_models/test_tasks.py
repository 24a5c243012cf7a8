"""The intent task's fixed validation split: corrections never move it, and always train."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nlu_models.config import ClassifierSettings, TrainingSettings
from nlu_models.data import Example, data_hash, read_nlu_dir, stratified_split
from nlu_models.tasks import CORRECTIONS_FILE, intent_split, read_intent_data
from nlu_models.training import split_examples, split_hash
from tests.nlu_models.conftest import SMALL_NLU

CORRECTIONS = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - yo
      - hello
  - intent: track_order
    examples: |
      - any news on my parcel
      - is my stuff on the way
"""


def settings_for(tmp_path: Path) -> ClassifierSettings:
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(SMALL_NLU, encoding="utf-8")
    return ClassifierSettings(
        intent_data=data,
        model_root=tmp_path / "models",
        training=TrainingSettings(validation_fraction=0.25, seed=13),
    )


def test_without_corrections_the_split_and_hash_are_as_before(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    examples = read_nlu_dir(settings.intent_data)
    train, validation = intent_split(settings, examples)
    assert (train, validation) == stratified_split(examples, 0.25, 13)
    assert len(validation) == 8  # 2 of each intent's 8
    # Adapters trained before the fixed split existed stay current.
    assert split_hash(settings, train, validation) == data_hash(examples, settings.fingerprint())


def test_corrections_do_not_move_the_validation_set_and_always_train(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    _, validation_before = intent_split(settings, read_nlu_dir(settings.intent_data))
    hash_before = split_hash(settings, *intent_split(settings, read_nlu_dir(settings.intent_data)))

    (settings.intent_data / CORRECTIONS_FILE).write_text(CORRECTIONS, encoding="utf-8")
    examples = read_nlu_dir(settings.intent_data)
    train, validation = intent_split(settings, examples)

    assert validation == validation_before
    corrections = [
        Example("yo", "greet"),
        Example("any news on my parcel", "track_order"),
        Example("is my stuff on the way", "track_order"),
    ]
    assert all(c in train for c in corrections)
    # "hello" is also in the shop's own nlu.yml: it stays an own example, not a correction.
    data = read_intent_data(settings.intent_data)
    assert set(data.corrections) == set(corrections)
    assert len(train) + len(validation) == len(examples) == 35
    # The same rule whatever the path: `train`/`ensure` (split_examples) and the learning loop.
    assert split_examples(settings, "intent", examples) == (train, validation)
    assert split_hash(settings, train, validation) != hash_before


def test_moving_an_example_into_the_corrections_changes_the_hash(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    data = settings.intent_data
    (data / CORRECTIONS_FILE).write_text(CORRECTIONS, encoding="utf-8")
    split = intent_split(settings, read_nlu_dir(data))
    # The same examples in all, but one own example now comes from the corrections file.
    moved = (data / "nlu.yml").read_text(encoding="utf-8").replace("      - hiya\n", "")
    (data / "nlu.yml").write_text(moved, encoding="utf-8")
    (data / CORRECTIONS_FILE).write_text(
        CORRECTIONS.replace("      - yo\n", "      - yo\n      - hiya\n"), encoding="utf-8"
    )
    moved_split = intent_split(settings, read_nlu_dir(data))
    assert sorted(map(repr, split[0] + split[1])) == sorted(
        map(repr, moved_split[0] + moved_split[1])
    )
    assert split_hash(settings, *split) != split_hash(settings, *moved_split)


def test_other_tasks_and_given_validation_sets_are_left_alone(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    (settings.intent_data / CORRECTIONS_FILE).write_text(CORRECTIONS, encoding="utf-8")
    examples = read_nlu_dir(settings.intent_data)
    assert split_examples(settings, "category", examples) == stratified_split(examples, 0.25, 13)
    given = [Example("hey", "greet")]
    assert split_examples(settings, "intent", examples, given) == (examples, given)
    none = replace(settings, training=replace(settings.training, validation_fraction=0.0))
    train, validation = intent_split(none, examples)
    assert validation == [] and sorted(map(repr, train)) == sorted(map(repr, examples))
