"""Product search: full-text relevance, filters, synonyms, typo correction and recovery.

A request is words plus filters. The words go to the database's full-text index (FTS5 with
BM25 on SQLite, a weighted tsvector with ts_rank_cd on PostgreSQL), each word widened by its
synonyms; the filters become SQL conditions on the same query. Up to `CANDIDATES` matches are
then re-ranked here by text relevance, the category classifier's belief about what kind of
product the shopper wants, and rating and sales. When nothing matches, the search recovers
step by step (any word instead of all, then dropping filters in `RELAX_ORDER`, then the
predicted category alone) and says what it relaxed, so the shopper hears why.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from catalog import semantic
from catalog.listing import listed
from catalog.merchant_feed import LINK_ATTRIBUTE
from catalog.models import Category, Product, ProductAttribute, Variant
from catalog.models import product_categories as product_category_table
from catalog.pricing import effective_price, in_price_order
from catalog.search_index import facet
from catalog.spelling import corrected_terms
from catalog.synonyms import synonyms_of
from catalog.terms import TOKEN, query_terms

CANDIDATES = 100
TOP_UP_STEPS = 2
# The index table of catalog/search_index.py; its columns differ by dialect, these are the keys.
SEARCH_TABLE = table("product_search", column("rowid"), column("product_id"))
# Relevance weights: name, categories, keywords (colours, attributes, gender), description.
# name, categories, keywords, description; the facets and product id columns count for nothing.
SQLITE_COLUMN_WEIGHTS = (10.0, 5.0, 2.5, 1.0, 0.0, 0.0)
POSTGRES_WEIGHTS = "{0.1, 0.25, 0.5, 1.0}"  # D, C, B, A as ts_rank_cd wants them
TEXT_WEIGHT, CATEGORY_WEIGHT, RATING_WEIGHT, POPULARITY_WEIGHT = 1.0, 1.0, 0.1, 0.1
# The cosine of the query's and the product's sentence vectors (catalog/semantic.py).
SEMANTIC_WEIGHT = 1.0
RELAX_ORDER = (
    "size", "color", "price_max_cents", "price_min_cents", "attributes", "min_rating",
    "gender", "category",
)  # fmt: skip
FILTER_LABELS = {
    "size": "size", "color": "colour", "price_max_cents": "maximum price",
    "price_min_cents": "minimum price", "attributes": "features", "min_rating": "rating",
    "gender": "men/women", "category": "category", "words": "some of your words",
}  # fmt: skip


@dataclass(frozen=True)
class SearchFilters:
    """Conditions every result meets. Colour and size mean a variant in stock with them.

    Values are the catalog's own ("Black", "XS", ("material", "Wool")), as the entity
    vocabulary gives them; exact comparison lets the database use its indexes.
    """

    category: str | None = None  # a path ("Men/Tops/Jackets") or a name ("Jackets")
    gender: str | None = None  # "Men" or "Women"; unisex and ungendered products match both
    color: str | None = None
    size: str | None = None
    price_min_cents: int | None = None
    price_max_cents: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (name, value): ("activity", "Running")
    min_rating: float | None = None

    def active(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) not in (None, ())]

    def without(self, name: str) -> SearchFilters:
        cleared: dict[str, Any] = {name: () if name == "attributes" else None}
        return replace(self, **cleared)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, only the filters that are set (what a conversation slot stores)."""
        values = {name: getattr(self, name) for name in self.active()}
        if "attributes" in values:
            values["attributes"] = [list(pair) for pair in self.attributes]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SearchFilters:
        known = {f.name for f in fields(cls)}
        clean = {key: value for key, value in values.items() if key in known}
        if "attributes" in clean:
            clean["attributes"] = tuple(tuple(pair) for pair in clean["attributes"])
        return cls(**clean)


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    # The category classifier's top predictions: (category path, probability).
    category_scores: tuple[tuple[str, float], ...] = ()
    limit: int = 5
    offset: int = 0
    exclude_skus: tuple[str, ...] = ()
    # Filters recovery must not drop: what the shopper has just asked to change ("cheaper").
    keep: tuple[str, ...] = ()
    # How the matches are ordered: by relevance, or by price for "cheapest" / "most expensive".
    order: str = "relevance"
    # The kinds of product the shopper named (the shop's category names, "Hoodies &
    # Sweatshirts"): not a filter, as a "rain jacket" may be filed elsewhere, but what every
    # product shown must be, or say it is not (catalog/constraints.py).
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductHit:
    id: int
    sku: str
    name: str
    price_cents: int  # what the shopper pays today
    regular_price_cents: int
    currency: str
    url_key: str
    image: str | None
    rating: float | None
    review_count: int
    in_stock: bool
    colors: tuple[str, ...]  # in stock
    sizes: tuple[str, ...]  # in stock
    categories: tuple[str, ...]
    score: float
    # False for a close match shown after the exact ones: it misses a filter or a word.
    exact: bool = True
    gender: str | None = None  # "Men", "Women", "Unisex" or None (bags, watches)
    # What this product breaks of the shopper's request, as the shopper reads it
    # ("$56.00, over your $50.00"); set by catalog/constraints.py, empty when it fits.
    misses: tuple[str, ...] = ()
    # The product's own page as its feed gives it (the `link` attribute: a Shopify or
    # WooCommerce URL); None when the catalog has none and the shop's URL pattern is used.
    url: str | None = None


