"""Semantic product search: the shopper's words as a sentence vector, compared by cosine with
the products' stored vectors.

Full-text search finds products that have the shopper's words; a descriptive need ("something
warm to wear hiking in winter", "gift ideas for a runner") has few of them. The query is
embedded with the same model and pooling as the products (`catalog.embeddings.Embedder`), so
the cosine of the two says how well a product fits what was described. Search uses it twice
(catalog/search.py):

- always, as one more ranking signal of the products full-text search found
  (`SEMANTIC_WEIGHT`);
- as a source of candidates when the words are mostly descriptive (most are in no product's
  name, categories or attributes), or when no strict full-text step found anything. Those
  candidates pass the same SQL filter conditions as every other match, so a gender, colour,
  size, price or category the shopper gave holds for them too.

The model is loaded on the first query that needs it, once per process, and only where search
runs (the action server); a process with no stored vectors never loads it. Everything here
works without a model when a fake encoder is set (`use_encoder`), which the unit tests do.
`SHOPDESK_SEMANTIC_SEARCH` switches it: `on` (default), `rank` (ranking signal only) or `off`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from catalog.embeddings import Embedder, Vectors, default_model_path, embedder_for
from catalog.models import Product, SearchWord
from catalog.settings import CatalogSettings
from catalog.synonyms import synonyms_of
from catalog.vector_index import Neighbour, index_for

MODE_VARIABLE = "SHOPDESK_SEMANTIC_SEARCH"
# A cosine of MiniLM's query and product texts: unrelated ~0.0-0.2, the same kind of product
# ~0.4-0.7. Below this a product is no candidate ("kettlebell" meets a cardio ball at 0.33).
MIN_SIMILARITY = 0.35
# Descriptive: at least this share of the words is in no product's name, categories or
# attributes ("warm", "winter", "gift", "runner").
DESCRIPTIVE_SHARE = 0.5
# Semantic candidates per search, like full-text's CANDIDATES; asked of the index in rounds of
# growing k until enough pass the filters or the similarity floor is reached.
SEMANTIC_CANDIDATES = 30
FIRST_K, MAX_K = 64, 4096
QUERY_CACHE_SIZE = 512
# Torch threads in a searching process. One short query is a tiny forward pass: on 2 busy cores
# a second thread made it 4x slower at the median and 15x at the worst (48 against 12 ms,
# 506 against 33 ms), as the classifier service found (ClassifierSettings.serve_threads).
QUERY_THREADS = 1


class Mode(StrEnum):
    ON = "on"  # ranking signal and candidate source
    RANK = "rank"  # ranking signal only
    OFF = "off"


class QueryEncoder(Protocol):
    """What turns texts into unit vectors of the products' space (Embedder, or a test fake)."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


def mode() -> Mode:
    """The switch, read on every search so a benchmark or test can flip it."""
    value = CatalogSettings.from_env().semantic_search or Mode.ON
    try:
        return Mode(value)
    except ValueError:
        return Mode.ON


logger = logging.getLogger(__name__)
_lock = threading.Lock()  # the cache and encoding
_load_lock = threading.Lock()  # loading the model
_encoder: QueryEncoder | None = None
_vectors: OrderedDict[str, Vectors] = OrderedDict()


def use_encoder(encoder: QueryEncoder | None) -> None:
    """Replaces the process's encoder (None: the real model again, loaded when needed)."""
    global _encoder
    with _lock:
        _encoder = encoder
        _vectors.clear()


def clear_query_cache() -> None:
    """Forgets the kept query vectors (a benchmark timing the encoding)."""
    with _lock:
        _vectors.clear()


def _current_encoder(wait: bool) -> QueryEncoder | None:
    """The encoder, loaded on first use; None without `wait` while another thread loads it
    (a search does not queue behind a start-up load of many seconds)."""
    global _encoder
    if _encoder is not None:
        return _encoder
    if not _load_lock.acquire(blocking=wait):
        return None
    try:
        if _encoder is None:
            _encoder = embedder_for(default_model_path())
        return _encoder
    finally:
        _load_lock.release()


def _encode_one(encoder: QueryEncoder, text: str) -> Vectors:
    """One text on QUERY_THREADS threads; the process's setting (batch embedding wants all
    cores) is restored after. Switching costs microseconds."""
    if not isinstance(encoder, Embedder):
        return np.asarray(encoder.encode([text])[0], dtype=np.float32)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(QUERY_THREADS)
    try:
        return np.asarray(encoder.encode([text])[0], dtype=np.float32)
    finally:
        torch.set_num_threads(threads)


def warm_up(database_url: str | None = None) -> bool:
    """Loads the model (and opens the catalog's vectors) now, at a searching process's start,
    instead of on a shopper's first search; with a catalog, only if it has vectors and semantic
    search is on. Returns whether the model was loaded."""
    if database_url is not None:
        from catalog.db import session_scope

        with session_scope(database_url) as session:
            if mode() is Mode.OFF or index_for(session) is None:
                return False
    query_vector("warm up")
    return True


