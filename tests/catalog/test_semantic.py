"""Semantic search: query vectors, when search uses them, and that filters hold for what they
find. Most tests use a tiny bag-of-words encoder; the last ones use the real packaged model."""

import hashlib
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from catalog import semantic, vector_index
from catalog.db import session_scope
from catalog.embeddings import default_model_path, model_name, product_text
from catalog.models import Product, ProductEmbedding
from catalog.search import Candidate, SearchFilters, SearchRequest, _rank, search
from tests.catalog.test_embeddings import copy_sqlite

DIMENSION = 64
_WORD = re.compile(r"[a-z]+")


class BagOfWords:
    """A stand-in encoder: each word hashed to one of 64 axes, the sum normalised. Texts that
    share words point the same way, which is all that semantic search relies on."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                axis = int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSION
                out[row, axis] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


class Refuses:
    """An encoder that must never be asked."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError(f"the model was asked to encode {texts!r}")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(semantic.MODE_VARIABLE, raising=False)
    monkeypatch.delenv(vector_index.INDEX_VARIABLE, raising=False)
    vector_index.clear()
    semantic.use_encoder(None)
    yield
    semantic.use_encoder(None)
    vector_index.clear()


@pytest.fixture
def fake_catalog(luma_db_url: str, tmp_path: Path) -> str:
    """The Luma shop with every product's vector made by BagOfWords from its text."""
    url = copy_sqlite(luma_db_url, tmp_path / "fake.sqlite3")
    encoder = BagOfWords()
    model = model_name(default_model_path())
    with session_scope(url) as session:
        session.execute(delete(ProductEmbedding))
        products = session.scalars(
            select(Product).options(
                selectinload(Product.categories), selectinload(Product.attributes)
            )
        ).all()
        vectors = encoder.encode([product_text(p) for p in products])
        for product, vector in zip(products, vectors, strict=True):
            session.add(
                ProductEmbedding(
                    product_id=product.id, model=model, text_hash="fake", vector=vector.tobytes()
                )
            )
    semantic.use_encoder(encoder)
    return url


def test_a_query_is_encoded_once_and_kept() -> None:
    encoder = BagOfWords()
    semantic.use_encoder(encoder)
    first = semantic.query_vector("Warm  jacket")
    again = semantic.query_vector("warm jacket")  # same words, other case and spacing
    assert again is first and encoder.calls == [["warm jacket"]]
    assert first is not None and np.isclose(np.linalg.norm(first), 1.0)