class Candidate(NamedTuple):
    """A match with everything ranking needs, read by the query that found it."""

    id: int
    text: float  # text relevance, higher is better
    category: float  # the classifier's probability for the product's category
    rating_avg: float | None
    review_count: int
    units_sold: int
    semantic: float = 0.0  # cosine of query and product vectors; 0 without vectors


@dataclass(frozen=True)
class SearchResult:
    hits: list[ProductHit]
    total: int  # matches found (at most CANDIDATES), for "show more"
    relaxed: tuple[str, ...] = ()  # what was dropped to find anything: filter names, "words"
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, searched instead)
    terms: tuple[str, ...] = ()  # the words searched, after corrections


def _category_ids(session: Session, wanted: str) -> list[int]:
    """A path and everything under it; a bare name matches that name at any depth."""
    rows = session.execute(select(Category.id, Category.path)).all()
    lowered = wanted.lower().strip("/")
    roots = [
        path.lower()
        for _, path in rows
        if path.lower() == lowered or path.lower().endswith("/" + lowered)
    ]
    return [
        category_id
        for category_id, path in rows
        if any(path.lower() == root or path.lower().startswith(root + "/") for root in roots)
    ]


def _gender_price_and_rating(filters: SearchFilters, today: date) -> list[ColumnElement[bool]]:
    """The filters checked on the product row itself. Gender is one of them even on SQLite:
    it keeps most products, so a facet would merge long lists of the index for little."""
    conditions: list[ColumnElement[bool]] = []
    if filters.gender:
        conditions.append(
            or_(Product.gender.in_([filters.gender, "Unisex"]), Product.gender.is_(None))
        )
    price = effective_price(today)
    if filters.price_min_cents is not None:
        conditions.append(price >= filters.price_min_cents)
    if filters.price_max_cents is not None:
        conditions.append(price <= filters.price_max_cents)
    if filters.min_rating is not None:
        conditions.append(Product.rating_avg >= filters.min_rating)
    return conditions


def _filter_conditions(
    session: Session, filters: SearchFilters, today: date
) -> list[ColumnElement[bool]]:
    conditions = _gender_price_and_rating(filters, today)
    if filters.category:
        ids = _category_ids(session, filters.category)
        conditions.append(
            exists().where(
                product_category_table.c.product_id == Product.id,
                product_category_table.c.category_id.in_(ids or [-1]),
            )
        )
    if filters.color or filters.size:
        variant = [Variant.product_id == Product.id, Variant.qty > 0]
        if filters.color:
            variant.append(Variant.color == filters.color)
        if filters.size:
            variant.append(Variant.size == filters.size)
        conditions.append(exists().where(*variant))
    for name, value in filters.attributes:
        conditions.append(
            exists().where(
                ProductAttribute.product_id == Product.id,
                ProductAttribute.name == name,
                ProductAttribute.value == value,
            )
        )
    return conditions


def _category_boost(
    session: Session, scores: tuple[tuple[str, float], ...]
) -> ColumnElement[float]:
    """SQL for the classifier's probability of a product's category (0 if none predicted)."""
    if not scores:
        return literal_column("0.0", Float)
    whens = [
        (product_category_table.c.category_id.in_(_category_ids(session, path) or [-1]), p)
        for path, p in scores
    ]
    best = (
        select(func.max(case(*whens, else_=0.0)))
        .where(product_category_table.c.product_id == Product.id)
        .scalar_subquery()
    )
    return func.coalesce(best, 0.0)


