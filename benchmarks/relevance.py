"""Measures how well product search answers shoppers: nDCG@10 and MRR over a labelled set.

`python -m benchmarks.relevance` loads the Luma shop into a temporary SQLite (or uses
--database-url), runs each query of benchmarks/relevance_queries.yml the way the bot does
(entities, then a search request, then search, ten results), grades the results with the
query's judgements and writes benchmarks/results/relevance.{json,md} (named by --output).
With --classifier the trained category classifier's top three also steer the ranking.
--signals names the ranking signals to use (default: all of them), to measure what each adds:
text (full-text relevance), category (the classifier's scores; needs --classifier), rating,
popularity, semantic (the query's cosine with each product's vector) and candidates (products
found by that cosine when the words are descriptive); benchmarks/hybrid.py runs them all.

nDCG@10: gain 2^grade - 1 at rank i discounted by log2(i + 1), divided by the best possible
DCG from every graded product in the catalog. MRR: the mean over queries of 1/rank of the
first result graded 2 or 3 (something the shopper would consider), 0 if none is in the ten.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

from benchmarks.measure import machine
from core.paths import PROJECT_ROOT

QUERIES_FILE = Path(__file__).resolve().parent / "relevance_queries.yml"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
GROUPS = ("category", "filters", "synonym", "name", "attribute", "typo", "gear")
WHERE_KEYS = frozenset(
    {"category", "gender", "color", "size", "price_min", "price_max", "attribute", "name_contains"}
)
K = 10
CONSIDERED = 2  # the lowest grade a shopper would consider buying: MRR's "relevant"
FLAG_VALUES = frozenset({"yes", "1", "true"})
TOP_CATEGORIES = 3
# --signals: each name and the catalog.search weight it switches (candidates: a semantic mode).
SIGNAL_WEIGHTS = {
    "text": "TEXT_WEIGHT",
    "category": "CATEGORY_WEIGHT",
    "rating": "RATING_WEIGHT",
    "popularity": "POPULARITY_WEIGHT",
    "semantic": "SEMANTIC_WEIGHT",
}
CANDIDATES_SIGNAL = "candidates"
SIGNALS = (*SIGNAL_WEIGHTS, CANDIDATES_SIGNAL)


class QueryFileError(ValueError):
    """The labelled set cannot be read; the message names the query and what is wrong."""


@dataclass(frozen=True)
class Rule:
    grade: int
    skus: frozenset[str] | None
    where: Mapping[str, Any]


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    group: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class ProductFacts:
    """What a judgement can ask about a product, read once from the catalog."""

    sku: str
    name: str
    categories: tuple[str, ...]
    gender: str | None
    colors: frozenset[str]  # in stock, lower case
    sizes: frozenset[str]  # in stock, upper case
    price_cents: int  # today
    attributes: Mapping[str, frozenset[str]]  # name → values, lower case


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _rule(raw: Any, where_from: str) -> Rule:
    if not isinstance(raw, dict) or raw.get("grade") not in (1, 2, 3):
        raise QueryFileError(f"{where_from}: each judgement needs a grade of 1, 2 or 3")
    skus = raw.get("skus")
    where = raw.get("where") or {}
    if skus is None and not where:
        raise QueryFileError(f"{where_from}: a judgement needs `skus` or `where`")
    unknown = set(where) - WHERE_KEYS
    if unknown:
        raise QueryFileError(f"{where_from}: unknown `where` keys {', '.join(sorted(unknown))}")
    if "attribute" in where and not isinstance(where["attribute"], dict):
        raise QueryFileError(f"{where_from}: `attribute` must map names to values")
    return Rule(int(raw["grade"]), frozenset(_as_list(skus)) if skus else None, where)


def load_queries(path: Path = QUERIES_FILE) -> list[LabelledQuery]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise QueryFileError(f"{path}: expected a list of queries")
    queries = []
    for number, item in enumerate(document, start=1):
        where_from = f"{path.name}, query {number}"
        if not isinstance(item, dict) or not str(item.get("query", "")).strip():
            raise QueryFileError(f"{where_from}: needs a `query`")
        where_from += f" ({item['query']!r})"
        if item.get("group") not in GROUPS:
            raise QueryFileError(f"{where_from}: `group` must be one of {', '.join(GROUPS)}")
        rules = tuple(_rule(raw, where_from) for raw in item.get("judgements") or [])
        if not rules:
            raise QueryFileError(f"{where_from}: no judgements")
        queries.append(LabelledQuery(str(item["query"]), str(item["group"]), rules))
    return queries


def _clean(value: str) -> str:
    return html.unescape(value).strip().lower()


def catalog_facts(session: Session, today: date | None = None) -> list[ProductFacts]:
    from catalog.models import Product

    today = today or date.today()
    products = session.scalars(
        select(Product).options(
            selectinload(Product.categories),
            selectinload(Product.variants),
            selectinload(Product.attributes),
        )
    )
    facts = []
    for product in products:
        attributes: dict[str, set[str]] = defaultdict(set)
        for attribute in product.attributes:
            for value in attribute.value.replace("\n", "|").split("|"):
                if value.strip():
                    attributes[attribute.name.lower()].add(_clean(value))
        in_stock = [v for v in product.variants if v.qty > 0]
        facts.append(
            ProductFacts(
                sku=product.sku,
                name=product.name,
                categories=tuple(c.path for c in product.categories),
                gender=product.gender,
                colors=frozenset(v.color.lower() for v in in_stock if v.color),
                sizes=frozenset(v.size.upper() for v in in_stock if v.size),
                price_cents=product.price_on(today),
                attributes={name: frozenset(values) for name, values in attributes.items()},
            )
        )
    return facts


def _in_category(product: ProductFacts, wanted: list[str]) -> bool:
    return any(path == w or path.startswith(w + "/") for path in product.categories for w in wanted)


def _has_attribute(product: ProductFacts, name: str, wanted: list[str]) -> bool:
    values = product.attributes.get(name.lower(), frozenset())
    for value in (_clean(w) for w in wanted):
        if value in values or (value in FLAG_VALUES and values & FLAG_VALUES):
            return True
    return False


def matches(product: ProductFacts, where: Mapping[str, Any]) -> bool:
    """Whether the product meets every condition of a judgement's `where`."""
    if "category" in where and not _in_category(product, _as_list(where["category"])):
        return False
    if "gender" in where and product.gender not in (where["gender"], "Unisex", None):
        return False
    if "color" in where and str(where["color"]).lower() not in product.colors:
        return False
    if "size" in where and str(where["size"]).upper() not in product.sizes:
        return False
    if "price_min" in where and product.price_cents < round(float(where["price_min"]) * 100):
        return False
    if "price_max" in where and product.price_cents > round(float(where["price_max"]) * 100):
        return False
    for name, wanted in (where.get("attribute") or {}).items():
        if not _has_attribute(product, str(name), _as_list(wanted)):
            return False
    if "name_contains" in where:
        name = product.name.lower()
        if not any(part.lower() in name for part in _as_list(where["name_contains"])):
            return False
    return True