def test_the_model_is_loaded_once_for_threads_that_ask_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[str] = []

    def slow_load(path: str) -> BagOfWords:
        loads.append(path)
        time.sleep(0.05)  # a real load takes seconds: others arrive meanwhile
        return BagOfWords()

    monkeypatch.setattr(semantic, "embedder_for", slow_load)
    threads = [
        threading.Thread(target=semantic.query_vector, args=(f"query {n}",)) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [default_model_path()]


def test_a_search_during_the_model_load_goes_on_with_full_text(
    luma_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    loading, release = threading.Event(), threading.Event()

    def slow_load(path: str) -> BagOfWords:
        loading.set()
        release.wait(10)
        return BagOfWords()

    monkeypatch.setattr(semantic, "embedder_for", slow_load)
    starting = threading.Thread(target=semantic.warm_up)
    starting.start()
    assert loading.wait(10)
    with session_scope(luma_db_url) as session:
        assert semantic.for_query(session, "warm jacket", ["warm", "jacket"]) is None
        assert search(session, SearchRequest("warm jacket")).hits  # not held up by the load
        release.set()
        starting.join()
        assert semantic.for_query(session, "warm jacket", ["warm", "jacket"]) is not None


def test_descriptive_means_mostly_words_no_product_has(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        assert semantic.descriptive(session, ["gift", "ideas", "runner"])
        assert semantic.descriptive(session, ["warm", "wear", "hiking", "winter"])
        assert not semantic.descriptive(session, ["hoodie"])
        assert not semantic.descriptive(session, ["black", "yoga", "shorts"])
        assert not semantic.descriptive(session, [])


def test_semantic_similarity_reranks_equal_matches() -> None:
    ranked = _rank(
        [
            Candidate(1, 2.0, 0.0, 4.0, 3, 5, semantic=0.2),
            Candidate(2, 2.0, 0.0, 4.0, 3, 5, semantic=0.6),
        ]
    )
    assert [product_id for product_id, _ in ranked] == [2, 1]


def test_descriptive_words_find_the_product_nearest_in_meaning(fake_catalog: str) -> None:
    query = "gift ideas for a runner"
    with session_scope(fake_catalog) as session:
        target = session.scalars(select(Product).where(Product.sku == "24-MB04")).one()
        stored = session.get(ProductEmbedding, target.id)
        assert stored is not None
        stored.vector = BagOfWords().encode([query])[0].tobytes()  # it "means" the query
    vector_index.clear()
    with session_scope(fake_catalog) as session:
        result = search(session, SearchRequest(query))
    assert result.hits[0].sku == "24-MB04"  # none of its words is gift, ideas or runner


def test_filters_hold_for_products_found_by_meaning(
    fake_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "MIN_SIMILARITY", -1.0)  # every product is a candidate
    filters = SearchFilters(
        gender="Women", color="Black", size="29", price_max_cents=6000, category="Bottoms"
    )
    with session_scope(fake_catalog) as session:
        meaning = semantic.for_query(session, "snug comfy stretchy pants", ["snug", "comfy"])
        assert meaning is not None and meaning.descriptive
        result = search(session, SearchRequest("snug comfy stretchy pants", filters, limit=20))
        assert result.hits and result.relaxed == ("words",)  # found by meaning, said so
        for hit in result.hits:
            product = session.scalars(select(Product).where(Product.sku == hit.sku)).one()
            assert product.gender in ("Women", "Unisex", None)
            assert any(
                v.color == "Black" and v.size == "29" and v.qty > 0 for v in product.variants
            )
            assert hit.price_cents <= 6000
            assert any("/Bottoms" in path for path in hit.categories)


def test_meaning_never_makes_search_give_up_a_filter(
    fake_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "MIN_SIMILARITY", -1.0)  # every product is near enough
    impossible = SearchFilters(price_max_cents=1)
    with session_scope(fake_catalog) as session:
        result = search(session, SearchRequest("zzqx blorp", impossible))
    # Without the price nearly everything would be "near"; search does not go there by meaning.
    assert result.hits == []


def test_candidates_meet_the_conditions_whatever_k(fake_catalog: str) -> None:
    with session_scope(fake_catalog) as session:
        meaning = semantic.for_query(session, "gear bag", ["gear", "bag"])
        assert meaning is not None
        gendered = [Product.gender == "Men"]
        near = meaning.candidates(session, gendered, limit=500)
        men = set(session.scalars(select(Product.id).where(Product.gender == "Men")))
    assert {n.product_id for n in near} <= men
    assert all(n.similarity >= semantic.MIN_SIMILARITY for n in near)
    assert [n.similarity for n in near] == sorted((n.similarity for n in near), reverse=True)


def test_switched_off_or_without_vectors_no_model_is_asked(
    luma_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    semantic.use_encoder(Refuses())
    monkeypatch.setenv(semantic.MODE_VARIABLE, "off")
    with session_scope(luma_db_url) as session:
        assert search(session, SearchRequest("gift ideas for a runner")).hits
    monkeypatch.delenv(semantic.MODE_VARIABLE)
    url = copy_sqlite(luma_db_url, tmp_path / "bare.sqlite3")
    with session_scope(url) as session:
        session.execute(delete(ProductEmbedding))
    with session_scope(url) as session:
        assert semantic.for_query(session, "warm jacket", ["warm", "jacket"]) is None
        assert search(session, SearchRequest("warm jacket")).hits


def test_rank_mode_adds_no_candidates(fake_catalog: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semantic.MODE_VARIABLE, "rank")
    with session_scope(fake_catalog) as session:
        meaning = semantic.for_query(session, "gift ideas", ["gift", "ideas"])
        assert meaning is not None and not meaning.source


# ------------------------------------------------------------------ the real packaged model


def test_real_model_finds_warm_things_for_a_winter_hike(luma_db_url: str) -> None:
    request = SearchRequest(
        "something warm to wear hiking in winter", SearchFilters(gender="Men"), limit=5
    )
    with session_scope(luma_db_url) as session:
        result = search(session, request)
    assert len(result.hits) == 5
    names = [h.name for h in result.hits]
    # Men's clothes (jackets, hoodies, warm pants), not the backpack full text used to find
    assert all(any(p.startswith("Men/") for p in h.categories) for h in result.hits), names
    assert all(h.gender in ("Men", "Unisex") for h in result.hits), names
    warm_tops = ("Men/Tops/Jackets", "Men/Tops/Hoodies & Sweatshirts")
    assert sum(any(p.startswith(warm_tops) for p in h.categories) for h in result.hits) >= 3


def test_real_model_gift_for_a_runner_is_running_gear(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        result = search(session, SearchRequest("gift ideas for a runner", limit=5))
    assert result.hits
    running = [h for h in result.hits if re.search(r"run|track|sport|watch", h.name, re.I)]
    assert len(running) >= 3, [h.name for h in result.hits]


def test_real_model_places_a_query_near_the_products_it_describes(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        meaning = semantic.for_query(session, "hoodie", ["hoodie"])
        assert meaning is not None
        near = meaning.candidates(session, [], limit=5)
        names = dict(
            session.execute(
                select(Product.id, Product.name).where(Product.id.in_([n.product_id for n in near]))
            ).all()
        )
    assert len(near) == 5
    assert sum("Hoodie" in names[n.product_id] for n in near) >= 4


def test_words_no_product_has_add_no_candidates_by_meaning(luma_db_url: str) -> None:
    from catalog.db import session_scope
    from catalog.semantic import known_anywhere

    with session_scope(luma_db_url) as session:
        assert not known_anywhere(session, ["blorp", "snazzle", "wib"])
        assert known_anywhere(session, ["something", "warm", "hiking"])
