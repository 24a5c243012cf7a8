"""Measures a catalog sync of a 1 % change in a 100,000-product shop (issue 20, part 3).

`python -m benchmarks.catalog_sync` makes a temporary catalog holding the Luma shop plus
--products SYNTHETIC products (benchmarks/synthetic_catalog.py; source "synthetic"), on SQLite
and, when it is reachable, PostgreSQL (a throwaway schema on --postgres-url). Each run then
builds the source as the shop lists it now, with --change of it changed the way a day's feed
changes: 40 % of that changed (half the prices, half the names), 30 % new products and 30 %
gone, and syncs it (`catalog.sync_run.run_sync`: the one transaction with the upsert, the
discontinued and relisted marks and the search index, and its commit), then embeds the
products it touched, as `python -m catalog.cli sync` does. Runs follow one another on the same
catalog (each a fresh 1 % change of the shop as the previous one left it), and the medians
are written to benchmarks/results/catalog-sync.{json,md} with the machine.

Reading the source is not timed (a feed's parse, a shop's API: not the catalog's work).
Embedding 100,000 products on a CPU takes about an hour, so the synthetic products get
random stand-in vectors stored with the hash of their real text: a sync then re-embeds
exactly what it would in a shop embedded for real (new products and changed names, not
changed prices), with the real model, as `python -m catalog.cli sync` does. The load
average before each run is recorded: on a shared machine it moves the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from benchmarks.measure import add_note_option, machine, peak_rss_mib, say, without_notes
from benchmarks.synthetic_catalog import SOURCE, generate
from catalog.models import (
    Product,
    ProductEmbedding,
)
from catalog.sync import SourceBatch, SyncReport, related_rows
from connectors.products import ProductRecord, VariantRecord
from core.paths import PROJECT_ROOT

RESULTS: Final = PROJECT_ROOT / "benchmarks" / "results"
DEFAULT_PRODUCTS: Final = 100_000
DEFAULT_CHANGE: Final = 0.01
DEFAULT_RUNS: Final = 3
DEFAULT_POSTGRES: Final = "postgresql+psycopg://root@127.0.0.1:5432/test"
# How a 1 % change divides: changed (half prices, half names), new, gone.
CHANGED_SHARE, NEW_SHARE, GONE_SHARE = 0.4, 0.3, 0.3
PRICE_STEP_CENTS: Final = 100
AIM_S: Final = 60.0
FEED: Final = "benchmark-feed"
DIMENSION: Final = 384  # all-MiniLM-L6-v2
VECTOR_BATCH: Final = 2000


def listed_records(session: Session) -> list[ProductRecord]:
    """The synthetic shop's listed products as a source would give them, read flat."""
    of_source = (Product.source == SOURCE) & Product.discontinued_at.is_(None)
    related = related_rows(session.connection(), of_source)
    categories, attributes = related.categories, related.attributes
    images = {pid: [url for url, _ in rows] for pid, rows in related.images.items()}
    variants = {
        pid: [
            VariantRecord(sku=sku, size=size, color=color, qty=qty)
            for sku, size, color, qty in rows
        ]
        for pid, rows in related.variants.items()
    }
    records = []
    for line, p in enumerate(
        session.execute(select(Product).where(of_source).order_by(Product.id)).scalars(), start=1
    ):
        records.append(
            ProductRecord(
                sku=p.sku, name=p.name, price_cents=p.price_cents, file=FEED, line=line,
                description=p.description, currency=p.currency,
                special_price_cents=p.special_price_cents, special_from=p.special_from,
                special_to=p.special_to, url_key=p.url_key, image=p.image,
                images=images.get(p.id, []), categories=categories[p.id], gender=p.gender,
                brand=p.brand, attributes=attributes[p.id], variants=variants.get(p.id, []),
            )
        )  # fmt: skip
    session.expunge_all()
    return records


