"""The full-text index of the catalog and the ranking signals kept beside it.

SQLite: an FTS5 table (`product_search`, porter stemming) with four text columns weighted at
query time, a `facets` column of filter tokens (in-stock colour and size, gender, category,
attribute) so that filters are matched by the index itself, and the product id unindexed.
Its rowid is the product's place among best sellers, so "the first 200 matches in rowid
order" are the 200 best-selling matches, found without sorting or scoring thousands
(catalog/search.py). PostgreSQL: a weighted `tsvector` per product (name A,
categories B, keywords C, description D) under a GIN index. Both get `search_words`, the
index's vocabulary, which typo correction matches against. Importers call `reindex` and
`refresh_product_stats` inside their transaction, so the index never disagrees with the
catalog a shopper can see.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from catalog.listing import listed
from catalog.models import (
    Category,
    OrderLine,
    Product,
    ProductAttribute,
    Review,
    SearchWord,
    Variant,
    product_categories,
)
from catalog.statuses import ReviewStatus

WORD = re.compile(r"[a-z0-9]+")
MIN_WORD_LENGTH = 3
BATCH = 2000
FLAG_VALUES = {"yes", "1", "true"}


@dataclass(frozen=True)
class SearchDocument:
    product_id: int
    name: str
    categories: str
    keywords: str
    description: str
    facets: str

    def words(self) -> tuple[set[str], set[str]]:
        """(all its words, those in the name, categories or keywords)."""
        title = " ".join((self.name, self.categories, self.keywords)).lower()
        title_words = {w for w in WORD.findall(title) if len(w) >= MIN_WORD_LENGTH}
        other = {w for w in WORD.findall(self.description.lower()) if len(w) >= MIN_WORD_LENGTH}
        return title_words | other, title_words


_NOT_TOKEN = re.compile(r"[^a-z0-9]+")


def facet(kind: str, *values: str | int) -> str:
    """A filter value as one index token: facet('cs', 'Black', 'XS') → 'csblackqxsz9'.

    Only letters and digits survive the tokenizer, 'q' joins the parts, and the 'z9' ending
    keeps the porter stemmer from changing the token.
    """
    parts = [_NOT_TOKEN.sub("", str(value).lower()) for value in values]
    return kind + "q".join(parts) + "z9"


def _attribute_words(name: str, value: str) -> str:
    """'material'='Cotton' → 'Cotton'; a yes/no flag 'eco_collection'='Yes' → 'eco collection'."""
    if value.lower() in FLAG_VALUES:
        return name.replace("_", " ")
    return value.replace("|", " ")


def build_documents(
    session: Session, product_ids: Collection[int] | None = None
) -> list[SearchDocument]:
    """One document per listed product, best sellers first, read with flat queries (fast at
    100,000 products); only those of `product_ids` when given (a sync's few: at most a few
    thousand, as each is a bound value)."""
    ids = None if product_ids is None else sorted(product_ids)
    categories: dict[int, list[str]] = defaultdict(list)
    facets: dict[int, set[str]] = defaultdict(set)
    linked = select(product_categories.c.product_id, Category.id, Category.path).join(
        Category, Category.id == product_categories.c.category_id
    )
    if ids is not None:
        linked = linked.where(product_categories.c.product_id.in_(ids))
    for product_id, category_id, path in session.execute(linked):
        categories[product_id].append(path.replace("/", " "))
        facets[product_id].add(facet("cat", category_id))
    keywords: dict[int, set[str]] = defaultdict(set)
    stock = select(Variant.product_id, Variant.color, Variant.size, Variant.qty)
    if ids is not None:
        stock = stock.where(Variant.product_id.in_(ids))
    for product_id, color, size, qty in session.execute(stock):
        if color:
            keywords[product_id].add(str(color))
        if qty > 0:
            if color:
                facets[product_id].add(facet("c", color))
            if size:
                facets[product_id].add(facet("s", size))
            if color and size:
                facets[product_id].add(facet("cs", color, size))
    described = select(ProductAttribute.product_id, ProductAttribute.name, ProductAttribute.value)
    if ids is not None:
        described = described.where(ProductAttribute.product_id.in_(ids))
    for product_id, name, value in session.execute(described):
        keywords[product_id].add(_attribute_words(name, value))
        facets[product_id].add(facet("a", name, value))
    documents = []
    # Discontinued products are out of the index and of its vocabulary (catalog/listing.py).
    for product_id, name, description, gender, brand, rating in session.execute(
        select(
            Product.id, Product.name, Product.description, Product.gender, Product.brand,
            Product.rating_avg,
        )
        .where(listed(), *([Product.id.in_(ids)] if ids is not None else []))
        .order_by(Product.units_sold.desc(), Product.review_count.desc(), Product.id.desc())
    ):  # fmt: skip
        extra = [word for word in (gender, brand) if word]
        facets[product_id].add(facet("g", gender or "none"))
        # "rated 4+": one token per whole star reached (4.3 → r1 … r4).
        facets[product_id].update(facet("r", star) for star in range(1, int(rating or 0) + 1))
        documents.append(
            SearchDocument(
                product_id=product_id,
                name=name,
                categories=" ".join(sorted(categories[product_id])),  # same for any plan
                keywords=" ".join(extra + sorted(keywords[product_id])),
                description=description,
                facets=" ".join(sorted(facets[product_id])),
            )
        )
    return documents


def _chunks(documents: list[SearchDocument]) -> Iterable[list[SearchDocument]]:
    for start in range(0, len(documents), BATCH):
        yield documents[start : start + BATCH]


def _write_sqlite(session: Session, documents: list[SearchDocument]) -> None:
    session.execute(text("DELETE FROM product_search"))
    statement = text(
        "INSERT INTO product_search "
        "(rowid, name, categories, keywords, description, facets, product_id) "
        "VALUES (:slot, :name, :categories, :keywords, :description, :facets, :product_id)"
    )
    for start, chunk in enumerate(_chunks(documents)):
        session.execute(
            statement,
            [{**vars(d), "slot": start * BATCH + n + 1} for n, d in enumerate(chunk)],
        )


def _write_postgresql(session: Session, documents: list[SearchDocument]) -> None:
    session.execute(text("DELETE FROM product_search"))
    statement = text(
        "INSERT INTO product_search (product_id, document) VALUES (:product_id, "
        "setweight(to_tsvector('english', :name), 'A') || "
        "setweight(to_tsvector('english', :categories), 'B') || "
        "setweight(to_tsvector('english', :keywords), 'C') || "
        "setweight(to_tsvector('english', :description), 'D'))"
    )
    for chunk in _chunks(documents):
        session.execute(
            statement, [{k: v for k, v in vars(d).items() if k != "facets"} for d in chunk]
        )


def reindex(session: Session) -> int:
    """Rebuild the whole index and its vocabulary; returns the number of products indexed."""
    session.flush()
    documents = build_documents(session)
    if session.get_bind().dialect.name == "postgresql":
        _write_postgresql(session, documents)
    else:
        _write_sqlite(session, documents)
    counts: Counter[str] = Counter()
    title_counts: Counter[str] = Counter()
    for document in documents:
        words, title_words = document.words()
        counts.update(words)
        title_counts.update(title_words)
    session.execute(delete(SearchWord))
    rows = [
        {"word": word, "products": n, "title_products": title_counts[word]}
        for word, n in counts.items()
        if len(word) <= 64
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(SearchWord), rows[start : start + BATCH])
    return len(documents)


def refresh_product_stats(session: Session) -> None:
    """Average rating, number of reviews and units sold, as ranking reads them.

    Reviews awaiting moderation do not count."""
    session.flush()
    published = (Review.product_id == Product.id) & (Review.status == ReviewStatus.APPROVED)
    session.execute(
        update(Product)
        .values(
            rating_avg=select(func.avg(Review.rating)).where(published).scalar_subquery(),
            review_count=select(func.count(Review.id)).where(published).scalar_subquery(),
            units_sold=select(func.coalesce(func.sum(OrderLine.qty), 0))
            .where(OrderLine.product_id == Product.id)
            .scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def refresh_search(session: Session) -> int:
    """Ranking signals, then the index built from them (best-seller order and rating facets
    read the signals, so the order matters); returns the number of products indexed."""
    refresh_product_stats(session)
    return reindex(session)