def _signals(boost: ColumnElement[float]) -> tuple[Any, ...]:
    return (boost, Product.rating_avg, Product.review_count, Product.units_sold)


def _as_candidates(rows: Sequence[Any]) -> list[Candidate]:
    return [
        Candidate(int(r[0]), float(r[1]), float(r[2] or 0.0), r[3], int(r[4]), int(r[5]))
        for r in rows
    ]


def _fts5_phrase(term: str) -> str:
    return '"' + " ".join(TOKEN.findall(term.lower())) + '"'


def _facet_clauses(session: Session, filters: SearchFilters) -> list[str] | None:
    """FTS5 clauses for the filters the SQLite index holds as facet tokens; None when a
    filter cannot match anything (an unknown category)."""
    clauses = []
    if filters.category:
        ids = _category_ids(session, filters.category)
        if not ids:
            return None
        clauses.append("(" + " OR ".join(facet("cat", i) for i in ids) + ")")
    if filters.color and filters.size:
        clauses.append(facet("cs", filters.color, filters.size))
    elif filters.color:
        clauses.append(facet("c", filters.color))
    elif filters.size:
        clauses.append(facet("s", filters.size))
    clauses += [facet("a", name, value) for name, value in filters.attributes]
    if filters.min_rating is not None and filters.min_rating >= 1:
        # whole stars here; the exact threshold is also checked in SQL
        clauses.append(facet("r", min(5, int(filters.min_rating))))
    return [f"facets : {clause}" for clause in clauses]


def _text_clause_sqlite(groups: list[tuple[str, ...]], attempt: Attempt) -> str:
    joiner = " OR " if attempt.any_word else " AND "
    scope = "" if attempt.in_description else "{name categories keywords} : "
    return (
        "("
        + joiner.join(
            f"{scope}(" + " OR ".join(_fts5_phrase(word) for word in group) + ")"
            for group in groups
        )
        + ")"
    )


def _candidates_sqlite(
    session: Session,
    groups: list[tuple[str, ...]],
    attempt: Attempt,
    extra: list[ColumnElement[bool]],
    boost: ColumnElement[float],
) -> list[Candidate] | None:
    """Words and filters matched by the FTS5 index in best-seller order (its rowid), scored
    only for the rows returned; None if the index cannot express this request."""
    facets = _facet_clauses(session, attempt.filters)
    if facets is None:
        return []
    parts = ([_text_clause_sqlite(groups, attempt)] if groups else []) + facets
    if not parts:
        return None
    weights = ", ".join(str(w) for w in SQLITE_COLUMN_WEIGHTS)
    # BM25 is negative, better is lower; negated here so that higher is better everywhere.
    rank: ColumnElement[float] = (
        literal_column(f"-bm25(product_search, {weights})")
        if groups
        else literal_column("1.0", Float)
    )
    match = literal_column("product_search").op("MATCH")(
        bindparam("fts_query", " AND ".join(parts))
    )
    rows = session.execute(
        select(Product.id, rank, *_signals(boost))
        .select_from(Product)
        .join(SEARCH_TABLE, SEARCH_TABLE.c.product_id == Product.id)
        .where(match, *extra)
        .order_by(SEARCH_TABLE.c.rowid)
        .limit(CANDIDATES)
    ).all()
    return _as_candidates(rows)


def _text_match_postgresql(
    groups: list[tuple[str, ...]], attempt: Attempt
) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    def tsquery(word: str) -> ColumnElement[Any]:
        return func.plainto_tsquery(literal_column("'english'"), word)

    parts = []
    for group in groups:
        alternatives = tsquery(group[0])
        for word in group[1:]:
            alternatives = alternatives.op("||")(tsquery(word))
        parts.append(alternatives)
    query = parts[0]
    for part in parts[1:]:
        query = query.op("||" if attempt.any_word else "&&")(part)
    document: ColumnElement[Any] = literal_column("product_search.document")
    condition: ColumnElement[bool] = document.op("@@")(query)
    if not attempt.in_description:
        # The index finds candidates; ts_filter then keeps those matching outside the
        # description (weights A-C).
        strict = func.ts_filter(document, literal_column("'{a,b,c}'::\"char\"[]"))
        condition = and_(condition, strict.op("@@")(query))
    rank = func.ts_rank_cd(literal_column(f"'{POSTGRES_WEIGHTS}'::real[]"), document, query)
    return condition, rank


