from pathlib import Path

from nlu_models.data import (
    Example,
    data_hash,
    read_nlu_dir,
    stratified_split,
    strip_annotations,
)


def test_annotations_are_stripped() -> None:
    assert strip_annotations("track [000000001](order_number) now") == "track 000000001 now"
    assert strip_annotations('[red]{"entity": "color"} tee') == "red tee"


def test_reads_intents_and_skips_other_blocks(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n      - Hi\n'
        "  - regex: order_number\n    examples: |\n      - \\d+\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text(
        "nlu:\n  - intent: greet\n    examples: |\n      - hello\n", encoding="utf-8"
    )
    assert read_nlu_dir(tmp_path) == [Example("hi", "greet"), Example("hello", "greet")]


def test_hash_follows_data_and_settings() -> None:
    examples = [Example("hi", "greet"), Example("bye", "goodbye")]
    assert data_hash(examples, {"a": 1}) == data_hash(list(reversed(examples)), {"a": 1})
    assert data_hash(examples, {"a": 1}) != data_hash(examples, {"a": 2})
    assert data_hash(examples, {"a": 1}) != data_hash(examples[:1], {"a": 1})


def test_split_is_seeded_and_keeps_every_intent() -> None:
    examples = [Example(f"text {i}", "many") for i in range(20)] + [Example("only", "single")]
    train, held = stratified_split(examples, 0.25, seed=3)
    assert (train, held) == stratified_split(examples, 0.25, seed=3)
    assert len(held) == 5 and {e.label for e in train} == {"many", "single"}


def test_project_training_data_is_readable(project_root: Path) -> None:
    examples = read_nlu_dir(project_root / "bot" / "data")
    intents = {e.label for e in examples}
    assert {"greet", "goodbye", "search_product", "track_order", "out_of_scope"} <= intents
    assert not [e for e in examples if "](" in e.text]


def test_csv_with_text_and_label_columns(tmp_path: Path) -> None:
    from nlu_models.data import read_examples

    path = tmp_path / "data.csv"
    path.write_text('text,label,source\nhi,greet,x\n"hello, you",greet,y\nHi,greet,z\n,greet,\n')
    assert read_examples(path) == [Example("hi", "greet"), Example("hello, you", "greet")]


def test_unreadable_data_is_refused_with_the_reason(tmp_path: Path) -> None:
    import pytest

    from nlu_models.data import DataError, read_examples

    (tmp_path / "bad.yml").write_text("nlu: [\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid YAML"):
        read_examples(tmp_path / "bad.yml")
    (tmp_path / "notes.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(DataError, match="expected a folder"):
        read_examples(tmp_path / "notes.txt")