def changed_source(
    records: list[ProductRecord], share: float, rng: random.Random, run: int
) -> tuple[SourceBatch, dict[str, int]]:
    """The source with `share` of it changed: some prices and names, some new, some gone."""
    total = round(len(records) * share)
    counts = {
        "changed": round(total * CHANGED_SHARE),
        "new": round(total * NEW_SHARE),
        "gone": round(total * GONE_SHARE),
    }
    picked = rng.sample(range(len(records)), counts["changed"] + counts["gone"])
    changed, gone = picked[: counts["changed"]], set(picked[counts["changed"] :])
    out = list(records)
    for n, index in enumerate(changed):
        record = out[index]
        if n % 2:
            out[index] = replace(record, price_cents=record.price_cents + PRICE_STEP_CENTS)
        else:
            out[index] = replace(record, name=f"{record.name} Mk{run}")
    for n, index in enumerate(rng.sample(range(len(records)), counts["new"])):
        template = records[index]
        sku = f"{template.sku}-N{run}-{n}"
        out.append(
            replace(
                template,
                sku=sku,
                name=f"{template.name} Edition {run}",
                url_key=f"{template.url_key}-n{run}-{n}",
                variants=[replace(v, sku=f"{sku}-{k}") for k, v in enumerate(template.variants, 1)],
            )
        )
    kept = [record for index, record in enumerate(out) if index not in gone]
    return SourceBatch(SOURCE, f"{SOURCE} (1 % changed)", kept), counts


def stand_in_vectors(session: Session, dimension: int = DIMENSION) -> int:
    """A random unit vector for every product without one, stored under the real model with
    the hash of the product's real text: embedding 100,000 products on a CPU takes an hour,
    and what a sync re-embeds depends only on the hashes (catalog/embeddings.py)."""
    from catalog.embeddings import default_model_path, model_name, product_text, text_hash

    model = model_name(default_model_path())
    rng = np.random.default_rng(7)
    embedded = select(ProductEmbedding.product_id)
    ids = list(session.scalars(select(Product.id).where(Product.id.not_in(embedded))))
    for start in range(0, len(ids), VECTOR_BATCH):
        chunk = ids[start : start + VECTOR_BATCH]
        products = session.scalars(
            select(Product)
            .where(Product.id.in_(chunk))
            .options(selectinload(Product.categories), selectinload(Product.attributes))
        )
        rows = []
        for product in products:
            vector = rng.standard_normal(dimension).astype("<f4")
            vector /= np.linalg.norm(vector)
            rows.append(
                {
                    "product_id": product.id, "model": model, "revision": 1,
                    "text_hash": text_hash(model, product_text(product)),
                    "vector": vector.tobytes(),
                }
            )  # fmt: skip
        session.execute(insert(ProductEmbedding), rows)
        session.expunge_all()
    return len(ids)


def measure(url: str, products: int, share: float, runs: int, embeddings: bool) -> dict[str, Any]:
    """Fill the catalog, then `runs` syncs of a fresh change each; the medians and each run."""
    from catalog.db import migrate, session_scope
    from catalog.luma import import_luma
    from catalog.settings import LUMA_DATA_DIR
    from catalog.sync_run import SyncOptions, run_sync

    started = time.perf_counter()
    migrate(url)
    with session_scope(url) as session:
        import_luma(session, LUMA_DATA_DIR)
        generate(session, products, progress=say)
    with session_scope(url) as session:
        say(f"  {stand_in_vectors(session):,} stand-in vectors")
    say(f"  filled in {time.perf_counter() - started:.0f} s")
    if embeddings:  # load the model now: its first load is not the sync's work
        from catalog.embeddings import default_model_path, embedder_for

        embedder_for(default_model_path())
    rng = random.Random(20)
    rows: list[dict[str, Any]] = []
    for run in range(1, runs + 1):
        with session_scope(url) as session:
            records = listed_records(session)
        batch, counts = changed_source(records, share, rng, run)
        began = time.perf_counter()
        load = os.getloadavg()[0]
        report: SyncReport = run_sync(url, batch, SyncOptions(embeddings=embeddings))
        total = time.perf_counter() - began
        embed_s = total - report.sync_seconds
        rows.append(
            {
                "run": run, "listed_before": len(records), "asked": counts,
                "added": report.added, "changed": report.changed,
                "unchanged": report.unchanged, "discontinued": len(report.discontinued),
                "relisted": len(report.relisted), "rejected": len(report.rejected),
                "embedded": report.embedded, "embedding_error": report.embedding_error,
                "sync_s": report.sync_seconds,
                "embed_s": round(embed_s, 2), "total_s": round(total, 2),
                "load_average_before": round(load, 2),
            }
        )  # fmt: skip
        say(f"  run {run}: {rows[-1]}")
    return {
        "products": products,
        "runs": rows,
        "median_sync_s": round(statistics.median(r["sync_s"] for r in rows), 2),
        "median_total_s": round(statistics.median(r["total_s"] for r in rows), 2),
        "peak_rss_mib": peak_rss_mib(),
    }


