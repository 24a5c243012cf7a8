"""Measures product-search latency at 200, 10,000 and 100,000 products on SQLite and PostgreSQL.

`python -m benchmarks.search_latency` builds each catalog from the Luma shop topped up with
SYNTHETIC products (benchmarks/synthetic_catalog.py) to each size, smallest first, then times
`catalog.search.search` on a fixed mix of requests: every labelled query of
benchmarks/relevance_queries.yml as the bot builds it (entities, then request_from_message),
plus filter-only requests, typos and a long message. Each size gets one untimed warm-up pass,
then --repeats timed passes; each call runs in a fresh session, as the action server does.
Results go to benchmarks/results/search-latency.{json,md} (named by --output).

PostgreSQL is the server at --postgres-url (a schema is created for the run and dropped
after); if it cannot be reached, that backend is reported as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from benchmarks.measure import machine, peak_rss_mib, without_notes
from benchmarks.relevance import QUERIES_FILE, load_queries
from catalog.search import SearchFilters, SearchRequest
from core.paths import PROJECT_ROOT
from core.stats import measured_percentile

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
SIZES = (200, 10_000, 100_000)
BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/test"
LIMIT = 10
SLOWEST_SHOWN = 5
FILTER_ONLY = (
    ("filters: black men's jackets", SearchFilters(category="Men/Tops/Jackets", color="Black")),
    ("filters: women's pants 28 under $50",
     SearchFilters(category="Women/Bottoms/Pants", size="28", price_max_cents=5000)),
    ("filters: purple, women", SearchFilters(gender="Women", color="Purple")),
    ("filters: yoga bags", SearchFilters(category="Gear/Bags", attributes=(("activity", "Yoga"),))),
    ("filters: over $70", SearchFilters(price_min_cents=7000)),
    ("filters: blue men's tees in M",
     SearchFilters(category="Tees", gender="Men", size="M", color="Blue")),
    ("filters: rated 4+", SearchFilters(min_rating=4.0)),
)  # fmt: skip
EXTRA_MESSAGES = (
    "hoddie for men",
    "blak jakcet",
    "sweatpnts",
    "wtach for women",
    "yoga pnts",
    "I'm looking for a lightweight waterproof jacket for hiking in the rain, maybe in blue",
)


@dataclass(frozen=True)
class TimedRequest:
    label: str
    request: SearchRequest


def request_mix() -> list[TimedRequest]:
    """The fixed requests, built once against the Luma shop so every catalog gets the same."""
    from benchmarks.relevance import luma_catalog
    from catalog.db import session_scope
    from catalog.query import request_from_message
    from nlu_models.entities import extract_entities
    from nlu_models.vocabulary import build_vocabulary

    messages = [q.text for q in load_queries(QUERIES_FILE)] + list(EXTRA_MESSAGES)
    with luma_catalog() as url, session_scope(url) as session:
        vocabulary = build_vocabulary(session)
    mix = [
        TimedRequest(m, request_from_message(m, list(extract_entities(m, vocabulary)), limit=LIMIT))
        for m in messages
    ]
    mix += [TimedRequest(label, SearchRequest(filters=f, limit=LIMIT)) for label, f in FILTER_ONLY]
    mix.append(
        TimedRequest(
            "classifier only: Men/Tops/Jackets 0.9",
            SearchRequest(category_scores=(("Men/Tops/Jackets", 0.9),), limit=LIMIT),
        )
    )
    return mix


def _product_count(url: str) -> int:
    from catalog.db import session_scope
    from catalog.models import Product

    with session_scope(url) as session:
        return int(session.scalar(select(func.count(Product.id))) or 0)


def grow(url: str, size: int, seed: int) -> float:
    """Top the catalog up to `size` products (Luma first, then synthetic); seconds it took."""
    from benchmarks.synthetic_catalog import generate
    from catalog.db import engine_for, session_scope
    from catalog.luma import import_luma
    from catalog.search_index import refresh_search
    from catalog.settings import LUMA_DATA_DIR

    started = time.perf_counter()
    if _product_count(url) == 0:
        print("  importing the Luma shop", flush=True)
        with session_scope(url) as session:
            import_luma(session, LUMA_DATA_DIR)
            refresh_search(session)
    missing = size - _product_count(url)
    if missing < 0:
        raise ValueError(f"the catalog already has more than {size} products")
    with session_scope(url) as session:
        generate(session, missing, seed + size, lambda line: print(f"  {line}", flush=True))
    if url.startswith("postgresql"):
        with engine_for(url).connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return time.perf_counter() - started


def measure(url: str, mix: list[TimedRequest], repeats: int) -> dict[str, Any]:
    """Warm-up pass, then `repeats` timed passes over the mix; times in milliseconds."""
    from catalog.db import engine_for
    from catalog.search import search

    make_session = sessionmaker(engine_for(url))
    times: dict[str, list[float]] = {timed.label: [] for timed in mix}
    empty = 0
    for passed in range(repeats + 1):
        for timed in mix:
            with make_session() as session:
                started = time.perf_counter()
                result = search(session, timed.request)
                elapsed = (time.perf_counter() - started) * 1000
                session.rollback()
            if passed:
                times[timed.label].append(elapsed)
            elif not result.hits:
                empty += 1
        print(f"  pass {passed}/{repeats}{' (warm-up)' if not passed else ''}", flush=True)
    every = [t for values in times.values() for t in values]
    by_median = sorted(times.items(), key=lambda item: -statistics.median(item[1]))
    return {
        "requests": len(mix),
        "calls": len(every),
        "requests_without_hits": empty,
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(measured_percentile(every, 95), 2),
        "max_ms": round(max(every), 2),
        "mean_ms": round(statistics.fmean(every), 2),
        "slowest": [
            {"request": label, "median_ms": round(statistics.median(values), 2)}
            for label, values in by_median[:SLOWEST_SHOWN]
        ],
    }


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="shopdesk-latency-") as folder:
        yield f"sqlite:///{Path(folder) / 'catalog.sqlite3'}"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh schema on the server, dropped afterwards; OperationalError if unreachable."""
    schema = f"shopdesk_latency_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{server_url}?options=-csearch_path%3D{schema},public"
        try:
            yield url
        finally:
            from catalog.db import engine_for

            engine_for(url).dispose()  # close the pool before the schema goes
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def server_version(url: str) -> str:
    from catalog.db import engine_for

    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    with engine_for(url).connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar()).split()[0]


