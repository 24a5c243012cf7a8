"""A bare answer with no form asking: what the bot acts on."""

from __future__ import annotations

import pytest

from actions.routing import effective_intent


def entity(name: str, value: object = "x") -> dict[str, object]:
    return {"entity": name, "value": value}


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ([entity("category", "Hoodies & Sweatshirts")], "search_product"),
        ([entity("gender", "Men"), entity("size", "XL")], "search_product"),
        ([entity("price_max", 20.0)], "search_product"),
        ([entity("order_number", "000000101")], "track_order"),
        ([entity("email"), entity("product")], "track_order"),  # the order wins
        ([entity("ordinal", 2)], "select_product"),
        ([], "inform"),
        ([entity("color", "")], "inform"),  # an empty value says nothing
    ],
)
def test_inform_outside_a_form_means_what_it_names(
    entities: list[dict[str, object]], expected: str
) -> None:
    assert effective_intent("inform", entities, form_active=False) == expected


def test_inside_a_form_inform_answers_its_question() -> None:
    assert effective_intent("inform", [entity("product")], form_active=True) == "inform"


def test_other_intents_are_left_as_read() -> None:
    assert effective_intent("track_refund", [entity("product")], form_active=False) == (
        "track_refund"
    )
    assert effective_intent(None, [], form_active=False) is None


def test_a_filters_only_message_refines_the_search_under_way() -> None:
    filters = [entity("gender", "Men"), entity("size", "L")]
    assert effective_intent("search_product", filters, form_active=False, searching=True) == (
        "refine_search"
    )
    assert effective_intent("inform", filters, form_active=False, searching=True) == (
        "refine_search"
    )
    # with words or a kind of its own it is a new search
    assert (
        effective_intent(
            "search_product", filters, form_active=False, searching=True, words=["jacket"]
        )
        == "search_product"
    )
    kind = [*filters, entity("category", "Jackets")]
    assert effective_intent("search_product", kind, form_active=False, searching=True) == (
        "search_product"
    )


def test_a_refinement_with_nothing_to_refine_is_a_search() -> None:
    assert effective_intent("refine_search", [], form_active=False, searching=False) == (
        "search_product"
    )
    assert effective_intent("refine_search", [], form_active=False, searching=True) == (
        "refine_search"
    )