@contextmanager
def sqlite_catalog() -> Iterator[str]:
    from catalog.db import engine_for

    with tempfile.TemporaryDirectory(prefix="shopdesk-sync-") as folder:
        url = f"sqlite:///{Path(folder) / 'catalog.sqlite3'}"
        try:
            yield url
        finally:
            engine_for(url).dispose()


@contextmanager
def postgres_catalog(server: str) -> Iterator[str | None]:
    """A throwaway schema on the server, dropped afterwards; None if it cannot be reached."""
    from catalog.db import engine_for

    schema = f"shopdesk_sync_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    url = f"{server}?options=-csearch_path%3D{schema},public"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# Catalog sync: a 1 % change in a 100,000-product shop",
        "",
        f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, with:",
        "",
        f"    {result['command']}",
        "",
        f"{result['products']:,} SYNTHETIC products plus the Luma shop; each run syncs the shop "
        f"as listed with {result['change']:.0%} of it changed ({CHANGED_SHARE:.0%} of that "
        f"changed prices or names, {NEW_SHARE:.0%} new, {GONE_SHARE:.0%} gone). `sync` is the "
        "one transaction (upsert, discontinued and relisted marks, search index) with its "
        "commit; `total` adds the embeddings of the touched products. Medians of "
        f"{result['runs']} runs; the aim is well under {AIM_S:.0f} s.",
        "",
        "| database | sync (median) | sync + embeddings (median) | added | changed | "
        "discontinued | unchanged | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend in result["backends"]:
        last = backend["runs"][-1]
        lines.append(
            f"| {backend['database']} | {backend['median_sync_s']:.1f} s | "
            f"{backend['median_total_s']:.1f} s | {last['added']} | {last['changed']} | "
            f"{last['discontinued']} | {last['unchanged']:,} | {backend['peak_rss_mib']:.0f} MiB |"
        )
    lines += ["", "Every run:", ""]
    for backend in result["backends"]:
        for run in backend["runs"]:
            lines.append(
                f"- {backend['database']} run {run['run']}: sync {run['sync_s']} s, embeddings "
                f"{run['embed_s']} s ({run['embedded']} products), {run['added']} added, "
                f"{run['changed']} changed, {run['discontinued']} discontinued (load average "
                f"{run['load_average_before']} before)"
            )
    lines += [f"- {note}" for note in result["notes"]]
    lines += [f"- {note}" for note in result["skipped"]]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.catalog_sync",
        description="Time a catalog sync of a small change in a large shop.",
    )
    parser.add_argument(
        "--products", type=int, default=DEFAULT_PRODUCTS,
        help=f"synthetic products in the shop (default {DEFAULT_PRODUCTS:,})",
    )  # fmt: skip
    parser.add_argument("--change", type=float, default=DEFAULT_CHANGE, help="share changed")
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS,
        help=f"syncs per database; the median is reported (default {DEFAULT_RUNS})",
    )  # fmt: skip
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES,
        help="a PostgreSQL database to measure too (a schema of its own is made and dropped)",
    )  # fmt: skip
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--no-embeddings", action="store_true", help="time the sync only")
    parser.add_argument("--output", default="catalog-sync", help="results file name")
    add_note_option(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.products < 1 or not 0 < args.change < 1 or args.runs < 1:
        parser.exit(2, f"{parser.prog}: error: products, runs ≥ 1 and 0 < change < 1\n")
    embeddings = not args.no_embeddings
    backends: list[dict[str, Any]] = []
    skipped: list[str] = []
    say(f"SQLite, {args.products:,} products")
    with sqlite_catalog() as url:
        backends.append(
            {"database": "sqlite"} | measure(url, args.products, args.change, args.runs, embeddings)
        )
    if not args.no_postgres:
        with postgres_catalog(args.postgres_url) as url:
            if url is None:
                skipped.append(f"PostgreSQL was not reachable at {args.postgres_url}: left out")
            else:
                say(f"PostgreSQL, {args.products:,} products")
                backends.append(
                    {"database": "postgresql"}
                    | measure(url, args.products, args.change, args.runs, embeddings)
                )
    result = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.catalog_sync "
        + " ".join(without_notes(argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "synthetic": True,
        "products": args.products,
        "change": args.change,
        "runs": args.runs,
        "backends": backends,
        "notes": args.note,
        "skipped": skipped,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(result))
    say(f"wrote {RESULTS / args.output}.{{json,md}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
