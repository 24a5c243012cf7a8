"""How the bot copes with shoppers' own words: intents, constraints kept, things not carried.

`python -m benchmarks.shoppers` reads the labelled messages of benchmarks/shoppers.yml (none of
them training data: it refuses to run, exit 2, if one is), loads the Luma shop into a temporary
SQLite with product vectors (or uses --database-url) and the trained classifiers in-process, and
plays each message as the bot would: the classifier's parse (nlu_models/service.py), the intent
the bot acts on outside a form (actions/routing.py), and for product searches the shopping
finder (catalog/finding.py): a new search, a refinement of the chat's previous request, or the
next page. It writes benchmarks/results/shoppers.{json,md} (named by --output).

A follow-up's earlier messages are played first: the first starts a search, each later one
refines it, whatever the classifier makes of them, so the figure is about the last message.
Figures (benchmarks/shopper_metrics.py): intent_accuracy, constraint_precision_at_5 (shown
products meeting every stated constraint, pooled), silent_violations (shown products breaking a
price, gender, colour, size or category without a label saying so), not_carried_handled and
wrongly_not_carried, cheapest_first, fit_precision_at_5 (descriptive needs) and empty_answers,
overall and per group. Aims: intent accuracy >= 0.95, constraint precision@5 >= 0.95, every
not-carried request answered honestly, no silent violation. The benchmark reports the figures;
it does not fail on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.measure import machine
from benchmarks.relevance import RESULTS, catalog_facts, luma_catalog
from benchmarks.shopper_metrics import (
    TOP_K,
    Outcome,
    Scored,
    Shown,
    cases,
    score,
    summarise,
)
from benchmarks.shopper_set import (
    GROUPS,
    MESSAGES_FILE,
    PRODUCT_INTENTS,
    REFINE_SEARCH,
    SHOW_MORE,
    ShopperMessage,
    ShopperSetError,
    load_messages,
    overlaps,
    shortfalls,
)
from core.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from catalog.finding import Found
    from catalog.search import SearchRequest
    from nlu_models.classifier import Classifier

NLU_FALLBACK: Final = "nlu_fallback"
OUT_OF_SCOPE: Final = "out_of_scope"
BATCH: Final = 32  # texts per classifier call (the service takes up to 64)
AIMS: Final = {"intent_accuracy": 0.95, "constraint_precision_at_5": 0.95}
REFUSED: Final = 2


@dataclass(frozen=True)
class Understood:
    """The classifier service's parse of one text, as the bot receives it."""

    intent: str | None
    confidence: float
    entities: list[dict[str, Any]]
    categories: list[tuple[str, float]]


Understand = Callable[[Sequence[str]], list[Understood]]


def classifier_understanding(classifier: Classifier, session: Session) -> Understand:
    """The service's `/model/parse` in-process: intent, catalog entities, product categories."""
    from nlu_models.service import parse
    from nlu_models.vocabulary import build_vocabulary

    vocabulary = build_vocabulary(session)

    def understand(texts: Sequence[str]) -> list[Understood]:
        understood = []
        for start in range(0, len(texts), BATCH):
            for result in parse(classifier, list(texts[start : start + BATCH]), vocabulary):
                understood.append(
                    Understood(
                        intent=result.intent.name,
                        confidence=result.intent.confidence,
                        entities=result.entities,
                        categories=[(c.name, c.confidence) for c in result.product_category],
                    )
                )
        return understood

    return understand


@dataclass(frozen=True)
class Chat:
    """What the bot remembers between messages: the request and the products last shown."""

    request: SearchRequest | None = None
    shown: tuple[str, ...] = ()


def _after(chat: Chat, found: Found) -> Chat:
    """The chat after showing `found` (actions/search_state.py: offset moved past the list)."""
    if not found.hits:
        return chat if chat.request is not None else Chat(found.request)
    request = replace(found.request, offset=found.request.offset + len(found.hits))
    return Chat(request, tuple(hit.sku for hit in found.hits))


