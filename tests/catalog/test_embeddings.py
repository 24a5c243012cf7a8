import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from catalog.db import session_scope
from catalog.embeddings import (
    default_model_path,
    embedder_for,
    load_vectors,
    model_name,
    packaged_model_path,
    product_text,
    refresh_embeddings,
)
from catalog.models import Category, Product, ProductAttribute, ProductEmbedding


def copy_sqlite(url: str, dest: Path) -> str:
    """A private copy of a (WAL-mode) SQLite catalog, for a test that writes."""
    source = sqlite3.connect(str(make_url(url).database))
    target = sqlite3.connect(dest)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{dest}"


def copy_without_vectors(url: str, dest: Path) -> str:
    """A private copy with no embeddings yet, whatever the shared fixture stored."""
    copy = copy_sqlite(url, dest)
    with session_scope(copy) as session:
        session.execute(delete(ProductEmbedding))
    return copy


def first_ids(url: str, count: int) -> list[int]:
    with session_scope(url) as session:
        return list(session.scalars(select(Product.id).order_by(Product.id).limit(count)))


def test_text_is_name_leaf_categories_gender_attributes_and_two_sentences() -> None:
    product = Product(
        name="Orion Jacket",
        gender="Men",
        description="Warm and light. Packs small! Machine wash. • Zip pockets.",
        categories=[
            Category(path="Men/Tops", name="Tops"),
            Category(path="Men/Tops/Jackets", name="Jackets"),
            Category(path="Collections/Eco Friendly", name="Eco Friendly"),
        ],
        attributes=[
            ProductAttribute(name="material", value="Nylon"),
            ProductAttribute(name="activity", value="Hiking"),
            ProductAttribute(name="performance_fabric", value="Yes"),
            ProductAttribute(name="sale", value="Yes"),
            ProductAttribute(name="waterproof", value="No"),
        ],
    )
    assert product_text(product) == (
        "Orion Jacket. Eco Friendly, Jackets. Men. Hiking, Nylon, performance fabric."
        " Warm and light. Packs small!"
    )


def test_encoder_gives_unit_vectors_that_place_like_near_like() -> None:
    embedder = embedder_for(default_model_path())
    texts = ["black hoodie", "warm pullover sweatshirt", "digital wrist watch"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1
    alone = embedder.encode(texts[2:])
    assert np.allclose(alone[0], vectors[2], atol=1e-4)  # batching and order do not matter


def test_refresh_embeds_only_what_changed(luma_db_url: str, tmp_path: Path) -> None:
    url = copy_without_vectors(luma_db_url, tmp_path / "catalog.sqlite3")
    ids = first_ids(url, 8)
    with session_scope(url) as session:
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 8

    embedder_for.cache_clear()
    with session_scope(url) as session:
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 0
    assert embedder_for.cache_info().currsize == 0  # nothing to do: no model loaded

    with session_scope(url) as session:
        product = session.get(Product, ids[3])
        assert product is not None
        product.name = product.name + " Deluxe"
    with session_scope(url) as session:
        before = session.get(ProductEmbedding, ids[0])
        assert before is not None
        unchanged = before.vector
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 1
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 0
        assert session.get(ProductEmbedding, ids[0]).vector == unchanged  # type: ignore[union-attr]


def test_removed_products_lose_their_vectors(luma_db_url: str, tmp_path: Path) -> None:
    url = copy_without_vectors(luma_db_url, tmp_path / "catalog.sqlite3")
    ids = first_ids(url, 3)
    with session_scope(url) as session:
        refresh_embeddings(session, progress=False, product_ids=ids)
    with session_scope(url) as session:
        session.execute(delete(Product).where(Product.id == ids[0]))
    with session_scope(url) as session:
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 0
        stored = set(session.scalars(select(ProductEmbedding.product_id)))
    assert stored == set(ids[1:])


def test_vectors_are_read_once_and_again_after_a_change(luma_db_url: str, tmp_path: Path) -> None:
    url = copy_without_vectors(luma_db_url, tmp_path / "catalog.sqlite3")
    ids = first_ids(url, 5)
    with session_scope(url) as session:
        refresh_embeddings(session, progress=False, product_ids=ids[:4])
        got, matrix = load_vectors(session)
        assert got == ids[:4]
        assert matrix.shape == (4, 384) and matrix.dtype == np.float32
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
        assert load_vectors(session)[1] is matrix  # cached
        refresh_embeddings(session, progress=False, product_ids=ids)
        got, matrix = load_vectors(session)
        assert got == ids


def test_another_model_re_embeds_everything(luma_db_url: str, tmp_path: Path) -> None:
    url = copy_without_vectors(luma_db_url, tmp_path / "catalog.sqlite3")
    other = tmp_path / "models" / "other-minilm"
    other.parent.mkdir()
    other.symlink_to(packaged_model_path(), target_is_directory=True)
    ids = first_ids(url, 3)
    with session_scope(url) as session:
        assert refresh_embeddings(session, progress=False, product_ids=ids) == 3
        assert refresh_embeddings(session, str(other), progress=False, product_ids=ids) == 3
        assert load_vectors(session, str(other))[0] == ids
        models = set(session.scalars(select(ProductEmbedding.model)))
    assert models == {model_name(str(other))} == {"models/other-minilm"}


def test_model_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlu_models.config import ClassifierSettings

    monkeypatch.delenv("SHOPDESK_EMBEDDING_MODEL", raising=False)
    monkeypatch.delenv("SHOPDESK_NLU_BASE_MODEL", raising=False)
    assert default_model_path() == packaged_model_path()
    assert (Path(default_model_path()) / "config.json").is_file()
    monkeypatch.setenv("SHOPDESK_NLU_BASE_MODEL", "/models/nlu-base")
    assert default_model_path() == "/models/nlu-base"
    monkeypatch.setenv("SHOPDESK_EMBEDDING_MODEL", "/models/embedder")
    assert default_model_path() == "/models/embedder"
    # The classifier's own default is the packaged model whatever the embedder uses.
    assert ClassifierSettings().base_model == packaged_model_path()