def _candidates(
    session: Session,
    groups: list[tuple[str, ...]],
    attempt: Attempt,
    exclude: Sequence[str],
    today: date,
    boost: ColumnElement[float],
) -> list[Candidate]:
    """(product id, text relevance) of up to CANDIDATES matches, best text match first.

    Scoring text relevance costs the database per matching product, and a common word
    ("tee") matches thousands at 100,000 products. So matches are taken in best-seller
    order, without scoring, up to CANDIDATES, and only those are scored. When fewer match,
    this is every match; when more do, the best sellers among them are ranked.
    """
    # Discontinued products are out of every list a shopper sees (catalog/listing.py).
    excluded: list[ColumnElement[bool]] = [listed()]
    if exclude:
        excluded.append(Product.sku.not_in(exclude))
    if session.get_bind().dialect.name == "sqlite":
        found = _candidates_sqlite(
            session,
            groups,
            attempt,
            _gender_price_and_rating(attempt.filters, today) + excluded,
            boost,
        )
        if found is not None:
            return found
    conditions = _filter_conditions(session, attempt.filters, today) + excluded
    popularity = (Product.units_sold.desc(), Product.review_count.desc(), Product.id.desc())
    if not groups:
        rows = session.execute(
            select(Product.id, literal_column("1.0", Float), *_signals(boost))
            .where(*conditions)
            .order_by(*popularity)
            .limit(CANDIDATES)
        ).all()
        return _as_candidates(rows)
    condition, rank = _text_match_postgresql(groups, attempt)
    key = SEARCH_TABLE.c.product_id
    matching = (
        select(Product.id).select_from(Product).join(SEARCH_TABLE, key == Product.id)
    ).where(condition, *conditions)
    ids = list(session.scalars(matching.order_by(*popularity).limit(CANDIDATES)))
    if not ids:
        return []
    scored = session.execute(
        select(Product.id, rank, *_signals(boost))
        .select_from(Product)
        .join(SEARCH_TABLE, key == Product.id)
        .where(condition, Product.id.in_(ids))
    ).all()
    return _as_candidates(scored)


def _bayesian_rating(average: float | None, count: int) -> float:
    """0..1; a few reviews move a product only a little away from an average 3 stars."""
    prior_weight, prior = 2.0, 3.0
    return ((average or 0.0) * count + prior * prior_weight) / (count + prior_weight) / 5.0


def _rank(candidates: list[Candidate]) -> list[tuple[int, float]]:
    """(product id, score), best first: text, category belief, rating and sales combined."""
    best_text = max((c.text for c in candidates), default=0.0) or 1.0
    most_sold = max((c.units_sold for c in candidates), default=0)
    scored = []
    for c in candidates:
        popularity = math.log1p(c.units_sold) / math.log1p(most_sold) if most_sold else 0.0
        score = (
            TEXT_WEIGHT * (c.text / best_text)
            + CATEGORY_WEIGHT * c.category
            + RATING_WEIGHT * _bayesian_rating(c.rating_avg, c.review_count)
            + POPULARITY_WEIGHT * popularity
            + SEMANTIC_WEIGHT * c.semantic
        )
        scored.append((c.id, score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored


def product_hits(
    session: Session, ranked: Sequence[tuple[int, float]], today: date | None = None
) -> list[ProductHit]:
    """Display data of products by id, in the given order (three flat queries, no ORM load)."""
    today = today or date.today()
    ids = [product_id for product_id, _ in ranked]
    price = effective_price(today)
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Product.id, Product.sku, Product.name, price.label("price"),
                Product.price_cents, Product.currency, Product.url_key, Product.image,
                Product.rating_avg, Product.review_count, Product.gender,
            ).where(Product.id.in_(ids))
        )
    }  # fmt: skip
    stock: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
    for product_id, color, size in session.execute(
        select(Variant.product_id, Variant.color, Variant.size)
        .where(Variant.product_id.in_(ids), Variant.qty > 0)
        .order_by(Variant.id)
    ):
        stock[product_id].append((color, size))
    paths: dict[int, list[str]] = defaultdict(list)
    for product_id, path in session.execute(
        select(product_category_table.c.product_id, Category.path)
        .join(Category, Category.id == product_category_table.c.category_id)
        .where(product_category_table.c.product_id.in_(ids))
    ):
        paths[product_id].append(path)
    links: dict[int, str] = {
        product_id: link
        for product_id, link in session.execute(
            select(ProductAttribute.product_id, ProductAttribute.value).where(
                ProductAttribute.product_id.in_(ids), ProductAttribute.name == LINK_ATTRIBUTE
            )
        )
    }
    hits = []
    for product_id, score in ranked:
        row = rows.get(product_id)
        if row is None:
            continue
        in_stock = stock[product_id]
        hits.append(
            ProductHit(
                id=row.id,
                sku=row.sku,
                name=row.name,
                price_cents=int(row.price),
                regular_price_cents=row.price_cents,
                currency=row.currency,
                url_key=row.url_key,
                image=row.image,
                rating=row.rating_avg,
                review_count=row.review_count,
                in_stock=bool(in_stock),
                colors=tuple(sorted({color for color, _ in in_stock if color})),
                sizes=tuple(dict.fromkeys(size for _, size in in_stock if size)),
                categories=tuple(sorted(paths[product_id])),
                score=round(score, 4),
                gender=row.gender,
                url=links.get(product_id),
            )
        )
    return hits