def warm_up_in_background(database_url: str) -> threading.Thread:
    """`warm_up` on a thread of its own: a server answers /health meanwhile."""

    def run() -> None:
        try:
            warm_up(database_url)
        except Exception:  # the first search will try again and answer without it if need be
            logger.exception("semantic search: loading the model at start-up failed")

    thread = threading.Thread(target=run, name="semantic-warm-up", daemon=True)
    thread.start()
    return thread


def query_vector(text: str, wait: bool = True) -> Vectors | None:
    """The text's unit vector; the last QUERY_CACHE_SIZE texts are kept ("show more" repeats).
    None without `wait` while the model is still loading on another thread."""
    key = " ".join(text.lower().split())
    with _lock:
        cached = _vectors.get(key)
        if cached is not None:
            _vectors.move_to_end(key)
            return cached
    encoder = _current_encoder(wait)
    if encoder is None:
        return None
    with _lock:  # one encode at a time: a tokenizer is not safe to share between threads
        vector = _vectors.get(key)
        if vector is None:
            vector = _encode_one(encoder, key)
            _vectors[key] = vector
            while len(_vectors) > QUERY_CACHE_SIZE:
                _vectors.popitem(last=False)
    return vector


def descriptive(session: Session, terms: Sequence[str]) -> bool:
    """Whether most of the words are in no product's name, categories or attributes."""
    if not terms:
        return False
    variants = {t: {t, t.rstrip("s"), t + "s", *synonyms_of(t)} for t in terms}
    words = sorted({v for vs in variants.values() for v in vs})
    product_words = set(
        session.scalars(
            select(SearchWord.word).where(SearchWord.word.in_(words), SearchWord.title_products > 0)
        )
    )
    unknown = sum(1 for t in terms if not variants[t] & product_words)
    return unknown / len(terms) >= DESCRIPTIVE_SHARE


@dataclass(frozen=True)
class SemanticQuery:
    """One search's query vector and what search may do with it."""

    vector: Vectors
    descriptive: bool  # a candidate source at every step, not only after strict words failed
    source: bool  # may add candidates at all (Mode.ON)

    def similarities(self, session: Session, ids: Collection[int]) -> dict[int, float]:
        """Cosine of the query and each product that has a vector (others are left out)."""
        index = index_for(session)
        return index.similarities(session, self.vector, ids) if index else {}

    def candidates(
        self,
        session: Session,
        conditions: Sequence[ColumnElement[bool]],
        limit: int = SEMANTIC_CANDIDATES,
    ) -> list[Neighbour]:
        """The products nearest the query with a cosine of at least MIN_SIMILARITY that meet
        every condition (search's filters), best first, at most `limit`."""
        index = index_for(session)
        if index is None:
            return []
        k = FIRST_K
        while True:
            near = [n for n in index.nearest(self.vector, k) if n.similarity >= MIN_SIMILARITY]
            allowed = set(
                session.scalars(
                    select(Product.id).where(
                        Product.id.in_([n.product_id for n in near]), *conditions
                    )
                )
            )
            picked = [n for n in near if n.product_id in allowed]
            # Fewer than k above the floor means every product above it has been seen.
            if len(picked) >= limit or len(near) < k or k >= min(MAX_K, index.size):
                return picked[:limit]
            k *= 4


def for_query(session: Session, text: str, terms: Sequence[str]) -> SemanticQuery | None:
    """The search's semantic side, or None: switched off, no words, no stored vectors (then no
    model is loaded), or the model still loading on another thread."""
    current = mode()
    if current is Mode.OFF or not terms or not text.strip() or index_for(session) is None:
        return None
    try:
        vector = query_vector(text, wait=False)
    except Exception:  # no model on disk, out of memory: full-text search still answers
        logger.exception("semantic search: the query could not be encoded; full text only")
        return None
    if vector is None:  # the model is still loading (start-up): full text this time
        return None
    return SemanticQuery(
        vector=vector,
        descriptive=descriptive(session, terms),
        source=current is Mode.ON and known_anywhere(session, terms),
    )


def known_anywhere(session: Session, terms: Sequence[str]) -> bool:
    """Whether any word is in any product's text, descriptions included. A query of words no
    product has ("blorp snazzle wib") still has a nearest product by meaning, but no meaning
    worth a list: it may rank, not add candidates."""
    variants = sorted({v for t in terms for v in (t, t.rstrip("s"), t + "s", *synonyms_of(t))})
    found = session.scalars(
        select(SearchWord.word).where(SearchWord.word.in_(variants), SearchWord.products > 0)
    )
    return found.first() is not None
