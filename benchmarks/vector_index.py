"""Measures nearest-product lookups: the numpy scan against each database's vector index.

`python -m benchmarks.vector_index` fills a temporary catalog with N SYNTHETIC products whose
vectors are random unit vectors of the real dimension (384, all-MiniLM-L6-v2), for each N of
--sizes, and asks each way of finding the nearest products (`catalog.vector_index`) the same
queries: the numpy scan (the "before"), sqlite-vec on SQLite and, when the PostgreSQL server
has the `vector` extension, pgvector's HNSW index (the "after"). It writes
benchmarks/results/vector-index.{json,md} (named by --output): per size and index the time to
make it usable (load or build), its memory or file size, p50/p95 query latency (medians of
--repeats runs) and recall@10 against the exact scan.

Products lie in clusters (kinds) and queries are stored vectors with noise, so each has true
neighbours, as a shopper's query has products that fit it. Random vectors are a harder case
for an approximate index than real product texts: pgvector's recall here is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, create_engine, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from benchmarks.measure import add_note_option, machine, say, without_notes
from catalog.embeddings import Vectors, default_model_path, model_name
from core.paths import PROJECT_ROOT
from core.stats import measured_percentile

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
DIMENSION = 384
DEFAULT_SIZES = (1_000, 10_000, 100_000)
NEAREST = 64  # what semantic search asks for first (catalog.semantic.FIRST_K)
RECALL_AT = 10
# Products lie around PRODUCTS_PER_KIND-sized clusters ("kinds"), as real product texts do;
# a product is its kind's direction plus noise of this norm, a query a product plus QUERY_NOISE.
PRODUCTS_PER_KIND = 200
PRODUCT_NOISE, QUERY_NOISE = 0.8, 0.5
BATCH = 5_000
DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/test"


def unit_vectors(count: int, rng: np.random.Generator) -> Vectors:
    matrix = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def _plus_noise(matrix: Vectors, norm: float, rng: np.random.Generator) -> Vectors:
    noise = unit_vectors(len(matrix), rng) * np.float32(norm)
    noisy = matrix + noise
    return cast(Vectors, noisy / np.linalg.norm(noisy, axis=1, keepdims=True))


def product_vectors(count: int, rng: np.random.Generator) -> Vectors:
    """`count` random unit vectors in clusters of about PRODUCTS_PER_KIND."""
    kinds = unit_vectors(max(1, count // PRODUCTS_PER_KIND), rng)
    return _plus_noise(kinds[rng.integers(0, len(kinds), size=count)], PRODUCT_NOISE, rng)


def queries_near(matrix: Vectors, count: int, rng: np.random.Generator) -> Vectors:
    """Stored vectors with noise: each query has true neighbours, like a shopper's."""
    return _plus_noise(matrix[rng.integers(0, len(matrix), size=count)], QUERY_NOISE, rng)


def fill(session: Session, matrix: Vectors) -> None:
    """SYNTHETIC products (sku SYNV-…, source "synthetic") with `matrix` as their vectors."""
    from catalog.models import Product, ProductEmbedding

    products, embeddings = cast(Table, Product.__table__), cast(Table, ProductEmbedding.__table__)
    model = model_name(default_model_path())
    for start in range(0, len(matrix), BATCH):
        rows = range(start, min(start + BATCH, len(matrix)))
        session.execute(
            insert(products),
            [
                {
                    "id": n + 1, "sku": f"SYNV-{n + 1:07d}", "name": f"Synthetic product {n + 1}",
                    "description": "", "price_cents": 1000 + n % 9000, "currency": "USD",
                    "url_key": f"synthetic-{n + 1}", "source": "synthetic",
                    "review_count": 0, "units_sold": 0,
                }
                for n in rows
            ],
        )  # fmt: skip
        session.execute(
            insert(embeddings),
            [
                {
                    "product_id": n + 1,
                    "model": model,
                    "text_hash": "synthetic",
                    "vector": np.asarray(matrix[n], dtype="<f4").tobytes(),
                }
                for n in rows
            ],
        )


def exact_top(matrix: Vectors, query: Vectors, k: int) -> set[int]:
    scores = matrix @ query
    return {int(i) + 1 for i in np.argpartition(-scores, k - 1)[:k]}


def measure_index(
    url: str, kind: str, matrix: Vectors, queries: Vectors, repeats: int
) -> dict[str, Any]:
    """Open (load or build) the index of `kind` on a catalog, then time each query."""
    from catalog import vector_index
    from catalog.db import session_scope
    from catalog.embeddings import clear_vector_cache

    vector_index.clear()
    clear_vector_cache()
    with session_scope(url) as session:
        started = time.perf_counter()
        index = vector_index.index_for(session, kind=kind, wait=True)
        ready_s = time.perf_counter() - started
        if index is None or index.kind != kind:
            return {"available": False}
        recalls = []
        for query in queries[: min(len(queries), 50)]:
            found = {n.product_id for n in index.nearest(query, RECALL_AT)}
            recalls.append(len(found & exact_top(matrix, query, RECALL_AT)) / RECALL_AT)
        runs: list[list[float]] = []
        for _ in range(repeats):
            times = []
            for query in queries:
                started = time.perf_counter()
                index.nearest(query, NEAREST)
                times.append((time.perf_counter() - started) * 1000)
            runs.append(times)
    result: dict[str, Any] = {
        "available": True,
        "ready_s": round(ready_s, 2),
        "p50_ms": round(statistics.median(measured_percentile(t, 50) for t in runs), 2),
        "p95_ms": round(statistics.median(measured_percentile(t, 95) for t in runs), 2),
        f"recall_at_{RECALL_AT}": round(statistics.fmean(recalls), 3),
    }
    if kind == vector_index.SCAN:
        result["memory_mib"] = round(matrix.nbytes / 2**20, 1)
    elif kind == vector_index.SQLITE_VEC:
        path = Path(url.removeprefix("sqlite:///") + vector_index.SQLITE_SUFFIX)
        result["file_mib"] = round(path.stat().st_size / 2**20, 1)
    return result