def run_backend(
    backend: str, args: argparse.Namespace, mix: list[TimedRequest], result: dict[str, Any]
) -> None:
    from catalog.db import migrate

    database = sqlite_database() if backend == "sqlite" else postgres_database(args.postgres_url)
    try:
        with database as url:
            migrate(url)
            version = server_version(url)
            if backend == "postgresql":
                version = f"PostgreSQL {version}"
            for size in sorted(args.sizes):
                print(f"== {backend}, {size:,} products", flush=True)
                build = grow(url, size, args.seed)
                row = {"backend": backend, "version": version, "products": size,
                       "build_seconds": round(build, 1)}  # fmt: skip
                row |= measure(url, mix, args.repeats)
                result["runs"].append(row)
                print(f"  p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms", flush=True)
                save(result, args.output)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        print(f"== {backend} skipped: {reason}", flush=True)
        result["skipped"].append({"backend": backend, "reason": reason})


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Search latency",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']}, with:",
        "",
        f"    {result['command']}",
        "",
        "Wall time of one `catalog.search.search` call (ten results), each in a fresh session, "
        f"over {result['requests']} fixed requests: the labelled queries of "
        "benchmarks/relevance_queries.yml as the bot builds them, filter-only requests, typos "
        f"and a long message; one warm-up pass, then {result['repeats']} timed passes. "
        "Catalogs above Luma's 191 products are topped up with **synthetic** products "
        "(benchmarks/synthetic_catalog.py: SKUs SYN-…, recombined from Luma's). "
        "Aim: p95 ≤ 20 ms at 100,000 products on SQLite.",
        "",
        "| backend | products | p50 (ms) | p95 (ms) | max (ms) | mean (ms) | calls "
        "| build + index (s) | slowest requests (median ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["runs"]:
        slowest = "; ".join(f"{s['request']} ({s['median_ms']})" for s in row["slowest"][:3])
        lines.append(
            f"| {row['version']} | {row['products']:,} | {row['p50_ms']} | {row['p95_ms']} "
            f"| {row['max_ms']} | {row['mean_ms']} | {row['calls']} | {row['build_seconds']} "
            f"| {slowest} |"
        )
    for skipped in result["skipped"]:
        lines.append(f"| {skipped['backend']} | – | skipped: {skipped['reason']} |||||||")
    if result.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def save(result: dict[str, Any], output: str) -> None:
    result["peak_rss_mib"] = peak_rss_mib()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{output}.md").write_text(markdown(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.search_latency",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=__doc__.split("\n\n")[2] if __doc__ else None,
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="catalog sizes, in products"
    )
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="databases"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the mix")
    parser.add_argument("--seed", type=int, default=13, help="of the synthetic products")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="the server to use")
    parser.add_argument("--output", default="search-latency", help="name of the result files")
    parser.add_argument("--note", action="append", default=[], help="a remark under the table")
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.sizes) < 1:
        parser.error("--repeats and --sizes must be positive")

    print("building the request mix from the Luma shop", flush=True)
    mix = request_mix()
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.search_latency "
        + " ".join(without_notes(argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "requests": len(mix),
        "repeats": args.repeats,
        "runs": [],
        "skipped": [],
        "notes": args.note,
    }
    for backend in args.backends:
        run_backend(backend, args, mix, result)
    save(result, args.output)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
