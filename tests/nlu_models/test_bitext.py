"""The Bitext converter: deterministic, licensed, annotated, strict about intent names."""

import csv
import io
from pathlib import Path

import pytest
import yaml

from nlu_models import bitext
from nlu_models.data import read_nlu_file, strip_annotations

ROWS = [
    # instruction, intent, entity_type, start, end
    ("where is order 00123842?", "track_order", "order_id", "15", "23"),
    ("track purchase 370795561790 please", "track_order", "order_id", "15", "27"),
    ("Track purchase 370795561790 please", "track_order", "order_id", "15", "27"),  # dup
    ("status of order", "track_order", "", "", ""),
    ("cancel order 732201349959", "cancel_order", "order_id", "13", "25"),
    ("I want to cancel my order", "cancel_order", "", "", ""),
    ("can I cancel it?", "cancel_order", "", "", ""),
    ("cancelling order732201349959", "cancel_order", "order_id", "16", "28"),  # glued: a typo
    ("invoice #85632", "get_invoice", "invoice_id", "8", "14"),
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "bitext.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["instruction", "intent", "entity_type", "entity_value", "start_offset", "end_offset"]
        )
        for text, intent, kind, start, end in ROWS:
            writer.writerow([text, intent, kind, text[int(start) : int(end)] if start else "",
                             start, end])  # fmt: skip
    return path


def test_default_converts_all_27_bitext_intents() -> None:
    assert len(bitext.DEFAULT_INTENTS) == 27 == len(set(bitext.DEFAULT_INTENTS))
    with bitext.SOURCE.open(newline="", encoding="utf-8") as handle:
        assert {row["intent"] for row in csv.DictReader(handle)} == set(bitext.DEFAULT_INTENTS)


def test_conversion_is_deterministic_and_seeded(source: Path) -> None:
    intents = ["track_order", "cancel_order"]
    first = bitext.convert(intents, 2, seed=1, source=source)
    assert first == bitext.convert(intents, 2, seed=1, source=source)
    others = {bitext.convert(intents, 2, seed=s, source=source) for s in range(2, 12)}
    assert len(others | {first}) > 1


def test_output_keeps_the_licence_header_and_is_rasa_yaml(source: Path, tmp_path: Path) -> None:
    text = bitext.convert(["track_order", "cancel_order"], 2, seed=1, source=source)
    assert text.startswith(bitext.HEADER)
    assert "CDLA-Sharing-1.0" in text and "nlu_models/data/bitext/LICENSE" in text
    assert (Path(bitext.__file__).parent / "data/bitext/LICENSE_CDLA-Sharing-1.0.txt").is_file()
    document = yaml.safe_load(text)
    assert document["version"] == "3.1"
    assert [block["intent"] for block in document["nlu"]] == ["track_order", "cancel_order"]
    (tmp_path / "out.yml").write_text(text, encoding="utf-8")
    assert len(read_nlu_file(tmp_path / "out.yml")) == 4


def test_order_ids_are_annotated_and_duplicates_dropped(source: Path) -> None:
    text = bitext.convert(["track_order"], 10, seed=1, source=source)
    assert "      - where is order [00123842](order_number)?\n" in text
    assert text.lower().count("purchase [370795561790](order_number) please") == 1
    assert "      - status of order\n" in text
    cancel = bitext.convert(["cancel_order"], 10, seed=1, source=source)
    assert "[732201349959](order_number)" in cancel
    assert "      - cancelling order732201349959\n" in cancel  # the service would not find it
    invoice = bitext.convert(["get_invoice"], 10, seed=1, source=source)
    assert "(order_number)" not in invoice and "invoice #85632" in invoice


def test_unknown_intents_and_bad_counts_are_refused(source: Path, capsys) -> None:
    with pytest.raises(ValueError, match="unknown intent"):
        bitext.convert(["track_order", "where_is_my_llama"], 5, seed=1, source=source)
    with pytest.raises(ValueError, match="not in the Bitext data"):
        bitext.convert(["track_order", "review"], 5, seed=1, source=source)
    with pytest.raises(ValueError, match="at least 1"):
        bitext.convert(["track_order"], 0, seed=1, source=source)
    assert bitext.main(["--intents", "inform_order_number", "--output", "/dev/null"]) == 2
    assert "unknown intent(s): inform_order_number" in capsys.readouterr().err


def test_held_out_csv_is_exactly_what_was_left_out(source: Path) -> None:
    intents = ["track_order", "cancel_order"]
    chosen, rest = bitext.split(intents, 2, seed=1, source=source)
    rows = list(csv.DictReader(io.StringIO(bitext.held_out_csv(intents, 2, 1, source))))
    assert [(r["label"], r["text"]) for r in rows] == [
        (intent, strip_annotations(text)) for intent in intents for text in rest[intent]
    ]
    for intent in intents:
        assert len(chosen[intent]) == 2 and not set(chosen[intent]) & set(rest[intent])
    # 3 distinct track_order texts and 4 cancel_order texts, 2 of each chosen
    assert len(rows) == 1 + 2


def test_the_generated_file_is_current(project_root: Path) -> None:
    """bot/data/nlu_bitext.yml is what `python -m nlu_models.bitext` writes today."""
    expected = bitext.convert(
        list(bitext.DEFAULT_INTENTS), bitext.DEFAULT_PER_INTENT, bitext.DEFAULT_SEED
    )
    generated = (project_root / "bot" / "data" / "nlu_bitext.yml").read_text(encoding="utf-8")
    assert generated == expected, "rerun `python -m nlu_models.bitext`"