@contextmanager
def sqlite_catalog(matrix: Vectors) -> Iterator[str]:
    from catalog.db import engine_for, migrate, session_scope

    with tempfile.TemporaryDirectory(prefix="shopdesk-vectors-") as folder:
        url = f"sqlite:///{Path(folder) / 'catalog.sqlite3'}"
        migrate(url)
        with session_scope(url) as session:
            fill(session, matrix)
        try:
            yield url
        finally:
            engine_for(url).dispose()


@contextmanager
def postgres_catalog(server: str, matrix: Vectors) -> Iterator[str | None]:
    """A fresh schema on the server with the catalog, dropped afterwards; None if the server
    cannot be reached."""
    from catalog.db import engine_for, migrate, session_scope

    schema = f"shopdesk_vectors_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        yield None
        return
    url = f"{server}?options=-csearch_path%3D{schema},public"
    try:
        migrate(url)
        with session_scope(url) as session:
            fill(session, matrix)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pgvector_on(url: str) -> bool:
    from catalog.db import session_scope
    from catalog.vector_index import pgvector_available

    with session_scope(url) as session:
        return pgvector_available(session)


def run(
    sizes: list[int],
    query_count: int,
    repeats: int,
    postgres: str | None,
    progress: Callable[[str], None] = say,
) -> list[dict[str, Any]]:
    from catalog.vector_index import PGVECTOR, SCAN, SQLITE_VEC

    rows: list[dict[str, Any]] = []
    for size in sizes:
        rng = np.random.default_rng(size)
        matrix = product_vectors(size, rng)
        queries = queries_near(matrix, query_count, rng)
        progress(f"{size:,} synthetic vectors: SQLite")
        with sqlite_catalog(matrix) as url:
            for kind in (SCAN, SQLITE_VEC):
                found = measure_index(url, kind, matrix, queries, repeats)
                rows.append({"products": size, "backend": "sqlite", "index": kind, **found})
                progress(f"  sqlite {kind}: {found}")
        if postgres is None:
            continue
        progress(f"{size:,} synthetic vectors: PostgreSQL")
        with postgres_catalog(postgres, matrix) as url:
            if url is None:
                progress(f"  PostgreSQL is not reachable at {postgres}: left out")
                postgres = None
                continue
            kinds = [SCAN] + ([PGVECTOR] if pgvector_on(url) else [])
            for kind in kinds:
                found = measure_index(url, kind, matrix, queries, repeats)
                rows.append({"products": size, "backend": "postgresql", "index": kind, **found})
                progress(f"  postgresql {kind}: {found}")
            if PGVECTOR not in kinds:
                rows.append(
                    {"products": size, "backend": "postgresql", "index": PGVECTOR,
                     "available": False}
                )  # fmt: skip
    return rows


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Vector index: nearest products, scan against index",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, with:",
        "",
        f"    {result['command']}",
        "",
        f"**Synthetic data**: N random unit vectors of dimension {DIMENSION} (the real model's), "
        f"in clusters of about {PRODUCTS_PER_KIND} (kinds of product: a random direction plus "
        f"noise of norm {PRODUCT_NOISE}), stored as `product_embeddings` of N synthetic "
        f"products; {result['queries']} queries, each a stored vector plus noise of norm "
        f"{QUERY_NOISE}, so that it has true neighbours. Each query "
        f"asks for the {NEAREST} nearest, as semantic search's first round does. p50/p95: "
        f"medians over {result['repeats']} runs of the per-run percentiles. recall@{RECALL_AT}: "
        "share of the exact ten nearest found. Ready: loading the vectors into memory (scan) or "
        "building the index from the stored vectors.",
        "",
        "| products | backend | index | ready (s) | memory / file (MiB) | p50 (ms) | p95 (ms) "
        f"| recall@{RECALL_AT} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        if not row.get("available"):
            lines.append(
                f"| {row['products']:,} | {row['backend']} | {row['index']} | not available "
                "| | | | |"
            )
            continue
        size = row.get("memory_mib", row.get("file_mib", ""))
        lines.append(
            f"| {row['products']:,} | {row['backend']} | {row['index']} | {row['ready_s']} "
            f"| {size} | {row['p50_ms']} | {row['p95_ms']} | {row[f'recall_at_{RECALL_AT}']} |"
        )
    lines += ["", *[f"- {note}" for note in result.get("notes", [])]]
    return "\n".join(lines).rstrip() + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vector_index",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        epilog=__doc__.split("\n\n")[2] if __doc__ else None,
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated catalog sizes (default: %(default)s)",
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per size")
    parser.add_argument("--repeats", type=int, default=3, help="runs of all queries per index")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SHOPDESK_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="the server for the PostgreSQL rows (default: %(default)s)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--output", default="vector-index", help="name of the result files")
    add_note_option(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if not sizes or min(sizes) < RECALL_AT or args.queries < 1 or args.repeats < 1:
            raise ValueError
    except ValueError:
        parser.exit(2, f"{parser.prog}: error: sizes must be whole numbers ≥ {RECALL_AT}\n")
    rows = run(sizes, args.queries, args.repeats, None if args.no_postgres else args.postgres_url)
    result = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.vector_index "
        + " ".join(without_notes(argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "synthetic": True,
        "dimension": DIMENSION,
        "queries": args.queries,
        "repeats": args.repeats,
        "nearest": NEAREST,
        "rows": rows,
        "notes": args.note,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(result))
    say(f"wrote {RESULTS / args.output}.{{json,md}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
