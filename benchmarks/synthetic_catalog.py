"""SYNTHETIC products for benchmarks only: scales a real catalog up by recombining its parts.

Search latency has to be measured at 10,000 and 100,000 products, and the Luma demo shop has
191. This module makes up more that look like Luma's, so that the full-text index, the
filters and the ranking see realistic words and shapes: each new product copies a real one's
categories, kind of name ("Pullover Hoodie"), colours, sizes, attributes and description
sentences, under an invented brand-like first word and a nearby price. None of it is a real
product: SKUs start with `SYN-` and `source` is "synthetic", so they are easy to find and
delete, and no import or answer should ever mistake them for the shop's.

`python -m benchmarks.synthetic_catalog --products N --database-url URL` adds N of them to
a catalog that already holds the real products, then refreshes the search index.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from catalog.models import Product, ProductAttribute, Variant, product_categories

SKU_PREFIX = "SYN-"
SOURCE = "synthetic"
BATCH = 2000
MAX_VARIANTS = 6
OUT_OF_STOCK = 0.1  # share of synthetic variants with nothing in stock
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_VOWELS = set("aeiouy")

Progress = Callable[[str], None]
PRODUCTS = cast(Table, Product.__table__)
VARIANTS = cast(Table, Variant.__table__)
ATTRIBUTES = cast(Table, ProductAttribute.__table__)


@dataclass(frozen=True)
class Template:
    """A real product, as far as the generator copies it."""

    name_words: tuple[str, ...]
    sentences: tuple[str, ...]
    price_cents: int
    gender: str | None
    category_ids: tuple[int, ...]
    colors: tuple[str | None, ...]
    sizes: tuple[str | None, ...]
    attributes: tuple[tuple[str, str], ...]


def _templates(session: Session) -> list[Template]:
    """Every real (not synthetic) product with what the generator needs of it."""
    categories: dict[int, list[int]] = defaultdict(list)
    for product_id, category_id in session.execute(select(product_categories)):
        categories[product_id].append(category_id)
    colors: dict[int, dict[str | None, None]] = defaultdict(dict)
    sizes: dict[int, dict[str | None, None]] = defaultdict(dict)
    for product_id, size, color in session.execute(
        select(Variant.product_id, Variant.size, Variant.color).order_by(Variant.id)
    ):
        colors[product_id][color] = None
        sizes[product_id][size] = None
    attributes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for product_id, name, value in session.execute(
        select(ProductAttribute.product_id, ProductAttribute.name, ProductAttribute.value)
    ):
        attributes[product_id].append((name, value))
    rows = session.execute(
        select(
            Product.id, Product.name, Product.description, Product.price_cents, Product.gender
        ).where(Product.source != SOURCE)
    )
    return [
        Template(
            name_words=tuple(name.split()),
            sentences=tuple(s for s in _SENTENCE_END.split(description) if s.strip()),
            price_cents=price,
            gender=gender,
            category_ids=tuple(categories[product_id]),
            colors=tuple(colors[product_id]) or (None,),
            sizes=tuple(sizes[product_id]) or (None,),
            attributes=tuple(attributes[product_id]),
        )
        for product_id, name, description, price, gender in rows
    ]


def _brand_words(templates: list[Template], rng: random.Random, count: int) -> list[str]:
    """Invented first words: the front of one real first word joined to the back of another."""
    real = sorted({t.name_words[0] for t in templates if t.name_words[0].isalpha()})
    made: set[str] = set()
    known = {word.lower() for word in real}
    for _ in range(count * 20):
        if len(made) >= count:
            break
        front, back = rng.choice(real), rng.choice(real)
        cut_front = max(2, len(front) // 2)
        cut_back = len(back) // 2
        word = (front[:cut_front] + back[cut_back:].lower()).capitalize()
        if 4 <= len(word) <= 12 and word.lower() not in known and set(word.lower()) & _VOWELS:
            made.add(word)
    return sorted(made)


def _name(template: Template, brand: str, middles: list[str], rng: random.Random) -> str:
    """The brand, then the real name's other words; sometimes another real middle word."""
    rest = list(template.name_words[1:]) or ["Item"]
    if len(rest) >= 2 and middles and rng.random() < 0.5:
        rest[0] = rng.choice(middles)
    return " ".join([brand, *rest])


def _variants(template: Template, rng: random.Random) -> list[tuple[str | None, str | None]]:
    """1 to MAX_VARIANTS (size, colour) pairs drawn from the real product's own."""
    colors = rng.sample(template.colors, k=rng.randint(1, min(3, len(template.colors))))
    pairs = [(size, color) for color in colors for size in template.sizes]
    rng.shuffle(pairs)
    return pairs[: rng.randint(1, min(MAX_VARIANTS, len(pairs)))]


def _price(template: Template, rng: random.Random) -> int:
    """Within 40 % of the real price, ending in .00 or .50 like Luma's."""
    return max(100, round(template.price_cents * rng.uniform(0.6, 1.4) / 50) * 50)


def _description(template: Template, same_kind: list[Template], rng: random.Random) -> str:
    other = rng.choice(same_kind)
    pool = list(template.sentences) + list(other.sentences)
    if not pool:
        return ""
    return " ".join(rng.sample(pool, k=min(len(pool), rng.randint(2, 5))))


def _first_number(session: Session) -> int:
    """The next free SYN- number, so a second run adds products instead of colliding."""
    last = session.scalar(select(func.max(Product.sku)).where(Product.sku.like(f"{SKU_PREFIX}%")))
    return int(last.removeprefix(SKU_PREFIX)) + 1 if last else 1