def judge(query: LabelledQuery, products: Sequence[ProductFacts]) -> dict[str, int]:
    """Every product's grade for the query (the highest rule it meets); ungraded are left out."""
    grades: dict[str, int] = {}
    for product in products:
        for rule in query.rules:
            if rule.skus is not None and product.sku not in rule.skus:
                continue
            if rule.where and not matches(product, rule.where):
                continue
            grades[product.sku] = max(grades.get(product.sku, 0), rule.grade)
    return grades


def dcg(grades: Sequence[int], k: int = K) -> float:
    return math.fsum(
        (2.0**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(grades[:k], 1)
    )


def ndcg(ranked: Sequence[int], judged: Sequence[int], k: int = K) -> float:
    """The ranking's DCG over the best DCG the judged grades allow (0 when nothing is judged)."""
    ideal = dcg(sorted(judged, reverse=True), k)
    return dcg(ranked, k) / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[int], k: int = K, relevant: int = CONSIDERED) -> float:
    for rank, grade in enumerate(ranked[:k], start=1):
        if grade >= relevant:
            return 1.0 / rank
    return 0.0


CategoryScorer = Callable[[str], list[tuple[str, float]]]


def classifier_scorer() -> CategoryScorer:
    """The trained category classifier's top three for a message, as search wants them."""
    from nlu_models.classifier import Classifier
    from nlu_models.oos import OOS_LABELS
    from nlu_models.settings import classifier_settings

    classifier = Classifier.load(classifier_settings(), tasks=("category",))

    def top(text: str) -> list[tuple[str, float]]:
        ranking = classifier.predict("category", [text])[0].ranking
        return [(label, p) for label, p in ranking if label not in OOS_LABELS][:TOP_CATEGORIES]

    return top


