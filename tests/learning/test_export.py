"""`python -m learning export`: what each kind of correction becomes, byte for byte."""

from __future__ import annotations

import pytest

from learning.corrections import CORRECTIONS_HEADER, export
from nlu_models.data import Example, read_nlu_dir, read_nlu_file
from nlu_models.data_checks import check_examples
from tests.learning.conftest import SMALL_INTENTS, AddCorrections, Shop, write_domain

CORRECTIONS = [
    ("where's my parcel??", "track_order"),
    ("Where's   my parcel??", "track_order"),  # the same once case and spaces are ignored
    ("yo", "greet"),
    ("YO", "greet"),
    ("cancel it", "out_of_scope"),  # two agents, two intents: both held back
    ("Cancel it", "search_product"),
    ("hello", "out_of_scope"),  # nlu.yml has it as greet
    ("hi", "greet"),  # nlu.yml has it already
    ("my email is jane.doe@example.com, where is my order", "track_order"),
    ("what time do you open", "store_hours"),  # not in the domain
    ("/rate_conversation", "greet"),  # a button's payload, never typed
    ("thanks, 5 stars", "rate_conversation"),  # an intent only buttons send
]

EXPECTED_YAML = (
    CORRECTIONS_HEADER
    + """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - YO
  - intent: track_order
    examples: |
      - my email is <EMAIL>, where is my order
      - Where's my parcel??
"""
)


def test_export_writes_the_accepted_corrections_and_reports_the_rest(
    shop: Shop, add_corrections: AddCorrections
) -> None:
    add_corrections(CORRECTIONS)
    result = export(shop.url, shop.paths, root=shop.root)

    assert shop.paths.corrections.read_text(encoding="utf-8") == EXPECTED_YAML
    assert read_nlu_file(shop.paths.corrections) == [
        Example("YO", "greet"),
        Example("my email is <EMAIL>, where is my order", "track_order"),
        Example("Where's my parcel??", "track_order"),
    ]
    assert result.read == 12
    assert result.duplicates == 2
    assert result.known == 1
    assert result.redacted == 1
    assert [c.describe() for c in result.conflicts] == [
        "'Cancel it': corrected to out_of_scope (1x) and search_product (1x)",
        "'hello': corrected to out_of_scope (1x), but data/nlu.yml has it as greet",
    ]
    assert result.new_intents == {"store_hours": ["what time do you open"]}
    assert [(h.text, h.reason) for h in result.held_back] == [
        ("/rate_conversation", "a button payload, not a typed message"),
        ("thanks, 5 stars", "an intent sent by buttons or by ShopDesk, never typed"),
    ]
    new_intents = shop.paths.new_intents.read_text(encoding="utf-8")
    assert "list it under\n# `intents:` in bot/domain.yml" in new_intents
    assert new_intents.endswith(
        'version: "3.1"\nnlu:\n  - intent: store_hours\n    examples: |\n'
        "      - what time do you open\n"
    )
    assert result.check is not None and not result.check.errors
    assert not result.refused

    summary = result.to_text(shop.root)
    for line in (
        "learning: 12 correction(s) read from the shop database",
        "  accepted: 3 (data/nlu_corrections.yml)",
        "  duplicates: 2 (the same text and intent again)",
        "  already known: 1 (the training data has them already)",
        "  redacted again: 1 (personal data replaced)",
        "  conflicts: 2 text(s), 3 held back",
        "    - 'hello': corrected to out_of_scope (1x), but data/nlu.yml has it as greet",
        "  new intents: 1 correction(s) held back (var/learning/new_intents.yml)",
        "    - store_hours: 1 example(s); add it to bot/domain.yml `intents:` with a rule "
        "that answers it, then export again",
        "  held back: 2",
        "  data check: OK: 35 examples, 4 intents: 0 error(s)",
    ):
        assert line in summary
    # What training now reads: the shop's 32 examples and the 3 corrections, no errors.
    examples = read_nlu_dir(shop.data_dir)
    assert len(examples) == 35
    assert not check_examples(examples).errors


