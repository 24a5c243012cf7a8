"""What each ranking signal of product search adds, and what semantic search costs per search.

`python -m benchmarks.hybrid` loads the Luma shop into a temporary SQLite with product vectors
(or uses --database-url) and runs the labelled queries of benchmarks/relevance_queries.yml once
per combination of signals (`benchmarks.relevance --signals`): full-text relevance alone, with
rating and sales, with the category classifier (--classifier), with the semantic similarity as
a ranking signal, and with semantic candidates. With --shoppers (needs the trained classifiers)
it also plays benchmarks/shoppers.yml (`benchmarks.shoppers`) per combination. Then it times
`search` on the relevance queries with semantic search off and on, every query vector encoded
afresh, and the one-off loading of the model. It writes benchmarks/results/hybrid.{json,md}.

nDCG@10 and MRR as benchmarks/relevance.py defines them; constraint precision@5 and fit
precision@5 as benchmarks/shopper_metrics.py does. Latencies are the median of --repeats runs'
p50 and p95, on this machine, with whatever else it runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from benchmarks.measure import machine, say, without_notes
from benchmarks.relevance import (
    QUERIES_FILE,
    RESULTS,
    CategoryScorer,
    classifier_scorer,
    evaluate,
    load_queries,
    luma_catalog,
    signals,
    summarise,
)
from core.paths import PROJECT_ROOT
from core.stats import measured_percentile

LEXICAL: Final = frozenset({"text", "rating", "popularity"})
SEMANTIC_RANK: Final = frozenset({"semantic"})
SEMANTIC_ALL: Final = frozenset({"semantic", "candidates"})
CATEGORY: Final = frozenset({"category"})
# (name, signals, needs the classifier), in the order of the table.
COMBINATIONS: Final = (
    ("full text only", frozenset({"text"}), False),
    ("full text + rating + sales (lexical)", LEXICAL, False),
    ("lexical + semantic ranking", LEXICAL | SEMANTIC_RANK, False),
    ("lexical + semantic ranking + candidates", LEXICAL | SEMANTIC_ALL, False),
    (
        "semantic + rating + sales, no full-text score",
        SEMANTIC_ALL | {"rating", "popularity"},
        False,
    ),
    ("lexical + category", LEXICAL | CATEGORY, True),
    ("lexical + category + semantic (all)", LEXICAL | CATEGORY | SEMANTIC_ALL, True),
)


def relevance_rows(
    session: Session, scorer: CategoryScorer | None, progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    queries = load_queries(QUERIES_FILE)
    rows = []
    for name, on, needs_classifier in COMBINATIONS:
        if needs_classifier and scorer is None:
            continue
        with signals(on):
            scored, _ = evaluate(session, queries, scorer if "category" in on else None)
        summary = summarise(scored)
        rows.append(
            {
                "signals": name,
                "on": sorted(on),
                **summary["overall"],
                "groups": {g: s["ndcg_at_10"] for g, s in summary["groups"].items()},
            }
        )
        progress(f"  relevance, {name}: nDCG@10 {rows[-1]['ndcg_at_10']} MRR {rows[-1]['mrr']}")
    return rows


def shopper_rows(session: Session, progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """The shopper set per combination; the classifier's parses are made once and reused."""
    from benchmarks import shoppers
    from benchmarks.shopper_metrics import summarise as shopper_summary
    from benchmarks.shopper_set import MESSAGES_FILE
    from nlu_models.classifier import Classifier
    from nlu_models.config import TASKS
    from nlu_models.settings import classifier_settings

    messages = shoppers.checked_messages(MESSAGES_FILE)
    understand = shoppers.classifier_understanding(
        Classifier.load(classifier_settings(), TASKS), session
    )
    memo: dict[str, Any] = {}

    def remembered(texts: Sequence[str]) -> list[Any]:
        missing = [t for t in texts if t not in memo]
        memo.update(zip(missing, understand(missing), strict=True))
        return [memo[t] for t in texts]

    rows = []
    for name, on, _ in COMBINATIONS:
        with signals(on):
            scored = shoppers.evaluate(session, messages, remembered)
        overall = shopper_summary(scored)["overall"]
        rows.append(
            {
                "signals": name,
                "on": sorted(on),
                "messages": overall["messages"],
                "constraint_precision_at_5": overall["constraint_precision_at_5"],
                "silent_violations": overall["silent_violations"],
                "fit_precision_at_5": overall["fit_precision_at_5"],
                "empty_answers": overall["empty_answers"],
            }
        )
        progress(
            f"  shoppers, {name}: constraint precision@5 "
            f"{overall['constraint_precision_at_5']}, fit precision@5 "
            f"{overall['fit_precision_at_5']}"
        )
    return rows