def _step(
    session: Session, chat: Chat, text: str, said: Understood, kind: str, today: date
) -> Found:
    """One message through the finder, as actions/products.py runs it for `kind`."""
    from catalog.finding import find, more, refine

    if kind == SHOW_MORE and chat.request is not None:
        return more(session, chat.request, today)
    if kind == REFINE_SEARCH and chat.request is not None:
        return refine(
            session, chat.request, chat.shown, text, said.entities, said.categories, TOP_K, today
        )
    return find(session, text, said.entities, said.categories, TOP_K, today)


def fallback_threshold() -> float:
    """Rasa's FallbackClassifier threshold in config.yml: below it a reading is nlu_fallback."""
    import yaml

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0


def acts_on(session: Session, said: Understood, text: str, *, searching: bool) -> str | None:
    """The intent the bot acts on for a message outside a form, as Rasa and the actions decide
    it: below the fallback threshold the reading is `nlu_fallback`; then the same
    `effective_intent` as actions/products.py, and for a bare answer, a fallback or an
    out-of-scope reading the same `shopping_reading` as actions/inform.py."""
    from actions.contract import Intent
    from actions.inform import shopping_reading
    from actions.routing import effective_intent
    from catalog.finding import own_words

    intent = said.intent
    if said.confidence < fallback_threshold():
        intent = NLU_FALLBACK
    intent = effective_intent(
        intent,
        said.entities,
        form_active=False,
        searching=searching,
        words=own_words(text, said.entities),
    )
    if intent in (Intent.INFORM, NLU_FALLBACK, OUT_OF_SCOPE):
        rescued = shopping_reading(
            session, text, said.entities, searching=searching, bare_answer=intent == Intent.INFORM
        )
        return rescued or intent
    return intent


def play(
    session: Session,
    message: ShopperMessage,
    understood: Mapping[str, Understood],
    today: date | None = None,
) -> Outcome:
    """What the bot does with `message` (after its chat's earlier messages)."""
    today = today or date.today()
    said = understood[message.text]
    chat = Chat()
    for text in message.context:
        earlier = understood[text]
        kind = acts_on(session, earlier, text, searching=chat.request is not None)
        if kind in PRODUCT_INTENTS:
            chat = _after(chat, _step(session, chat, text, earlier, kind or "", today))
    intent = acts_on(session, said, message.text, searching=chat.request is not None)
    if not message.searches:
        return Outcome(message, intent, said.intent, said.confidence)
    if intent not in PRODUCT_INTENTS:
        # the bot did not search: nothing shown, and the wrong intent is counted once
        return Outcome(message, intent, said.intent, said.confidence, searched=True)
    found = _step(session, chat, message.text, said, intent or "", today)
    return Outcome(
        message,
        intent,
        said.intent,
        said.confidence,
        searched=True,
        shown=tuple(Shown(hit.sku, tuple(hit.misses)) for hit in found.hits[:TOP_K]),
        not_carried=found.not_carried,
    )


def evaluate(
    session: Session,
    messages: Sequence[ShopperMessage],
    understand: Understand,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Scored]:
    """Every message played and scored against the catalog's facts."""
    texts = list(dict.fromkeys(t for m in messages for t in (*m.context, m.text)))
    progress(f"classifying {len(texts)} texts")
    understood = dict(zip(texts, understand(texts), strict=True))
    today = date.today()
    facts = {p.sku: p for p in catalog_facts(session, today)}
    scored = []
    for number, message in enumerate(messages, start=1):
        result = score(play(session, message, understood, today), facts)
        scored.append(result)
        progress(_progress_line(number, len(messages), result))
    return scored