def test_export_is_regenerated_whole_and_stable(
    shop: Shop, add_corrections: AddCorrections
) -> None:
    shop.paths.corrections.write_text("stale: left by hand\n", encoding="utf-8")
    add_corrections(CORRECTIONS)
    export(shop.url, shop.paths, root=shop.root)
    first = shop.paths.corrections.read_text(encoding="utf-8")
    export(shop.url, shop.paths, root=shop.root)
    assert shop.paths.corrections.read_text(encoding="utf-8") == first == EXPECTED_YAML


def test_nothing_accepted_leaves_no_file(shop: Shop, add_corrections: AddCorrections) -> None:
    shop.paths.corrections.write_text(EXPECTED_YAML, encoding="utf-8")
    shop.paths.new_intents.parent.mkdir(parents=True)
    shop.paths.new_intents.write_text("old", encoding="utf-8")
    add_corrections([("hi", "greet")])
    result = export(shop.url, shop.paths, root=shop.root)
    assert result.known == 1 and not result.accepted
    assert not shop.paths.corrections.exists()
    assert not shop.paths.new_intents.exists()
    assert "accepted: 0 (no file: nothing to write)" in result.to_text(shop.root)


def test_a_new_intent_joins_once_the_domain_lists_it_with_enough_examples(
    shop: Shop, add_corrections: AddCorrections
) -> None:
    hours = ["when are you open", "what are your opening hours", "are you open on sunday"]
    add_corrections([(text, "store_hours") for text in hours])
    write_domain(shop.paths.domain, [*SMALL_INTENTS, "store_hours"])
    result = export(shop.url, shop.paths, root=shop.root)
    # In the domain now, but 3 examples would be too few for training (minimum 5).
    assert not result.accepted and not result.new_intents
    assert [h.reason for h in result.held_back] == [
        "store_hours would have 3 example(s), fewer than the 5 training needs; more "
        "corrections or examples first"
    ] * 3
    assert result.check is not None and not result.check.errors

    add_corrections([("opening times?", "store_hours"), ("when do you close today", "store_hours")])
    result = export(shop.url, shop.paths, root=shop.root)
    assert [e.text for e in result.accepted] == [
        "are you open on sunday",
        "opening times?",
        "what are your opening hours",
        "when are you open",
        "when do you close today",
    ]
    assert not result.held_back
    assert {e.label for e in read_nlu_dir(shop.data_dir)} == {*SMALL_INTENTS, "store_hours"}


def test_data_that_training_would_refuse_is_not_written(
    shop: Shop, add_corrections: AddCorrections
) -> None:
    # The shop's own data has an intent with two examples: check-data refuses it.
    (shop.data_dir / "tiny.yml").write_text(
        "nlu:\n  - intent: deny\n    examples: |\n      - no\n      - nope\n", encoding="utf-8"
    )
    write_domain(shop.paths.domain, [*SMALL_INTENTS, "deny"])
    add_corrections([("yo", "greet")])
    result = export(shop.url, shop.paths, root=shop.root)
    assert result.refused
    assert not shop.paths.corrections.exists()
    summary = result.to_text(shop.root)
    assert "REFUSED: the data would have errors; nothing was written" in summary
    assert "too_few_examples [deny]" in summary


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        ("   ", "track_order", "empty once redacted"),
        (
            "track [000000101](order_number)",
            "track_order",
            "Rasa would read part of it as an entity annotation",
        ),
        (
            "when do you open",
            "store hours: new",
            "not an intent name (letters, digits, _ and - only)",
        ),
    ],
)
def test_texts_that_cannot_be_examples_are_held_back(
    shop: Shop, add_corrections: AddCorrections, text: str, intent: str, reason: str
) -> None:
    add_corrections([(text, intent)])
    result = export(shop.url, shop.paths, root=shop.root)
    assert [h.reason for h in result.held_back] == [reason]
    assert not shop.paths.corrections.exists() and not shop.paths.new_intents.exists()
