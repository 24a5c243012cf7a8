"""The labelled shopper messages (benchmarks/shoppers.yml): well formed, big enough, labelled
against the real catalog, and none of them training data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.relevance import catalog_facts, matches
from benchmarks.shopper_set import (
    GROUP_MINIMUMS,
    MIN_MESSAGES,
    NEW_INTENTS,
    ShopperSetError,
    domain_intents,
    load_messages,
    normalise,
    overlaps,
    shortfalls,
    training_texts,
)
from catalog.db import session_scope


def test_the_set_is_well_formed_and_big_enough() -> None:
    messages = load_messages()  # every item checked: groups, intents, keys, flags
    assert len(messages) >= MIN_MESSAGES
    counts = Counter(m.group for m in messages)
    assert set(counts) == set(GROUP_MINIMUMS)
    for group, least in GROUP_MINIMUMS.items():
        assert counts[group] >= least, group
    assert shortfalls(messages) == []


def test_every_intent_is_the_domains_or_one_issue_18_adds() -> None:
    known = domain_intents() | NEW_INTENTS
    assert {m.intent for m in load_messages()} <= known
    assert "search_product" in domain_intents()


def test_no_message_is_a_training_example() -> None:
    found = overlaps(load_messages())
    assert found == [], "\n".join(f"{o.message!r} ({o.group}) is in {o.source}" for o in found)


def test_every_search_is_labelled_against_the_catalog(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        products = catalog_facts(session)
    wrong = []
    for message in load_messages():
        if message.constraints:
            fitting = [p.sku for p in products if matches(p, message.constraints)]
            if bool(fitting) == message.nothing_fits:
                wrong.append(
                    f"{message.text!r}: {len(fitting)} fit, nothing_fits={message.nothing_fits}"
                )
        if message.fits:
            both = {**message.constraints, **message.fits}
            if not any(matches(p, both) for p in products):
                wrong.append(f"{message.text!r}: nothing meets its `fits`")
    assert not wrong, "\n".join(wrong)


def test_normalising_ignores_case_punctuation_and_spacing() -> None:
    assert normalise("What's the  CHEAPEST jacket?!") == "whats the cheapest jacket"
    assert normalise("t-shirt, mens") == normalise("T shirt mens")
    assert normalise("hoodie") != normalise("hoodies")


def test_overlap_is_found_through_entity_annotations(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: search_product\n  examples: |\n'
        "    - do you have a [black](color) hoodie\n"
        '    - [red]{"entity": "color"} tees please\n',
        encoding="utf-8",
    )
    messages_file = tmp_path / "set.yml"
    messages_file.write_text(
        '- {text: "Do you have a black hoodie?", group: bare_noun, intent: search_product}\n'
        '- {text: "red tees please", group: follow_up, intent: refine_search,'
        ' context: ["RED tees, please"]}\n'
        '- {text: "green tees", group: bare_noun, intent: search_product}\n',
        encoding="utf-8",
    )
    messages = load_messages(messages_file)
    training = training_texts(data)
    found = [(o.message, o.source) for o in overlaps(messages, training)]
    assert found == [
        ("Do you have a black hoodie?", "intent examples"),
        ("RED tees, please", "intent examples"),
        ("red tees please", "intent examples"),
    ]


@pytest.mark.parametrize(
    ("item", "complaint"),
    [
        ('{text: "hoodie", group: nouns, intent: search_product}', "`group`"),
        ('{text: "hoodie", group: bare_noun, intent: buy_now}', "not an intent"),
        ('{text: "", group: bare_noun, intent: search_product}', "needs a `text`"),
        (
            '{text: "hoodie", group: bare_noun, intent: search_product,'
            " constraints: {colour: red}}",
            "unknown `constraints` keys colour",
        ),
        ('{text: "hoodie", group: bare_noun, intent: search_product, note: x}', "unknown keys"),
        (
            '{text: "in red", group: bare_noun, intent: refine_search, context: ["hoodie"]}',
            "follow-ups, and only they",
        ),
        ('{text: "in red", group: follow_up, intent: refine_search}', "follow-ups, and only they"),
        (
            '{text: "is it warm", group: named_product, intent: product_question,'
            " constraints: {gender: Men}}",
            "only product searches",
        ),
        (
            '{text: "hoodie", group: bare_noun, intent: search_product, nothing_fits: true}',
            "`nothing_fits` needs",
        ),
        (
            '{text: "hoodie", group: bare_noun, intent: search_product, constraints: {gender: M}}',
            "Men or Women",
        ),
        (
            '{text: "hoodie", group: bare_noun, intent: search_product, cheapest: yes please}',
            "true or false",
        ),
    ],
)
def test_a_malformed_item_is_refused_with_its_reason(
    tmp_path: Path, item: str, complaint: str
) -> None:
    path = tmp_path / "set.yml"
    path.write_text(f"- {item}\n", encoding="utf-8")
    with pytest.raises(ShopperSetError, match="item 1") as refused:
        load_messages(path, intents={"search_product", "refine_search", "product_question"})
    assert complaint in str(refused.value)


def test_a_small_set_or_a_repeated_message_falls_short(tmp_path: Path) -> None:
    path = tmp_path / "set.yml"
    path.write_text(
        '- {text: "hoodie", group: bare_noun, intent: search_product}\n'
        '- {text: "Hoodie!", group: bare_noun, intent: search_product}\n',
        encoding="utf-8",
    )
    problems = shortfalls(load_messages(path, intents={"search_product"}))
    assert f"2 messages, fewer than {MIN_MESSAGES}" in problems
    assert "group bare_noun: 2 messages, fewer than 40" in problems
    assert "'hoodie' is there twice" in problems
