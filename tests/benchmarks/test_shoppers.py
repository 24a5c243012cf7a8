"""The shopper benchmark's figures and how it plays a chat, without a trained model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks import shoppers
from benchmarks.relevance import ProductFacts
from benchmarks.shopper_metrics import (
    CASE_ORDER,
    MISMATCH,
    NOT_CARRIED_MISSED,
    SILENT_VIOLATION,
    WRONG_INTENT,
    Outcome,
    Shown,
    broken_constraints,
    cases,
    figures,
    score,
    summarise,
)
from benchmarks.shopper_set import ShopperMessage
from benchmarks.shoppers import Understood, evaluate, main, markdown, parser, play
from catalog.search import SearchRequest
from tests.benchmarks.help import assert_help_explains_every_option

HOODIES = ["Men/Tops/Hoodies & Sweatshirts", "Women/Tops/Hoodies & Sweatshirts"]


def product(
    sku: str, price: int, gender: str = "Men", colors: str = "black", **more: Any
) -> ProductFacts:
    return ProductFacts(
        sku=sku, name=f"{sku} Hoodie", categories=(more.get("category", HOODIES[0]),),
        gender=gender, colors=frozenset(colors.split()), sizes=frozenset({"M", "L"}),
        price_cents=price * 100, attributes=more.get("attributes", {}),
    )  # fmt: skip


FACTS = {
    p.sku: p
    for p in [
        product("CHEAP", 40),
        product("MID", 52),
        product("DEAR", 70, colors="red"),
        product("HERS", 45, gender="Women"),
        product("JACKET", 30, category="Men/Tops/Jackets"),
        product("FLEECE", 60, attributes={"material": frozenset({"fleece"})}),
    ]
}
MEN_HOODIE_UNDER_60 = {"category": HOODIES, "gender": "Men", "price_max": 60}


def search(text: str = "mens hoodie under 60", **labels: Any) -> ShopperMessage:
    labels.setdefault("constraints", MEN_HOODIE_UNDER_60)
    return ShopperMessage(
        text=text, group=labels.pop("group", "price_phrase"), intent="search_product", **labels
    )


def shown(*skus: str, misses: Sequence[str] = ()) -> tuple[Shown, ...]:
    return tuple(Shown(sku, tuple(misses)) for sku in skus)


def outcome(
    message: ShopperMessage, *items: Shown, intent: str = "search_product", **more: Any
) -> Outcome:
    return Outcome(message, intent, intent, 0.9, searched=message.searches, shown=items, **more)


def test_a_product_breaks_each_constraint_it_fails_alone() -> None:
    assert broken_constraints(FACTS["CHEAP"], MEN_HOODIE_UNDER_60) == ()
    assert broken_constraints(FACTS["DEAR"], MEN_HOODIE_UNDER_60) == ("price_max",)
    assert broken_constraints(FACTS["HERS"], {**MEN_HOODIE_UNDER_60, "color": "red"}) == (
        "gender",
        "color",
    )


def test_precision_pools_shown_products_and_unlabelled_hard_breaks_are_silent() -> None:
    first = score(outcome(search(), *shown("CHEAP", "MID", "HERS")), FACTS)
    assert (first.fitting_products, first.scored_products) == (2, 3)
    assert first.silent == (("HERS", ("gender",)),)
    over = shown("DEAR", misses=["$70.00, over your $60.00"])
    second = score(outcome(search("hoodie for men under 60 pls"), *shown("CHEAP"), *over), FACTS)
    assert second.silent == ()
    assert second.labelled == (("DEAR", ("price_max",), ("$70.00, over your $60.00",)),)
    overall = figures([first, second])
    assert overall["constraint_precision_at_5"] == round(3 / 5, 4)
    assert overall["products_scored"] == 5
    assert overall["silent_violations"] == 1
    assert overall["intent_accuracy"] == 1.0


def test_only_the_top_five_count() -> None:
    scored = score(
        outcome(search(), *shown("CHEAP", "MID", "CHEAP", "MID", "CHEAP", "HERS")), FACTS
    )
    assert (scored.fitting_products, scored.scored_products, scored.silent) == (5, 5, ())


def test_breaking_only_a_feature_costs_precision_but_is_not_silent() -> None:
    fleece = search("fleece hoodie", constraints={"attribute": {"material": "fleece"}})
    scored = score(outcome(fleece, *shown("FLEECE", "CHEAP")), FACTS)
    assert (scored.fitting_products, scored.scored_products, scored.silent) == (1, 2, ())
    assert scored.labelled == (("CHEAP", ("attribute",), ()),)


def test_nothing_fits_is_kept_out_of_precision_but_still_checked_for_silence() -> None:
    message = search(
        "mens hoodie under 10",
        constraints={**MEN_HOODIE_UNDER_60, "price_max": 10},
        nothing_fits=True,
    )
    honest = score(outcome(message, *shown("CHEAP", misses=["$40.00, over your $10.00"])), FACTS)
    quiet = score(outcome(message, *shown("CHEAP")), FACTS)
    assert (honest.scored_products, honest.silent, honest.empty) == (0, (), False)
    assert quiet.silent == (("CHEAP", ("price_max",)),)


def test_not_carried_is_handled_only_when_the_finder_says_so() -> None:
    mats = ShopperMessage("yoga mats", "not_carried", "search_product", not_carried=True)
    said = score(outcome(mats, *shown("JACKET"), not_carried="yoga mats"), FACTS)
    pretended = score(outcome(mats, *shown("JACKET")), FACTS)
    carried = score(outcome(search(), *shown("CHEAP"), not_carried="hoodies"), FACTS)
    assert said.not_carried_ok and said.silent == ()
    assert pretended.not_carried_ok is False
    assert carried.wrongly_not_carried is True and said.wrongly_not_carried is None
    summary = figures([said, pretended, carried])
    assert summary["not_carried_handled"] == 0.5
    assert summary["wrongly_not_carried"] == 1.0
    assert summary["carried_searches"] == 1


def test_cheapest_first_compares_with_the_cheapest_fitting_product() -> None:
    message = search(
        "cheapest mens hoodie", constraints={"category": HOODIES, "gender": "Men"}, cheapest=True
    )
    assert score(outcome(message, *shown("CHEAP", "MID")), FACTS).cheapest_ok is True
    assert score(outcome(message, *shown("MID", "CHEAP")), FACTS).cheapest_ok is False
    assert score(outcome(message), FACTS).cheapest_ok is False


def test_an_empty_answer_and_fit_precision() -> None:
    empty = score(outcome(search()), FACTS)
    assert empty.empty and empty.scored_products == 0
    need = ShopperMessage(
        "something warm",
        "descriptive_need",
        "search_product",
        fits={"attribute": {"material": "fleece"}},
    )
    described = score(outcome(need, *shown("FLEECE", "CHEAP", "MID")), FACTS)
    totals = figures([empty, described])
    assert totals["empty_answers"] == 1
    assert totals["fit_precision_at_5"] == round(1 / 3, 4)
    assert totals["constraint_precision_at_5"] is None  # nothing shown under constraints


def test_intent_accuracy_and_group_figures() -> None:
    promo = ShopperMessage("code wont work", "promo_code", "promo_code")
    wrong = score(Outcome(promo, "out_of_scope", "out_of_scope", 0.7), FACTS)
    right = score(outcome(search(group="price_phrase"), *shown("CHEAP")), FACTS)
    summary = summarise([wrong, right])
    assert summary["overall"]["intent_accuracy"] == 0.5
    assert summary["groups"]["promo_code"]["intent_accuracy"] == 0.0
    assert summary["groups"]["price_phrase"]["constraint_precision_at_5"] == 1.0
    assert summary["groups"]["bare_noun"]["messages"] == 0
    assert summary["groups"]["bare_noun"]["intent_accuracy"] is None


def test_cases_come_worst_first() -> None:
    promo = ShopperMessage("code wont work", "promo_code", "promo_code")
    mats = ShopperMessage("yoga mats", "not_carried", "search_product", not_carried=True)
    found = cases(
        [
            score(Outcome(promo, "inform", "inform", 0.4), FACTS),
            score(
                outcome(
                    search(), *shown("CHEAP"), *shown("DEAR", misses=["$70.00, over your $60.00"])
                ),
                FACTS,
            ),
            score(outcome(mats, *shown("JACKET")), FACTS),
            score(outcome(search("hoodies mens under 60"), *shown("HERS")), FACTS),
        ],
        {"HERS": "Hers Hoodie"},
    )
    assert [c["kind"] for c in found] == [
        SILENT_VIOLATION,
        NOT_CARRIED_MISSED,
        WRONG_INTENT,
        MISMATCH,
    ]
    assert [c["kind"] for c in found] == sorted((c["kind"] for c in found), key=CASE_ORDER.index)
    assert found[0]["product"] == "Hers Hoodie" and found[0]["broken"] == ["gender"]
    assert found[2]["got"] == "inform 0.40"


class FakeFinder:
    """Stands in for catalog/finding.py: records each call, shows fixed SKUs."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def found(self, request: SearchRequest, *skus: str, not_carried: str | None = None) -> Any:
        from catalog.finding import Found

        hits = [_hit(sku) for sku in skus]
        return Found(request=request, hits=hits, not_carried=not_carried)

    def find(
        self, session: Any, text: str, entities: Any, scores: Any, limit: int, today: date
    ) -> Any:
        self.calls.append(("find", text, limit))
        if "mats" in text:
            return self.found(SearchRequest(text=""), "JACKET", not_carried="yoga mats")
        return self.found(SearchRequest(text=text), "CHEAP", "MID")

    def refine(
        self, session: Any, previous: SearchRequest, shown: Sequence[str], text: str, *rest: Any
    ) -> Any:
        self.calls.append(("refine", previous.text, previous.offset, tuple(shown), text))
        return self.found(SearchRequest(text=f"{previous.text} {text}"), "HERS")

    def more(self, session: Any, request: SearchRequest, today: date) -> Any:
        self.calls.append(("more", request.text, request.offset))
        return self.found(request, "DEAR")