def evaluate(
    session: Session,
    queries: Sequence[LabelledQuery],
    scorer: CategoryScorer | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Scores of each query, and the queries left unscored (no grade-3 product to find)."""
    from catalog.query import request_from_message
    from catalog.search import search
    from nlu_models.entities import extract_entities
    from nlu_models.vocabulary import build_vocabulary

    vocabulary = build_vocabulary(session)
    products = catalog_facts(session)
    names = {p.sku: p.name for p in products}
    scored: list[dict[str, Any]] = []
    unscored: list[str] = []
    for number, query in enumerate(queries, start=1):
        grades = judge(query, products)
        if 3 not in grades.values():
            unscored.append(query.text)
            continue
        entities = extract_entities(query.text, vocabulary)
        categories = scorer(query.text) if scorer else []
        request = request_from_message(query.text, list(entities), categories, limit=K)
        started = time.perf_counter()
        result = search(session, request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        ranked = [grades.get(hit.sku, 0) for hit in result.hits]
        scored.append(
            {
                "query": query.text,
                "group": query.group,
                "ndcg": round(ndcg(ranked, list(grades.values())), 4),
                "rr": round(reciprocal_rank(ranked), 4),
                "grades": ranked,
                "top3": [names.get(hit.sku, hit.sku) for hit in result.hits[:3]],
                "graded_in_catalog": {g: list(grades.values()).count(g) for g in (3, 2, 1)},
                "searched": request.text,
                "filters": request.filters.to_dict(),
                "categories": [[path, round(p, 3)] for path, p in categories],
                "relaxed": list(result.relaxed),
                "corrections": [list(pair) for pair in result.corrections],
                "ms": round(elapsed_ms, 1),
            }
        )
        progress(f"[{number}/{len(queries)}] nDCG {scored[-1]['ndcg']:.2f}  {query.text}")
    return scored, unscored


def summarise(scored: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    def scores(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "queries": len(rows),
            "ndcg_at_10": round(statistics.fmean(r["ndcg"] for r in rows), 4) if rows else None,
            "mrr": round(statistics.fmean(r["rr"] for r in rows), 4) if rows else None,
        }

    return {
        "overall": scores(scored),
        "groups": {g: scores([r for r in scored if r["group"] == g]) for g in GROUPS},
    }


def markdown(result: Mapping[str, Any]) -> str:
    m = result["machine"]
    overall = result["summary"]["overall"]
    lines = [
        "# Search relevance",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, with:",
        "",
        f"    {result['command']}",
        "",
        f"{overall['queries']} labelled shopper queries "
        "([benchmarks/relevance_queries.yml](../relevance_queries.yml)) over "
        f"{result['database']}, each run as the bot runs it: entities, then "
        "`request_from_message`, then `search`, ten results. Category classifier: "
        f"{'on (its top three as category_scores)' if result['classifier'] else 'off'}. "
        f"Ranking signals: {', '.join(result.get('signals') or SIGNALS)}.",
        "",
        "nDCG@10: gain 2^grade − 1, log2 discount, over the best order of every graded product "
        "in the catalog. MRR: mean of 1/rank of the first result graded 2 or 3 (0 if none "
        "in the ten). Aim: nDCG@10 ≥ 0.9. A list of only the exact matches scores below 1 "
        "when the catalog also has near matches (grade 2 or 1): the ideal ranking shows them "
        "after the exact ones.",
        "",
        "| group | queries | nDCG@10 | MRR |",
        "|---|---|---|---|",
    ]
    for group, scores in [*result["summary"]["groups"].items(), ("**all**", overall)]:
        if scores["queries"]:
            lines.append(
                f"| {group} | {scores['queries']} | {scores['ndcg_at_10']:.3f} "
                f"| {scores['mrr']:.3f} |"
            )
    if result["unscored"]:
        lines += [
            "",
            "Not scored (no grade-3 product in this catalog): "
            + ", ".join(f"“{q}”" for q in result["unscored"]),
        ]
    lines += [
        "",
        "## Queries, worst first",
        "",
        "Grades of the ten results in order; what was searched after entities became filters; "
        "what search relaxed or corrected.",
        "",
        "| query | group | nDCG@10 | RR | grades | searched / filters | top 3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sorted(result["queries"], key=lambda r: (r["ndcg"], r["rr"], r["query"])):
        notes = [row["searched"] or "–"]
        notes += [f"{k}={v}" for k, v in row["filters"].items()]
        if row["relaxed"]:
            notes.append("relaxed " + ", ".join(row["relaxed"]))
        notes += [f"{typed}→{meant}" for typed, meant in row["corrections"]]
        grades = "".join(str(g) for g in row["grades"]) or "–"
        lines.append(
            f"| {row['query']} | {row['group']} | {row['ndcg']:.2f} | {row['rr']:.2f} "
            f"| {grades} | {'; '.join(notes)} | {' · '.join(row['top3']) or '–'} |"
        )
    return "\n".join(lines) + "\n"


def parse_signals(value: str) -> frozenset[str]:
    """`text,semantic` → those names; `all` → every signal. Unknown names are an error."""
    names = {part.strip().lower() for part in value.split(",") if part.strip()}
    if names == {"all"}:
        return frozenset(SIGNALS)
    unknown = names - set(SIGNALS)
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown signal {', '.join(sorted(unknown)) or '(none)'}; "
            f"choose from {', '.join(SIGNALS)} or all"
        )
    return frozenset(names)


@contextmanager
def signals(on: frozenset[str]) -> Iterator[None]:
    """Search with only the signals in `on`: the others' weights are 0 while inside, and the
    semantic candidates are switched off unless `candidates` is named."""
    from catalog import search as search_module
    from catalog.semantic import MODE_VARIABLE, Mode

    saved = {name: getattr(search_module, name) for name in SIGNAL_WEIGHTS.values()}
    saved_mode = os.environ.get(MODE_VARIABLE)
    try:
        for signal, name in SIGNAL_WEIGHTS.items():
            if signal not in on:
                setattr(search_module, name, 0.0)
        semantic_on = bool(on & {"semantic", CANDIDATES_SIGNAL})
        mode = Mode.ON if CANDIDATES_SIGNAL in on else Mode.RANK if semantic_on else Mode.OFF
        os.environ[MODE_VARIABLE] = mode
        yield
    finally:
        for name, weight in saved.items():
            setattr(search_module, name, weight)
        if saved_mode is None:
            os.environ.pop(MODE_VARIABLE, None)
        else:
            os.environ[MODE_VARIABLE] = saved_mode


@contextmanager
def luma_catalog() -> Iterator[str]:
    """A temporary SQLite file with the Luma shop imported, indexed and embedded, as
    `catalog.cli load` leaves it."""
    from catalog.db import engine_for, migrate, session_scope
    from catalog.embeddings import refresh_embeddings
    from catalog.luma import import_luma
    from catalog.search_index import refresh_search
    from catalog.settings import LUMA_DATA_DIR

    with tempfile.TemporaryDirectory(prefix="shopdesk-relevance-") as folder:
        url = f"sqlite:///{Path(folder) / 'luma.sqlite3'}"
        migrate(url)
        with session_scope(url) as session:
            import_luma(session, LUMA_DATA_DIR)
            refresh_search(session)
        with session_scope(url) as session:
            refresh_embeddings(session, progress=False)
        try:
            yield url
        finally:
            engine_for(url).dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.relevance",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=__doc__.split("\n\n")[2] if __doc__ else None,
    )
    parser.add_argument(
        "--database-url", help="an imported and indexed catalog (default: a temporary Luma one)"
    )
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE, help="the labelled set")
    parser.add_argument(
        "--classifier", action="store_true", help="pass the category classifier's top three"
    )
    parser.add_argument(
        "--signals",
        type=parse_signals,
        default=frozenset(SIGNALS),
        help=f"comma-separated ranking signals to use: {', '.join(SIGNALS)} (default: all)",
    )
    parser.add_argument("--output", default="relevance", help="name of the result files")
    args = parser.parse_args(argv)

    from catalog.db import session_scope

    try:
        queries = load_queries(args.queries)
        scorer = classifier_scorer() if args.classifier else None
    except (QueryFileError, FileNotFoundError) as error:  # ModelNotTrained is one
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(f"{len(queries)} queries from {args.queries}", flush=True)
    with (
        luma_catalog() if args.database_url is None else _given(args.database_url) as url,
        session_scope(url) as session,
        signals(args.signals),
    ):
        scored, unscored = evaluate(session, queries, scorer, lambda line: print(line, flush=True))
    backend = make_url(url).get_backend_name()
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.relevance "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "database": "the Luma shop in a temporary SQLite"
        if args.database_url is None
        else f"the catalog at --database-url ({backend})",
        "classifier": args.classifier,
        "signals": sorted(args.signals),
        "summary": summarise(scored),
        "unscored": unscored,
        "queries": scored,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(result))
    overall = result["summary"]["overall"]
    print(
        f"nDCG@10 {overall['ndcg_at_10']}, MRR {overall['mrr']} over {overall['queries']} "
        f"queries ({len(unscored)} not scored); wrote {RESULTS / args.output}.{{json,md}}"
    )
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    raise SystemExit(main())