def _search_times(session: Session, texts: Sequence[str], mode: str) -> list[float]:
    from catalog import semantic
    from catalog.query import request_from_message
    from catalog.search import search
    from nlu_models.entities import extract_entities
    from nlu_models.vocabulary import build_vocabulary

    vocabulary = build_vocabulary(session)
    requests = [request_from_message(t, list(extract_entities(t, vocabulary))) for t in texts]
    times = []
    with _mode(mode):
        for request in requests:
            semantic.clear_query_cache()  # every query encoded, as a new message's would be
            started = time.perf_counter()
            search(session, request)
            times.append((time.perf_counter() - started) * 1000)
    return times


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    import os

    from catalog.semantic import MODE_VARIABLE

    saved = os.environ.get(MODE_VARIABLE)
    os.environ[MODE_VARIABLE] = mode
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(MODE_VARIABLE, None)
        else:
            os.environ[MODE_VARIABLE] = saved


# Resident memory from /proc: a forked child's peak (ru_maxrss) starts at its parent's.
_MODEL_COST = """
import json, os, time
import catalog.search
from catalog import semantic
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
before = rss()
started = time.perf_counter()
semantic.warm_up()
print(json.dumps({"s": time.perf_counter() - started, "mib": rss() - before}))
"""


def model_cost() -> dict[str, float]:
    """Loading the query encoder in a fresh process that already searches (catalog.search
    imported): seconds, and MiB of resident memory added."""
    done = subprocess.run(
        [sys.executable, "-c", _MODEL_COST],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {"model_load_s": round(measured["s"], 2), "rss_added_mib": round(measured["mib"])}


def latency(session: Session, repeats: int, progress: Callable[[str], None]) -> dict[str, Any]:
    """search() per query with semantic search off and on; the model's one-off load."""
    from catalog import semantic

    texts = [q.text for q in load_queries(QUERIES_FILE)]
    semantic.warm_up()
    _search_times(session, texts[:10], "off")  # the database's caches warm for both
    result: dict[str, Any] = {**model_cost(), "queries": len(texts), "repeats": repeats}
    progress(f"  loading the model: {result['model_load_s']} s, {result['rss_added_mib']} MiB")
    for mode in ("off", "on"):
        runs = [_search_times(session, texts, mode) for _ in range(repeats)]
        result[mode] = {
            "p50_ms": round(statistics.median(measured_percentile(r, 50) for r in runs), 2),
            "p95_ms": round(statistics.median(measured_percentile(r, 95) for r in runs), 2),
        }
        progress(f"  search with semantic {mode}: {result[mode]}")
    encode_runs = []
    for _ in range(repeats):
        times = []
        for text in texts:
            semantic.clear_query_cache()
            started = time.perf_counter()
            semantic.query_vector(text)
            times.append((time.perf_counter() - started) * 1000)
        encode_runs.append(times)
    result["encode"] = {
        "p50_ms": round(statistics.median(measured_percentile(r, 50) for r in encode_runs), 2),
        "p95_ms": round(statistics.median(measured_percentile(r, 95) for r in encode_runs), 2),
    }
    result["added"] = {
        key: round(result["on"][key] - result["off"][key], 2) for key in ("p50_ms", "p95_ms")
    }
    progress(f"  encoding one query: {result['encode']}; added per search: {result['added']}")
    return result


def _score(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    groups = list(result["relevance"][0]["groups"]) if result["relevance"] else []
    lines = [
        "# Hybrid retrieval: what each signal adds",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, with:",
        "",
        f"    {result['command']}",
        "",
        f"Over {result['database']}. Signals (`python -m benchmarks.relevance --signals`): "
        "text = full-text relevance (FTS5 BM25), rating and sales, category = the category "
        "classifier's scores, semantic = cosine of the query's and the product's MiniLM "
        "vectors as a ranking signal, candidates = products found by that cosine when the "
        "words are mostly descriptive or no strict full-text step matched. Filters hold for "
        "every candidate, whatever finds it.",
        "",
        "## Relevance set (benchmarks/relevance_queries.yml)",
        "",
        "| signals | nDCG@10 | MRR | " + " | ".join(groups) + " |",
        "|---|---|---|" + "---|" * len(groups),
    ]
    for row in result["relevance"]:
        lines.append(
            f"| {row['signals']} | {_score(row['ndcg_at_10'])} | {_score(row['mrr'])} | "
            + " | ".join(_score(row["groups"][g]) for g in groups)
            + " |"
        )
    if result.get("shoppers"):
        lines += [
            "",
            "## Shopper set (benchmarks/shoppers.yml, trained classifiers)",
            "",
            "| signals | constraint precision@5 | silent violations "
            "| fit precision@5 (descriptive needs) | empty answers |",
            "|---|---|---|---|---|",
        ]
        for row in result["shoppers"]:
            lines.append(
                f"| {row['signals']} | {_score(row['constraint_precision_at_5'])} "
                f"| {row['silent_violations']} | {_score(row['fit_precision_at_5'])} "
                f"| {row['empty_answers']} |"
            )
    else:
        lines += ["", f"Shopper set: {result.get('shoppers_note', 'not run (--shoppers)')}."]
    lat = result.get("latency")
    if lat:
        lines += [
            "",
            "## Cost per search",
            "",
            f"`search` on the {lat['queries']} relevance queries (entities as the bot finds "
            f"them), semantic search off and on, each query encoded afresh; median of "
            f"{lat['repeats']} runs' percentiles. The model loads once per searching process "
            f"(the action server), on its first search or at start-up (`semantic.warm_up`): "
            f"{lat['model_load_s']} s and {lat['rss_added_mib']} MiB of resident memory here.",
            "",
            "| | p50 (ms) | p95 (ms) |",
            "|---|---|---|",
            f"| search, semantic off | {lat['off']['p50_ms']} | {lat['off']['p95_ms']} |",
            f"| search, semantic on | {lat['on']['p50_ms']} | {lat['on']['p95_ms']} |",
            f"| added per search | {lat['added']['p50_ms']} | {lat['added']['p95_ms']} |",
            f"| of which: encoding the query | {lat['encode']['p50_ms']} "
            f"| {lat['encode']['p95_ms']} |",
        ]
    lines += ["", *[f"- {note}" for note in result.get("notes", [])]]
    return "\n".join(lines).rstrip() + "\n"


def parser() -> argparse.ArgumentParser:
    described = (__doc__ or "").split("\n\n")
    built = argparse.ArgumentParser(
        prog="python -m benchmarks.hybrid",
        description=described[1] if len(described) > 1 else None,
        epilog="\n\n".join(described[2:]) or None,
    )
    built.add_argument(
        "--database-url", help="an imported, indexed and embedded catalog (default: Luma)"
    )
    built.add_argument(
        "--classifier", action="store_true", help="add the category classifier's combinations"
    )
    built.add_argument(
        "--shoppers", action="store_true", help="also play benchmarks/shoppers.yml per combination"
    )
    built.add_argument("--repeats", type=int, default=3, help="runs of the latency measurement")
    built.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    built.add_argument("--note", action="append", default=[], help="a remark under the results")
    built.add_argument("--output", default="hybrid", help="name of the result files")
    return built


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def main(argv: list[str] | None = None) -> int:
    arguments = parser()
    args = arguments.parse_args(argv)
    if args.repeats < 1:
        arguments.exit(2, f"{arguments.prog}: error: --repeats must be at least 1\n")

    from catalog.db import session_scope

    try:
        scorer = classifier_scorer() if args.classifier else None
    except FileNotFoundError as error:  # ModelNotTrained is one
        arguments.exit(2, f"{arguments.prog}: error: {error}\n")
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.hybrid "
        + " ".join(without_notes(argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "database": "the Luma shop in a temporary SQLite with product vectors"
        if args.database_url is None
        else "the catalog at --database-url",
        "notes": args.note,
    }
    with (
        luma_catalog() if args.database_url is None else _given(args.database_url) as url,
        session_scope(url) as session,
    ):
        say("relevance set, per combination of signals")
        result["relevance"] = relevance_rows(session, scorer, say)
        if args.shoppers:
            say("shopper set, per combination of signals")
            try:
                result["shoppers"] = shopper_rows(session, say)
            except (ValueError, FileNotFoundError) as error:  # malformed set, no model
                result["shoppers_note"] = f"not run: {error}"
                say(result["shoppers_note"])
        if not args.no_latency:
            say("latency of search with and without semantic search")
            result["latency"] = latency(session, args.repeats, say)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(result))
    say(f"wrote {Path(RESULTS / args.output)}.{{json,md}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