def _hit(sku: str) -> Any:
    from catalog.search import ProductHit

    return ProductHit(
        id=1, sku=sku, name=sku, price_cents=100, regular_price_cents=100, currency="USD",
        url_key=sku.lower(), image=None, rating=None, review_count=0, in_stock=True,
        colors=(), sizes=(), categories=(), score=1.0,
    )  # fmt: skip


@pytest.fixture
def finder(monkeypatch: pytest.MonkeyPatch) -> FakeFinder:
    import catalog.finding

    fake = FakeFinder()
    for name in ("find", "refine", "more"):
        monkeypatch.setattr(catalog.finding, name, getattr(fake, name))
    return fake


def said(intent: str, **entities: str) -> Understood:
    found = [
        {"entity": name, "value": value, "start": 0, "end": 1} for name, value in entities.items()
    ]
    return Understood(intent, 0.8, found, [])


def test_a_follow_up_plays_its_chat_first_and_threads_the_request(finder: FakeFinder) -> None:
    message = ShopperMessage(
        "show me more", "follow_up", "show_more", context=("mens hoodies", "in black"),
        constraints={"category": HOODIES},
    )  # fmt: skip
    understood = {
        "mens hoodies": said("search_product"),
        "in black": said("refine_search", color="Black"),
        "show me more": said("show_more"),
    }
    played = play(None, message, understood)  # type: ignore[arg-type]
    assert finder.calls == [
        ("find", "mens hoodies", 5),
        ("refine", "mens hoodies", 2, ("CHEAP", "MID"), "in black"),
        ("more", "mens hoodies in black", 1),
    ]
    assert played.shown == shown("DEAR") and played.intent == "show_more" and played.searched


