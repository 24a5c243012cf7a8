"""Recommendations from the catalog alone: similar products, the merchandiser's links, what is
bought together, what suits a known customer, and what sells best.

Similarity is the cosine of the stored product embeddings (`catalog.embeddings`); a product
without a vector (not embedded yet) has no similar products. Everything here answers with
Product objects and leaves the wording to the caller.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from catalog.embeddings import Vectors, load_vectors
from catalog.listing import listed
from catalog.models import Order, OrderLine, Product, ProductLink, Variant, product_categories

LINK_KINDS = ("related", "upsell", "crosssell")
MAX_BOUND_IDS = 1000
GENDERED = frozenset({"Men", "Women"})
# recommend_for_customer: a cosine is about 0.2 (unrelated) to 0.9 (same kind of product);
# these move a candidate by about one "kind of product".
TOGETHER_WEIGHT = 0.3  # bought together by others, scaled by how often
CATEGORY_WEIGHT = 0.1  # shares a category with something they bought
GENDER_PENALTY = 0.5  # for the other gender than the one they buy for


def product_by_sku(session: Session, sku: str) -> Product | None:
    """The product with this SKU, or the product of the variant with it."""
    product = session.scalars(select(Product).where(Product.sku == sku)).one_or_none()
    if product is None:
        product = session.scalars(
            select(Product).join(Variant).where(Variant.sku == sku)
        ).one_or_none()
    return product


def _in_stock(session: Session, ids: Collection[int]) -> set[int]:
    """Which of `ids` have stock; a long list reads them all (databases cap bound values)."""
    query = select(Variant.product_id).where(Variant.qty > 0).distinct()
    if len(ids) <= MAX_BOUND_IDS:
        query = query.where(Variant.product_id.in_(list(ids)))
    return set(session.scalars(query))


def _products(session: Session, ids: Sequence[int], *, listed_only: bool = True) -> list[Product]:
    """The products with these ids, in this order, with what the caller shows loaded; only
    those still sold unless `listed_only` is False (what a customer bought, discontinued or
    not, still says what they like)."""
    query = (
        select(Product)
        .where(Product.id.in_(ids))
        .options(selectinload(Product.variants), selectinload(Product.categories))
    )
    if listed_only:
        query = query.where(listed())
    loaded = {p.id: p for p in session.scalars(query)}
    return [loaded[i] for i in ids if i in loaded]


def _best(session: Session, scores: dict[int, float], limit: int) -> list[Product]:
    """Highest scores first, but every product in stock before any with no stock at all;
    discontinued products never (their vectors are gone, but bought-together counts and a
    stale vector cache of another process may still name them)."""
    gone = _discontinued(session, scores)
    stocked = _in_stock(session, scores)
    ranked = sorted(
        (i for i in scores if i not in gone), key=lambda i: (i not in stocked, -scores[i], i)
    )
    return _products(session, ranked[:limit])


def _discontinued(session: Session, ids: Collection[int]) -> set[int]:
    """Which of `ids` are discontinued; a long list reads them all, as `_in_stock` does."""
    query = select(Product.id).where(Product.discontinued_at.is_not(None))
    if len(ids) <= MAX_BOUND_IDS:
        query = query.where(Product.id.in_(list(ids)))
    return set(session.scalars(query))


def _cosines(vector: Vectors, ids: list[int], matrix: Vectors) -> dict[int, float]:
    return dict(zip(ids, (matrix @ vector).tolist(), strict=True))


def similar_products(
    session: Session, sku: str, limit: int = 5, within_ids: Collection[int] | None = None
) -> list[Product]:
    """The products most like `sku` by their text, itself left out; `within_ids` restricts the
    candidates (e.g. to those matching "for running" in "like this but for running")."""
    product = product_by_sku(session, sku)
    if product is None:
        return []
    ids, matrix = load_vectors(session)
    row = {product_id: n for n, product_id in enumerate(ids)}.get(product.id)
    if row is None:
        return []
    scores = _cosines(matrix[row], ids, matrix)
    del scores[product.id]
    if within_ids is not None:
        allowed = set(within_ids)
        scores = {i: s for i, s in scores.items() if i in allowed}
    return _best(session, scores, limit)


def linked_products(
    session: Session, sku: str, kinds: Sequence[str] = LINK_KINDS, limit: int = 5
) -> list[tuple[str, Product]]:
    """The merchandiser's links of `sku` as (kind, product), in their position order."""
    product = product_by_sku(session, sku)
    if product is None or not kinds:
        return []
    kind_order = case({kind: n for n, kind in enumerate(kinds)}, value=ProductLink.kind)
    rows = session.execute(
        select(ProductLink.kind, ProductLink.linked_product_id)
        .join(Product, Product.id == ProductLink.linked_product_id)
        .where(ProductLink.product_id == product.id, ProductLink.kind.in_(kinds), listed())
        .order_by(ProductLink.position, kind_order, ProductLink.linked_product_id)
        .limit(limit)
    ).all()
    products = {p.id: p for p in _products(session, [pid for _, pid in rows])}
    return [(kind, products[pid]) for kind, pid in rows if pid in products]


