"""Catalog sync: bring a source's products in incrementally, and mark the ones it no longer
lists as discontinued.

An import (catalog/importing.py) only creates and updates by SKU. A sync also knows that a
source lists *every* product it sells now, so a product of that source (`Product.source`)
missing from it has stopped being sold: it is marked discontinued (`Product.discontinued_at`)
and leaves search, recommendations and "more like this" (catalog/listing.py), but is never
deleted, because orders, returns and invoices refer to it. A discontinued product the source
lists again is relisted. Products of other sources are never touched.

Everything is written in the caller's transaction: the upsert, the discontinued and relisted
marks, the vectors of discontinued products and the full-text index, so shoppers see either the
old catalog or the new one. Embeddings of the changed products follow after the commit
(catalog/sync_run.py): they need the model, and a failure there must not undo a good sync.

A safety valve: a sync that would discontinue more than `max_discontinue_share` of the
source's listed products is refused before anything is written (`SyncRefused`), since an empty
or truncated feed looks exactly like a shop that stopped selling everything.

Unchanged products are found from flat queries (no ORM load of 100,000 products): only new
and changed records go through `upsert_products`, in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, delete, select, update
from sqlalchemy.orm import Session

from catalog.importing import ImportReport, Rejection, upsert_products, wanted_state
from catalog.models import (
    Category,
    Product,
    ProductAttribute,
    ProductEmbedding,
    ProductImage,
    Variant,
    product_categories,
)
from catalog.search_delta import documents_of, needs_full_rebuild, reindex_products
from catalog.search_index import reindex
from connectors.products import ProductRecord
from core.clock import utc_now

DEFAULT_MAX_DISCONTINUE_SHARE: Final = 0.5  # of the source's listed products
UPSERT_CHUNK: Final = 2000  # records per upsert_products call (one progress step each)
ID_CHUNK: Final = 500  # ids per IN (...) of the bulk updates
SHOWN_SKUS: Final = 10  # discontinued / relisted SKUs named in the text report

Progress = Callable[[str, int, int], None]
"""(stage, done, total): "compare", "write", "index"; the CLI draws it as a bar."""


def no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


class SyncRefused(Exception):
    """The sync would discontinue too much of the source; nothing was written."""


@dataclass(frozen=True)
class SourceBatch:
    """What one source lists now.

    `source` is the `Product.source` value it owns (only those products can be discontinued
    by it); `label` names it for people ("merchant:feed.tsv", "Django Oscar"). `listed` are
    SKUs the source still lists although their rows were rejected (a bad price is not a
    product gone); the records' own SKUs count without being named here.
    """

    source: str
    label: str
    records: Sequence[ProductRecord]
    rejected: Sequence[Rejection] = ()
    listed: frozenset[str] = frozenset()


@dataclass
class SyncReport:
    """What a sync did (or, for a dry run, would do), for people and for JSON."""

    source: str
    dry_run: bool = False
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    discontinued: list[str] = field(default_factory=list)  # SKUs
    relisted: list[str] = field(default_factory=list)  # SKUs
    rejected: list[Rejection] = field(default_factory=list)
    indexed: int = 0
    embedded: int | None = None  # after the commit; None: not done (dry run, --no-embeddings)
    embedding_error: str | None = None  # the sync stands; the next one embeds what is missing
    touched_ids: list[int] = field(default_factory=list)  # added, changed, relisted: to embed
    sync_seconds: float = 0.0  # reading what is stored to the commit
    seconds: float = 0.0  # with the embeddings

    def summary(self) -> str:
        would = "would be " if self.dry_run else ""
        text = (
            f"{self.source}: {self.added} added, {self.changed} changed, {self.unchanged} "
            f"unchanged, {len(self.discontinued)} {would}discontinued, {len(self.relisted)} "
            f"{would}relisted; {len(self.rejected)} rows rejected"
        )
        if self.embedded is not None:
            text += f"; {self.embedded} embeddings refreshed"
        if self.embedding_error is not None:
            text += f"; embeddings NOT refreshed ({self.embedding_error}), the next sync retries"
        return text + (" (dry run: nothing written)" if self.dry_run else "")

    def lines(self) -> list[str]:
        """The summary, then a few discontinued and relisted SKUs and rejected rows."""
        out = [self.summary()]
        for name, skus in (("discontinued", self.discontinued), ("relisted", self.relisted)):
            if skus:
                more = f" and {len(skus) - SHOWN_SKUS} more" if len(skus) > SHOWN_SKUS else ""
                out.append(f"  {name}: {', '.join(skus[:SHOWN_SKUS])}{more}")
        out += [f"  rejected {rejection}" for rejection in self.rejected[:SHOWN_SKUS]]
        if len(self.rejected) > SHOWN_SKUS:
            out.append(f"  ... and {len(self.rejected) - SHOWN_SKUS} more rejected rows")
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["touched_ids"]
        data["rejected"] = [asdict(r) | {"text": str(r)} for r in self.rejected]
        return data


# --- what is stored, read flat ------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    id: int
    discontinued: bool
    state: tuple[Any, ...]


@dataclass(frozen=True)
class RelatedRows:
    """Categories, variants, attributes and images of many products, by product id."""

    categories: dict[int, list[str]]
    variants: dict[int, list[tuple[Any, ...]]]  # (sku, size, color, qty)
    attributes: dict[int, list[tuple[str, str]]]
    images: dict[int, list[tuple[str, int]]]  # (url, position), in position order


def related_rows(connection: Connection, of_source: ColumnElement[bool]) -> RelatedRows:
    """What `upsert_products` writes beside each product, for the products `of_source`
    selects, read with four flat queries (the ORM would load 100,000 products with four
    relationships each)."""
    categories: dict[int, list[str]] = defaultdict(list)
    for product_id, path in connection.execute(
        select(product_categories.c.product_id, Category.path)
        .join(Category, Category.id == product_categories.c.category_id)
        .join(Product, Product.id == product_categories.c.product_id)
        .where(of_source)
    ):
        categories[product_id].append(path)
    variants: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for product_id, *variant in connection.execute(
        select(Variant.product_id, Variant.sku, Variant.size, Variant.color, Variant.qty)
        .join(Product, Product.id == Variant.product_id)
        .where(of_source)
    ):
        variants[product_id].append(tuple(variant))
    attributes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for product_id, name, value in connection.execute(
        select(ProductAttribute.product_id, ProductAttribute.name, ProductAttribute.value)
        .join(Product, Product.id == ProductAttribute.product_id)
        .where(of_source)
    ):
        attributes[product_id].append((name, value))
    images: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for product_id, url, position in connection.execute(
        select(ProductImage.product_id, ProductImage.url, ProductImage.position)
        .join(Product, Product.id == ProductImage.product_id)
        .where(of_source)
        .order_by(ProductImage.product_id, ProductImage.position)
    ):
        images[product_id].append((url, position))
    return RelatedRows(categories, variants, attributes, images)


def stored_states(session: Session, source: str) -> dict[str, _Stored]:
    """Every product of `source` by SKU, with its state in `wanted_state`'s layout, read with
    five flat queries."""
    of_source = Product.source == source
    connection = session.connection()  # Core rows: no ORM row processing for 500,000 of them
    related = related_rows(connection, of_source)
    categories, variants = related.categories, related.variants
    attributes, images = related.attributes, related.images
    found: dict[str, _Stored] = {}
    for row in connection.execute(
        select(
            Product.id, Product.sku, Product.discontinued_at, Product.name,
            Product.description, Product.price_cents, Product.special_price_cents,
            Product.special_from, Product.special_to, Product.currency, Product.url_key,
            Product.image, Product.gender, Product.brand, Product.source,
        ).where(of_source)
    ):  # fmt: skip
        product_id, sku, discontinued_at, *fields = row
        state = (
            *fields,
            tuple(sorted(categories[product_id])),
            tuple(sorted(variants[product_id])),
            tuple(sorted(attributes[product_id])),
            tuple(images[product_id]),
        )
        found[sku] = _Stored(product_id, discontinued_at is not None, state)
    return found


# --- the sync ------------------------------------------------------------------------------


def _unique_records(batch: SourceBatch, report: SyncReport) -> list[ProductRecord]:
    """The records with a repeated SKU rejected, as `upsert_products` would (it sees only one
    chunk at a time here)."""
    first_line: dict[str, int] = {}
    kept: list[ProductRecord] = []
    for record in batch.records:
        if record.sku in first_line:
            report.rejected.append(
                Rejection(
                    record.file, record.line, "sku",
                    f"{record.sku} appears again (first on line {first_line[record.sku]})",
                )
            )  # fmt: skip
            continue
        first_line[record.sku] = record.line
        kept.append(record)
    return kept


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_share(gone: int, listed: int, max_share: float, label: str) -> None:
    """SyncRefused when `gone` of `listed` products is more than `max_share` of them."""
    if listed and gone / listed > max_share:
        raise SyncRefused(
            f"{label}: the sync would discontinue {gone} of {listed} listed products "
            f"({gone / listed:.0%}, more than the {max_share:.0%} allowed); nothing was "
            "written. An empty or cut-off feed looks like this: check the source, or run "
            "again with --allow-mass-discontinue if the shop really stopped selling them."
        )


def sync_products(
    session: Session,
    batch: SourceBatch,
    *,
    now: datetime | None = None,
    max_discontinue_share: float = DEFAULT_MAX_DISCONTINUE_SHARE,
    allow_mass_discontinue: bool = False,
    progress: Progress = no_progress,
) -> SyncReport:
    """Sync `batch` into the catalog inside the caller's transaction (never commits).

    New and changed products are upserted (`upsert_products`), products of `batch.source`
    that it no longer lists are marked discontinued and lose their vectors, discontinued ones
    it lists again are relisted, and the full-text index is rebuilt. Raises `SyncRefused`,
    before writing anything, when too many would be discontinued.
    """
    now = now or utc_now()
    report = SyncReport(source=batch.label, rejected=list(batch.rejected))
    records = _unique_records(batch, report)
    stored = stored_states(session, batch.source)
    still_listed = batch.listed | {r.sku for r in records}
    gone = sorted(
        sku for sku, s in stored.items() if not s.discontinued and sku not in still_listed
    )
    listed_now = sum(1 for s in stored.values() if not s.discontinued)
    if not allow_mass_discontinue:
        check_share(len(gone), listed_now, max_discontinue_share, batch.label)

    to_write: list[ProductRecord] = []
    relisted_ids: list[int] = []
    for count, record in enumerate(records, start=1):
        known = stored.get(record.sku)
        if known is not None and known.discontinued:
            report.relisted.append(record.sku)
            relisted_ids.append(known.id)
        if known is not None and known.state == wanted_state(record, batch.source):
            report.unchanged += 1
        else:
            to_write.append(record)
        if count % UPSERT_CHUNK == 0 or count == len(records):
            progress("compare", count, len(records))

    gone_ids = [stored[sku].id for sku in gone]
    # The index documents of what will change, as they are now: the index is then updated
    # for these products only (catalog/search_delta.py).
    before = documents_of(session, _existing_ids(session, to_write, stored) + gone_ids)
    written_ids: list[int] = []
    for done, chunk in enumerate(_chunks(to_write, UPSERT_CHUNK), start=1):
        upserted = ImportReport(source=batch.label)
        written = upsert_products(session, chunk, upserted, batch.source)
        report.added += upserted.created
        report.changed += upserted.updated
        report.unchanged += upserted.unchanged
        report.rejected += upserted.rejected
        for sku, product in written.items():
            written_ids.append(product.id)
            if sku not in stored and product.discontinued_at is not None:
                # Discontinued under another source, listed by this one now: sold again.
                product.discontinued_at = None
                report.relisted.append(sku)
        progress("write", min(done * UPSERT_CHUNK, len(to_write)), len(to_write))

    for ids in _chunks(gone_ids, ID_CHUNK):
        session.execute(
            update(Product)
            .where(Product.id.in_(ids))
            .values(discontinued_at=now)
            .execution_options(synchronize_session=False)
        )
        # Out of "more like this" and the vector index now (their key changes with the count).
        session.execute(delete(ProductEmbedding).where(ProductEmbedding.product_id.in_(ids)))
    for ids in _chunks(relisted_ids, ID_CHUNK):
        session.execute(
            update(Product)
            .where(Product.id.in_(ids))
            .values(discontinued_at=None)
            .execution_options(synchronize_session=False)
        )
    report.discontinued = gone
    report.touched_ids = sorted(set(written_ids) | set(relisted_ids))
    touched = set(report.touched_ids) | set(gone_ids)
    progress("index", 0, len(touched))
    if needs_full_rebuild(session, len(touched), relisted_ids):
        report.indexed = reindex(session)
    else:
        report.indexed = reindex_products(session, before, touched)
    progress("index", len(touched), len(touched))
    return report


def _existing_ids(
    session: Session, records: Sequence[ProductRecord], stored: dict[str, _Stored]
) -> list[int]:
    """Ids of the products these records will change: this source's, and any another source
    holds now (the sync takes them over)."""
    ids = [stored[r.sku].id for r in records if r.sku in stored]
    others = [r.sku for r in records if r.sku not in stored]
    for chunk in _chunks(others, ID_CHUNK):
        ids += session.scalars(select(Product.id).where(Product.sku.in_(chunk)))
    return ids