def hits_for_skus(
    session: Session, skus: Sequence[str], today: date | None = None
) -> list[ProductHit]:
    """Display data of products by SKU, in the given order; unknown SKUs are left out."""
    if not skus:
        return []
    ids = {
        sku: product_id
        for sku, product_id in session.execute(
            select(Product.sku, Product.id).where(Product.sku.in_(skus))
        )
    }
    return product_hits(session, [(ids[sku], 0.0) for sku in skus if sku in ids], today)


@dataclass(frozen=True)
class Attempt:
    """One try of the recovery ladder."""

    filters: SearchFilters
    relaxed: tuple[str, ...]  # what this try gave up, as reported to the shopper
    any_word: bool = False  # any of the words, instead of all of them
    in_description: bool = False  # words may match in the description only


def _attempts(
    groups: list[tuple[str, ...]], filters: SearchFilters, keep: tuple[str, ...] = ()
) -> list[Attempt]:
    """The tries in the order recovery makes them.

    Words must first match a product's name, categories or attributes: a jacket whose
    description mentions a hoodie is not a hoodie. Filters are relaxed before words: "yoga
    pants in XS" had better show yoga pants in other sizes than XS things that are not pants.
    Matching the description, and then any single word, come last.
    """
    relaxations: list[tuple[SearchFilters, tuple[str, ...]]] = [(filters, ())]
    for name in RELAX_ORDER:
        if name in relaxations[-1][0].active() and name not in keep:
            current, relaxed = relaxations[-1]
            relaxations.append((current.without(name), (*relaxed, name)))
    attempts = [Attempt(current, relaxed) for current, relaxed in relaxations]
    if groups:
        attempts += [Attempt(f, r, in_description=True) for f, r in relaxations]
    if len(groups) > 1:
        for in_description in (False, True):
            attempts += [
                Attempt(f, (*r, "words"), any_word=True, in_description=in_description)
                for f, r in relaxations
            ]
    return attempts


def _hybrid(
    session: Session,
    meaning: semantic.SemanticQuery | None,
    attempt: Attempt,
    found: list[Candidate],
    request: SearchRequest,
    today: date,
    boost: ColumnElement[float],
) -> list[Candidate]:
    """`found` with each product's semantic similarity to the query, plus the products nearest
    the query when it is descriptive or its words matched nowhere but in descriptions. Those
    meet the same filter conditions as `attempt`'s full-text matches (catalog/semantic.py)."""
    if meaning is None:
        return found
    cosines = meaning.similarities(session, [c.id for c in found])
    merged = {c.id: c._replace(semantic=cosines.get(c.id, 0.0)) for c in found}
    # Only where every filter still holds, so that products found by meaning never stop the
    # ladder at a step that gave a filter up ("swetshirt large" in gray found shorts in other
    # colours before the words found gray hoodies).
    unrelaxed = attempt.filters == request.filters
    if meaning.source and unrelaxed and (meaning.descriptive or attempt.in_description):
        excluded = [listed()]
        if request.exclude_skus:
            excluded.append(Product.sku.not_in(request.exclude_skus))
        conditions = _filter_conditions(session, attempt.filters, today) + excluded
        near = {
            n.product_id: n.similarity
            for n in meaning.candidates(session, conditions)
            if n.product_id not in merged
        }
        if near:
            rows = session.execute(
                select(Product.id, literal_column("0.0", Float), *_signals(boost)).where(
                    Product.id.in_(list(near))
                )
            ).all()
            merged |= {c.id: c._replace(semantic=near[c.id]) for c in _as_candidates(rows)}
    return list(merged.values())