def generate(
    session: Session,
    n_products: int,
    seed: int = 13,
    progress: Progress = lambda _: None,
    reindex: bool = True,
) -> int:
    """Add `n_products` synthetic products to the catalog; returns how many were added.

    Written with Core bulk inserts in batches of BATCH, then (unless `reindex` is False) the
    ranking statistics and the search index are rebuilt, inside the caller's transaction.
    """
    from catalog.search_index import refresh_search

    if n_products <= 0:
        return 0
    templates = _templates(session)
    if not templates:
        raise ValueError("the catalog has no real products to copy: import the Luma shop first")
    rng = random.Random(seed)
    brands = _brand_words(templates, rng, count=max(50, min(5000, n_products // 20)))
    by_first_category: dict[int, list[Template]] = defaultdict(list)
    for template in templates:
        by_first_category[template.category_ids[0] if template.category_ids else 0].append(template)
    middles: dict[int, list[str]] = {
        key: sorted({t.name_words[1] for t in group if len(t.name_words) >= 3})
        for key, group in by_first_category.items()
    }
    first = _first_number(session)
    started = time.perf_counter()
    for batch_start in range(0, n_products, BATCH):
        count = min(BATCH, n_products - batch_start)
        _insert_batch(session, first + batch_start, count, templates, by_first_category, middles,
                      brands, rng)  # fmt: skip
        done = batch_start + count
        progress(
            f"synthetic products {done:,}/{n_products:,} ({time.perf_counter() - started:.0f} s)"
        )
    if reindex:
        progress("refreshing ranking statistics and rebuilding the search index")
        refresh_search(session)
    progress(f"{n_products:,} synthetic products in {time.perf_counter() - started:.0f} s")
    return n_products


def _insert_batch(
    session: Session,
    first_number: int,
    count: int,
    templates: list[Template],
    by_first_category: dict[int, list[Template]],
    middles: dict[int, list[str]],
    brands: list[str],
    rng: random.Random,
) -> None:
    chosen: list[Template] = []
    products: list[dict[str, Any]] = []
    for number in range(first_number, first_number + count):
        template = rng.choice(templates)
        key = template.category_ids[0] if template.category_ids else 0
        name = _name(template, rng.choice(brands), middles.get(key, []), rng)
        sku = f"{SKU_PREFIX}{number:07d}"
        chosen.append(template)
        products.append(
            {
                "sku": sku,
                "name": name,
                "description": _description(template, by_first_category[key], rng),
                "price_cents": _price(template, rng),
                "currency": "USD",
                "url_key": f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{number}",
                "gender": template.gender,
                "source": SOURCE,
                "review_count": 0,
                "units_sold": 0,
            }
        )
    session.execute(insert(PRODUCTS), products)
    first_sku, last_sku = products[0]["sku"], products[-1]["sku"]
    ids = dict(
        session.execute(
            select(Product.sku, Product.id).where(Product.sku.between(first_sku, last_sku))
        ).all()
    )
    variants: list[dict[str, Any]] = []
    attributes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for product, template in zip(products, chosen, strict=True):
        product_id = ids[product["sku"]]
        for index, (size, color) in enumerate(_variants(template, rng), start=1):
            qty = 0 if rng.random() < OUT_OF_STOCK else rng.randint(1, 200)
            variants.append(
                {"product_id": product_id, "sku": f"{product['sku']}-{index}", "size": size,
                 "color": color, "qty": qty}
            )  # fmt: skip
        kept = rng.sample(template.attributes, k=min(len(template.attributes), rng.randint(2, 8)))
        attributes += [{"product_id": product_id, "name": n, "value": v} for n, v in kept]
        links += [{"product_id": product_id, "category_id": c} for c in template.category_ids]
    for table, rows in ((VARIANTS, variants), (ATTRIBUTES, attributes)):
        if rows:
            session.execute(insert(table), rows)
    if links:
        session.execute(insert(product_categories), links)


def remove(session: Session) -> int:
    """Delete every synthetic product (their variants, attributes and links cascade)."""
    ids = select(Product.id).where(Product.source == SOURCE).scalar_subquery()
    for table in (VARIANTS, ATTRIBUTES, product_categories):
        session.execute(delete(table).where(table.c.product_id.in_(ids)))
    deleted = session.execute(delete(Product).where(Product.source == SOURCE))
    return int(getattr(deleted, "rowcount", 0) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.synthetic_catalog",
        description="Add SYNTHETIC products (SKU SYN-…, source 'synthetic') made from the real "
        "ones already in the catalog, for benchmarks; then rebuild the search index.",
    )
    parser.add_argument("--products", type=int, required=True, help="how many to add")
    parser.add_argument(
        "--database-url",
        help="the catalog (default: SHOPDESK_DATABASE_URL or var/shopdesk.sqlite3); "
        "it must already hold real products, e.g. the Luma shop",
    )
    parser.add_argument(
        "--seed", type=int, default=13, help="the same seed makes the same products"
    )
    parser.add_argument(
        "--remove", action="store_true", help="delete all synthetic products first (and reindex)"
    )
    args = parser.parse_args(argv)

    from catalog.db import migrate, session_scope
    from catalog.search_index import refresh_search
    from catalog.settings import CatalogSettings

    url = args.database_url or CatalogSettings.from_env().database_url
    migrate(url)
    with session_scope(url) as session:
        if args.remove:
            print(f"removed {remove(session):,} synthetic products", flush=True)
            if args.products <= 0:
                refresh_search(session)
        try:
            generate(session, args.products, args.seed, lambda line: print(line, flush=True))
        except ValueError as error:
            parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
