"""The full-text index and its vocabulary updated for a few products, not rebuilt.

`search_index.reindex` rebuilds everything: about half a minute at 100,000 products, most of
a sync's time when 1 % of them changed. A sync (catalog/sync.py) instead takes the documents
of the products it will touch *before* it writes (`documents_before`), and afterwards
replaces just those (`reindex_products`): their rows in `product_search` and their share of
the word counts in `search_words`, so typo correction and "descriptive" detection agree with
the index.

On SQLite the index's rowid is a product's place among best sellers (catalog/search.py reads
candidates in rowid order). A changed product keeps its place; a new or relisted one goes to
the end, after every product it ties with on sales or not. That is the place of a new product
(nothing sold yet) up to the order among products with no sales; a relisted best seller is
placed after them until the next full rebuild (every import, `refresh_search`), so a sync
relisting products with sales rebuilds in full (`needs_full_rebuild`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Final

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from catalog.models import Product, SearchWord
from catalog.search_index import BATCH, SearchDocument, build_documents

# Beyond this share of the catalog touched, one full rebuild is as quick and simpler.
INCREMENTAL_MAX_SHARE: Final = 0.1
ID_CHUNK: Final = 1000  # product ids per build_documents call (bound values)
MAX_WORD_LENGTH: Final = 64  # search_words.word


def documents_of(session: Session, product_ids: Collection[int]) -> list[SearchDocument]:
    """The index documents of these (listed) products as the catalog holds them now."""
    ids = sorted(product_ids)
    found: list[SearchDocument] = []
    for start in range(0, len(ids), ID_CHUNK):
        found += build_documents(session, ids[start : start + ID_CHUNK])
    return found


def needs_full_rebuild(session: Session, touched: int, relisted_ids: Sequence[int]) -> bool:
    """Whether the sync should rebuild the whole index: much of the catalog touched, or a
    relisted product with sales (its best-seller place matters)."""
    indexed = session.scalar(select(func.count()).select_from(Product)) or 0
    if touched > INCREMENTAL_MAX_SHARE * indexed:
        return True
    for start in range(0, len(relisted_ids), ID_CHUNK):
        chunk = relisted_ids[start : start + ID_CHUNK]
        sold = select(func.count()).where(Product.id.in_(chunk), Product.units_sold > 0)
        if session.scalar(sold):
            return True
    return False


def _word_counts(documents: Iterable[SearchDocument]) -> tuple[Counter[str], Counter[str]]:
    counts: Counter[str] = Counter()
    title_counts: Counter[str] = Counter()
    for document in documents:
        words, title_words = document.words()
        counts.update(w for w in words if len(w) <= MAX_WORD_LENGTH)
        title_counts.update(w for w in title_words if len(w) <= MAX_WORD_LENGTH)
    return counts, title_counts


def _update_words(
    session: Session, before: Sequence[SearchDocument], after: Sequence[SearchDocument]
) -> None:
    """`search_words` as a full rebuild would leave it: the old documents' words counted out,
    the new ones' in, words in no document any more removed."""
    old, old_title = _word_counts(before)
    new, new_title = _word_counts(after)
    delta = Counter(new)
    delta.subtract(old)
    title_delta = Counter(new_title)
    title_delta.subtract(old_title)
    words = sorted(w for w in set(delta) | set(title_delta) if delta[w] or title_delta[w])
    stored: dict[str, tuple[int, int]] = {}
    for start in range(0, len(words), BATCH):
        chunk = words[start : start + BATCH]
        rows = session.execute(
            select(SearchWord.word, SearchWord.products, SearchWord.title_products).where(
                SearchWord.word.in_(chunk)
            )
        )
        stored.update((word, (products, titles)) for word, products, titles in rows)
    inserts, updates, gone = [], [], []
    for word in words:
        products, titles = stored.get(word, (0, 0))
        products, titles = products + delta[word], titles + title_delta[word]
        if products <= 0:
            if word in stored:
                gone.append(word)
        elif word in stored:
            updates.append({"word": word, "products": products, "title_products": max(0, titles)})
        else:
            inserts.append({"word": word, "products": products, "title_products": max(0, titles)})
    for start in range(0, len(gone), BATCH):
        session.execute(delete(SearchWord).where(SearchWord.word.in_(gone[start : start + BATCH])))
    if updates:  # by primary key (the word), in one executemany
        session.execute(update(SearchWord), updates)
    for start in range(0, len(inserts), BATCH):
        session.execute(insert(SearchWord), inserts[start : start + BATCH])


def _replace_sqlite(session: Session, ids: list[int], after: Sequence[SearchDocument]) -> None:
    # Above every slot now, before the deletes: a changed product keeps its own.
    last = int(session.scalar(text("SELECT coalesce(max(rowid), 0) FROM product_search")) or 0)
    slots: dict[int, int] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        found = session.execute(
            text(
                "SELECT rowid, product_id FROM product_search WHERE product_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": chunk},
        )
        slots.update((int(product_id), int(rowid)) for rowid, product_id in found)
    for start in range(0, len(ids), ID_CHUNK):
        rowids = [slots[i] for i in ids[start : start + ID_CHUNK] if i in slots]
        if rowids:
            session.execute(
                text("DELETE FROM product_search WHERE rowid IN :rowids").bindparams(
                    bindparam("rowids", expanding=True)
                ),
                {"rowids": rowids},
            )
    rows = []
    for document in after:  # best sellers first: new ones keep that order at the end
        slot = slots.get(document.product_id)
        if slot is None:
            last += 1
            slot = last
        rows.append({**vars(document), "slot": slot})
    statement = text(
        "INSERT INTO product_search "
        "(rowid, name, categories, keywords, description, facets, product_id) "
        "VALUES (:slot, :name, :categories, :keywords, :description, :facets, :product_id)"
    )
    for start in range(0, len(rows), BATCH):
        session.execute(statement, rows[start : start + BATCH])


def _replace_postgresql(session: Session, ids: list[int], after: Sequence[SearchDocument]) -> None:
    for start in range(0, len(ids), ID_CHUNK):
        session.execute(
            text("DELETE FROM product_search WHERE product_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids[start : start + ID_CHUNK]},
        )
    statement = text(
        "INSERT INTO product_search (product_id, document) VALUES (:product_id, "
        "setweight(to_tsvector('english', :name), 'A') || "
        "setweight(to_tsvector('english', :categories), 'B') || "
        "setweight(to_tsvector('english', :keywords), 'C') || "
        "setweight(to_tsvector('english', :description), 'D'))"
    )
    rows = [{k: v for k, v in vars(d).items() if k != "facets"} for d in after]
    for start in range(0, len(rows), BATCH):
        session.execute(statement, rows[start : start + BATCH])


def reindex_products(
    session: Session, before: Sequence[SearchDocument], product_ids: Collection[int]
) -> int:
    """Replace the index rows and word counts of `product_ids` (changed, new, discontinued,
    relisted), given their documents `before` the change; returns the number of products
    the index holds now."""
    session.flush()
    ids = sorted(set(product_ids))
    after = documents_of(session, ids)
    if session.get_bind().dialect.name == "postgresql":
        _replace_postgresql(session, ids, after)
    else:
        _replace_sqlite(session, ids, after)
    _update_words(session, before, after)
    return int(session.scalar(text("SELECT count(*) FROM product_search")) or 0)