def _together_counts(session: Session, product_ids: Collection[int]) -> dict[int, int]:
    """Other products in the orders holding any of `product_ids`: in how many orders each."""
    mine = aliased(OrderLine)
    other = aliased(OrderLine)
    query = (
        select(other.product_id, func.count(func.distinct(other.order_id)))
        .join(mine, mine.order_id == other.order_id)
        .where(
            mine.product_id.in_(list(product_ids)),
            other.product_id.is_not(None),
            other.product_id.not_in(list(product_ids)),
        )
        .group_by(other.product_id)
    )
    return {pid: int(n) for pid, n in session.execute(query).tuples() if pid is not None}


def bought_together(session: Session, sku: str, limit: int = 5) -> list[tuple[Product, int]]:
    """Products ordered together with `sku`, with the number of orders they share, most first."""
    product = product_by_sku(session, sku)
    if product is None:
        return []
    counts = _together_counts(session, [product.id])
    gone = _discontinued(session, counts)
    ranked = sorted((i for i in counts if i not in gone), key=lambda i: (-counts[i], i))[:limit]
    return [(p, counts[p.id]) for p in _products(session, ranked)]


def recommend_for_customer(session: Session, customer_id: int, limit: int = 5) -> list[Product]:
    """Products for a known customer from their own orders; [] when they have none.

    Candidates are scored by likeness to the mean of what they bought, plus how often others
    bought them together with it, plus a shared category, minus the other gender than the one
    they shop for; what they already bought is left out.
    """
    bought = session.scalars(
        select(OrderLine.product_id)
        .join(Order)
        .where(Order.customer_id == customer_id, OrderLine.product_id.is_not(None))
        .distinct()
    )
    history = _products(
        session, sorted(pid for pid in bought if pid is not None), listed_only=False
    )
    if not history:
        return []
    owned = {p.id for p in history}

    scores: dict[int, float] = {}
    ids, matrix = load_vectors(session)
    rows = [n for n, product_id in enumerate(ids) if product_id in owned]
    if rows:
        mean = matrix[rows].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        if norm > 0:
            scores = _cosines(mean / norm, ids, matrix)
    together = _together_counts(session, owned)
    if together:
        most = math.log1p(max(together.values()))
        for pid, n in together.items():
            scores[pid] = scores.get(pid, 0.0) + TOGETHER_WEIGHT * math.log1p(n) / most
    for pid in owned:
        scores.pop(pid, None)
    if not scores:
        return []

    genders = {p.gender for p in history if p.gender in GENDERED}
    categories = {c.id for p in history for c in p.categories}
    if genders:
        others = GENDERED - genders
        for pid in session.scalars(select(Product.id).where(Product.gender.in_(others))):
            if pid in scores:
                scores[pid] -= GENDER_PENALTY
    in_category = session.scalars(
        select(product_categories.c.product_id)
        .where(product_categories.c.category_id.in_(categories))
        .distinct()
    )
    for pid in in_category:
        if pid in scores:
            scores[pid] += CATEGORY_WEIGHT
    return _best(session, scores, limit)


def popular_products(session: Session, limit: int = 5, gender: str | None = None) -> list[Product]:
    """Best sellers, then the best and most reviewed; `gender` keeps that gender's products and
    those for everyone (unisex or not gendered)."""
    query = (
        select(Product.id)
        .where(listed())
        .order_by(
            Product.units_sold.desc(),
            (func.coalesce(Product.rating_avg, 0.0) * Product.review_count).desc(),
            Product.id,
        )
    )
    if gender is not None:
        query = query.where(
            (Product.gender == gender) | Product.gender.is_(None) | Product.gender.not_in(GENDERED)
        )
    return _products(session, list(session.scalars(query.limit(limit))))