def _progress_line(number: int, total: int, result: Scored) -> str:
    outcome = result.outcome
    intent = "ok   " if result.intent_ok else f"WRONG ({outcome.intent})"
    products = ""
    if result.scored_products or result.empty:
        products = f"  fit {result.fitting_products}/{result.scored_products}"
    if result.silent:
        products += f"  SILENT {len(result.silent)}"
    if outcome.message.not_carried:
        products += "  not carried: " + ("said" if result.not_carried_ok else "NOT SAID")
    return (
        f"[{number}/{total}] {outcome.message.group:<19} {intent}{products}  {outcome.message.text}"
    )


def outcome_row(result: Scored, names: Mapping[str, str]) -> dict[str, Any]:
    """One message's record in shoppers.json."""
    outcome = result.outcome
    message = outcome.message
    return {
        "text": message.text,
        "group": message.group,
        "context": list(message.context),
        "expected": message.intent,
        "intent": outcome.intent,
        "classified": outcome.classified,
        "confidence": round(outcome.confidence, 4),
        "intent_ok": result.intent_ok,
        "constraints": dict(message.constraints),
        "shown": [
            {"sku": s.sku, "name": names.get(s.sku, s.sku), "misses": list(s.misses)}
            for s in outcome.shown
        ],
        "fitting": result.fitting_products,
        "not_carried": outcome.not_carried,
    }


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown(result: Mapping[str, Any]) -> str:
    m = result["machine"]
    overall = result["summary"]["overall"]
    lines = [
        "# Shoppers' own words",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, with:",
        "",
        f"    {result['command']}",
        "",
        f"{overall['messages']} labelled shopper messages "
        "([benchmarks/shoppers.yml](../shoppers.yml), none of them training data) over "
        f"{result['database']}, each played as the bot plays it: the classifier's parse "
        "(in-process), the intent the bot acts on outside a form (`actions/routing.py`), and "
        "for product searches the shopping finder (`catalog/finding.py`): a search, a "
        "refinement of the chat's request (a follow-up's earlier messages are played first) "
        "or the next page. Five products per answer.",
        "",
        "- **intent**: share of messages whose effective intent is the labelled one (aim ≥ 0.95);",
        "- **P@5**: of the products shown for searches with stated constraints that something "
        "in the shop meets, the share meeting all of them, pooled (aim ≥ 0.95); "
        "in brackets the products scored;",
        "- **silent**: products shown that break a stated category, gender, colour, size or "
        "price with no label saying so (aim 0);",
        "- **not carried**: share of requests for things the shop does not sell that were "
        "answered as not carried (aim 1.0); **wrongly**: share of carried searches answered so;",
        "- **cheapest**: “cheapest …” answered with the cheapest fitting product first; "
        "**fit@5**: descriptive needs, share of shown products that fit the need; "
        "**empty**: searches something fits that showed nothing.",
        "",
        "| group | messages | intent | P@5 | silent | not carried | wrongly | cheapest "
        "| fit@5 | empty |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for group, f in [*result["summary"]["groups"].items(), ("**all**", overall)]:
        if not f["messages"]:
            continue
        precision = _share(f["constraint_precision_at_5"])
        if f["products_scored"]:
            precision += f" ({f['products_scored']})"
        lines.append(
            f"| {group} | {f['messages']} | {_share(f['intent_accuracy'])} | {precision} "
            f"| {f['silent_violations']} | {_share(f['not_carried_handled'])} "
            f"| {_share(f['wrongly_not_carried'])} | {_share(f['cheapest_first'])} "
            f"| {_share(f['fit_precision_at_5'])} | {f['empty_answers']} |"
        )
    lines += [
        "",
        f"## Bad cases, worst first ({len(result['cases'])})",
        "",
        "Kinds, worst first: a product shown breaking a hard constraint without a label; a "
        "not-carried request answered as carried; a wrong intent (the bot's, the classifier's "
        "own if different, and its confidence); a carried search called not carried; nothing "
        "shown; a product shown that does not fit (with the finder's labels, if any); the "
        "cheapest not first. A follow-up's earlier messages come before “→”.",
        "",
        "| kind | group | message | expected | got | product | breaks | labels |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in result["cases"]:
        said = " → ".join([*case["context"], case["text"]]).replace("|", "\\|")
        lines.append(
            f"| {case['kind']} | {case['group']} | {said} | {case['expected']} | {case['got']} "
            f"| {case['product'] or '–'} | {', '.join(case['broken']) or '–'} "
            f"| {'; '.join(case['labels']) or '–'} |"
        )
    return "\n".join(lines) + "\n"


def checked_messages(path: Path) -> list[ShopperMessage]:
    """The labelled set, or ShopperSetError when it is malformed, too small or overlaps the
    training data (the benchmark measures nothing then)."""
    messages = load_messages(path)
    problems = shortfalls(messages)
    problems += [
        f"{o.message!r} ({o.group}) is in the training data ({o.source})"
        for o in overlaps(messages)
    ]
    if problems:
        raise ShopperSetError(f"{path}: " + "; ".join(problems))
    return messages


@contextmanager
def luma_with_vectors() -> Iterator[str]:
    """A temporary Luma SQLite as `catalog.cli load` leaves it: indexed, with product vectors
    (semantic search ranks with them)."""
    from catalog.db import session_scope
    from catalog.embeddings import refresh_embeddings

    with luma_catalog() as url:
        with session_scope(url) as session:
            refresh_embeddings(session, progress=False)
        yield url


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def parser() -> argparse.ArgumentParser:
    described = (__doc__ or "").split("\n\n")
    built = argparse.ArgumentParser(
        prog="python -m benchmarks.shoppers",
        description=described[1] if len(described) > 1 else None,
        epilog="\n\n".join(described[2:]) or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    built.add_argument(
        "--database-url", help="an imported and indexed catalog (default: a temporary Luma one)"
    )
    built.add_argument(
        "--messages", type=Path, default=MESSAGES_FILE, help="the labelled shopper messages"
    )
    built.add_argument(
        "--group",
        action="append",
        choices=GROUPS,
        help="play only this group (repeatable; the set is still checked whole)",
    )
    built.add_argument(
        "--output", default="shoppers", help="name of the result files in benchmarks/results"
    )
    return built


def main(argv: list[str] | None = None) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)

    from catalog.db import session_scope
    from nlu_models.classifier import Classifier
    from nlu_models.config import TASKS
    from nlu_models.settings import classifier_settings

    try:
        messages = checked_messages(args.messages)
        print(f"{len(messages)} messages from {args.messages}; loading the classifiers", flush=True)
        classifier = Classifier.load(classifier_settings(), TASKS)
    except (ShopperSetError, FileNotFoundError) as error:  # ModelNotTrained is one
        arguments.exit(REFUSED, f"{arguments.prog}: error: {error}\n")
    if args.group:
        messages = [m for m in messages if m.group in args.group]
    started = time.monotonic()
    with (
        luma_with_vectors() if args.database_url is None else _given(args.database_url) as url,
        session_scope(url) as session,
    ):
        scored = evaluate(
            session,
            messages,
            classifier_understanding(classifier, session),
            lambda line: print(line, flush=True),
        )
        names = {p.sku: p.name for p in catalog_facts(session)}
    backend = make_url(url).get_backend_name()
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join(
            ["python -m benchmarks.shoppers", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "database": "the Luma shop in a temporary SQLite"
        if args.database_url is None
        else f"the catalog at --database-url ({backend})",
        "seconds": round(time.monotonic() - started, 1),
        "aims": AIMS,
        "summary": summarise(scored),
        "cases": cases(scored, names),
        "messages": [outcome_row(s, names) for s in scored],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(result))
    overall = result["summary"]["overall"]
    print(
        f"intent accuracy {overall['intent_accuracy']}, constraint precision@5 "
        f"{overall['constraint_precision_at_5']}, silent violations "
        f"{overall['silent_violations']}, not carried handled {overall['not_carried_handled']} "
        f"over {overall['messages']} messages; wrote {RESULTS / args.output}.{{json,md}}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