def search(session: Session, request: SearchRequest, today: date | None = None) -> SearchResult:
    """The best `limit` products for the request from `offset` on, with how they were found."""
    today = today or date.today()
    terms, corrections = corrected_terms(session, query_terms(request.text))
    groups = [synonyms_of(term) for term in terms]
    if not groups and not request.filters.active() and not request.category_scores:
        return SearchResult(hits=[], total=0)
    ladder = _attempts(groups, request.filters, request.keep)
    boost = _category_boost(session, request.category_scores)
    meaning = semantic.for_query(session, request.text, terms)
    relaxed: tuple[str, ...] = ()
    ranked: list[tuple[int, float]] = []
    step = 0
    while step < len(ladder) and not ranked:
        attempt = ladder[step]
        found = _candidates(session, groups, attempt, request.exclude_skus, today, boost)
        candidates = _hybrid(session, meaning, attempt, found, request, today, boost)
        relaxed, ranked = attempt.relaxed, _rank(candidates)
        if candidates and not found and "words" not in relaxed:
            relaxed = (*relaxed, "words")  # found by meaning alone: not by the shopper's words
        step += 1
    if not ranked:
        candidates, relaxed = _by_predicted_category(session, request, today, boost)
        ranked = _rank(candidates)
    ranked = in_price_order(session, ranked, request.order, today)
    exact = len(ranked)
    wanted = request.offset + request.limit
    # Few exact matches: the next steps of the ladder that keep every filter of the step that
    # found them (the words in descriptions, never fewer words) add close matches after them,
    # marked as such. A step with fewer filters would break what the shopper asked for
    # without saying so. Two steps at most, to bound the time a search takes.
    found_with = ladder[step - 1].filters if 0 < step <= len(ladder) else None
    close_steps = [
        a for a in ladder[step:] if groups and not a.any_word and a.filters == found_with
    ][:TOP_UP_STEPS]
    for attempt in close_steps:
        if len(ranked) >= wanted:
            break
        seen = {product_id for product_id, _ in ranked}
        more = _candidates(session, groups, attempt, request.exclude_skus, today, boost)
        more = _hybrid(session, meaning, attempt, more, request, today, boost)
        ranked += in_price_order(
            session, _rank([c for c in more if c.id not in seen]), request.order, today
        )
    page = ranked[request.offset : request.offset + request.limit]
    hits = [
        hit if request.offset + n < exact else replace(hit, exact=False)
        for n, hit in enumerate(product_hits(session, page, today))
    ]
    return SearchResult(
        hits=hits,
        total=len(ranked),
        relaxed=relaxed,
        corrections=tuple(corrections),
        terms=tuple(terms),
    )


def strict_matches(session: Session, text: str, limit: int = 1) -> int:
    """How many products (up to `limit`) have every word of `text`, or an equivalent, in
    their name, categories or attributes: whether the shop carries such a thing at all."""
    groups = [synonyms_of(term) for term in query_terms(text)]
    if not groups:
        return 0
    nothing = literal_column("0.0", Float)
    attempt = Attempt(SearchFilters(), ())
    candidates = _candidates(session, groups, attempt, (), date.today(), nothing)
    return min(limit, len(candidates))


def _by_predicted_category(
    session: Session, request: SearchRequest, today: date, boost: ColumnElement[float]
) -> tuple[list[Candidate], tuple[str, ...]]:
    """Last resort: the kind of product the classifier thinks the shopper means."""
    confident = [path for path, probability in request.category_scores if probability >= 0.5]
    if not confident:
        return [], ()
    filters = SearchFilters(category=confident[0], gender=request.filters.gender)
    candidates = _candidates(session, [], Attempt(filters, ()), request.exclude_skus, today, boost)
    return candidates, ("words",)