def test_a_bare_answer_is_routed_and_only_searches_reach_the_finder(finder: FakeFinder) -> None:
    bare = ShopperMessage("mens xl", "bare_noun", "search_product", constraints={"size": "XL"})
    played = play(None, bare, {"mens xl": said("inform", size="XL", gender="Men")})  # type: ignore[arg-type]
    assert (played.classified, played.intent) == ("inform", "search_product")
    question = ShopperMessage("is the hero hoodie warm", "named_product", "product_question")
    asked = play(None, question, {question.text: said("product_question")})  # type: ignore[arg-type]
    assert not asked.searched and asked.shown == ()
    assert finder.calls == [("find", "mens xl", 5)]


def test_evaluate_scores_every_message_against_the_catalog(
    finder: FakeFinder, luma_db_url: str
) -> None:
    from catalog.db import session_scope

    messages = [
        ShopperMessage("do you have yoga mats", "not_carried", "search_product", not_carried=True),
        ShopperMessage("promo code broken", "promo_code", "promo_code"),
    ]
    lines: list[str] = []

    def understand(texts: Sequence[str]) -> list[Understood]:
        return [said("search_product" if "mats" in t else "out_of_scope") for t in texts]

    with session_scope(luma_db_url) as session:
        scored = evaluate(session, messages, understand, lines.append)
    assert [s.not_carried_ok for s in scored] == [True, None]
    assert [s.intent_ok for s in scored] == [True, False]
    assert lines[0] == "classifying 2 texts" and lines[-1].startswith("[2/2] promo_code")


def test_the_report_has_a_row_per_group_and_the_cases() -> None:
    right = score(outcome(search(), *shown("CHEAP")), FACTS)
    wrong = score(
        Outcome(ShopperMessage("code?", "promo_code", "promo_code"), "inform", "inform", 0.3), FACTS
    )
    result = {
        "measured_at": "2025-01-01 00:00 UTC",
        "command": "python -m benchmarks.shoppers",
        "machine": {"cpu": "Test CPU", "cores": 2},
        "database": "a test catalog",
        "summary": summarise([right, wrong]),
        "cases": cases([right, wrong], {}),
    }
    text = markdown(result)
    assert "| price_phrase | 1 | 1.000 | 1.000 (1) | 0 |" in text
    assert "| promo_code | 1 | 0.000 | – |" in text
    assert "| **all** | 2 | 0.500 |" in text
    assert "| wrong intent | promo_code | code? | promo_code | inform 0.30 |" in text
    assert "bare_noun" not in text.split("## Bad cases")[0]


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert_help_explains_every_option(main, parser, capsys)


def test_it_refuses_to_run_on_a_set_that_falls_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "set.yml"
    small.write_text(
        '- {text: "hoodie please", group: bare_noun, intent: search_product}\n', encoding="utf-8"
    )
    with pytest.raises(SystemExit) as exited:
        main(["--messages", str(small)])
    assert exited.value.code == shoppers.REFUSED
    error = capsys.readouterr().err
    assert "fewer than 400" in error and "Traceback" not in error


def test_it_refuses_to_run_on_a_malformed_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "set.yml"
    broken.write_text("text: not a list\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--messages", str(broken)])
    assert exited.value.code == shoppers.REFUSED
    assert "expected a list of messages" in capsys.readouterr().err
