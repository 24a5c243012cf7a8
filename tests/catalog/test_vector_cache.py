"""A product re-embedded by one process is never served stale by another.

The cached vectors (`load_vectors`) and the persistent sqlite-vec index were keyed on the count
and highest product id of the stored vectors, which a re-embed leaves alone: after an import
changed a product's text, every running action server kept answering with the old vector, and
the next process to start reused the old index file. They are keyed on
`catalog.embeddings.stored_vectors` now, which includes the vectors' revisions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from catalog import vector_index
from catalog.db import engine_for, session_scope
from catalog.embeddings import clear_vector_cache, load_vectors
from catalog.models import ProductEmbedding
from core.paths import PROJECT_ROOT
from tests.catalog.test_embeddings import copy_sqlite, first_ids

NEW_NAME = "Titanium Digital Dive Watch With Altimeter"  # far from any garment's text

RE_EMBED = """
import sys
from catalog.db import session_scope
from catalog.embeddings import refresh_embeddings
from catalog.models import Product

url, product_id, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with session_scope(url) as session:
    session.get(Product, product_id).name = name
with session_scope(url) as session:
    assert refresh_embeddings(session, progress=False, product_ids=[product_id]) == 1
"""

SEARCH = """
import json, sys
import numpy as np
from catalog import vector_index
from catalog.db import session_scope
from catalog.models import ProductEmbedding

url, product_id = sys.argv[1], int(sys.argv[2])
with session_scope(url) as session:
    stored = session.get(ProductEmbedding, product_id)
    query = np.frombuffer(stored.vector, dtype="<f4")
    index = vector_index.index_for(session, kind=vector_index.SQLITE_VEC)
    best = index.nearest(query, 1)[0]
    print(json.dumps({"kind": index.kind, "id": best.product_id, "similarity": best.similarity}))
"""


def in_another_process(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def catalog_copy(luma_db_url: str, tmp_path: Path) -> Iterator[str]:
    url = copy_sqlite(luma_db_url, tmp_path / "catalog.sqlite3")
    clear_vector_cache()
    vector_index.clear()
    yield url
    clear_vector_cache()
    vector_index.clear()
    engine_for(url).dispose()


def stored_vector(url: str, product_id: int) -> np.ndarray:
    with session_scope(url) as session:
        row = session.get(ProductEmbedding, product_id)
        assert row is not None
        return np.frombuffer(row.vector, dtype="<f4").copy()


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_a_running_process_sees_a_vector_another_process_re_embedded(catalog_copy: str) -> None:
    url = catalog_copy
    product_id = first_ids(url, 3)[2]
    with session_scope(url) as session:
        ids, before = load_vectors(session)  # this process's cache, as an action server's
        key = vector_index.stored(session)
    row = ids.index(product_id)

    in_another_process(RE_EMBED, url, str(product_id), NEW_NAME)  # an import, say

    new = stored_vector(url, product_id)
    assert float(before[row] @ new) < 0.95  # the text really moved the vector
    with session_scope(url) as session:
        later = vector_index.stored(session)
        assert (later.count, later.highest) == (key.count, key.highest)  # the old key's parts
        assert later.key != key.key
        ids_after, after = load_vectors(session)
    assert ids_after == ids
    assert np.allclose(after[row], new)


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_a_new_process_does_not_reuse_an_index_built_before_a_re_embed(catalog_copy: str) -> None:
    url = catalog_copy
    product_id = first_ids(url, 5)[4]
    with session_scope(url) as session:  # process 1 builds the sqlite-vec file
        index = vector_index.index_for(session, kind=vector_index.SQLITE_VEC, wait=True)
        assert index is not None and index.kind == vector_index.SQLITE_VEC
        path = vector_index.sqlite_index_path(session)
    assert path is not None and path.exists()

    in_another_process(RE_EMBED, url, str(product_id), NEW_NAME)

    found = json.loads(in_another_process(SEARCH, url, str(product_id)))  # process 2
    assert found["id"] == product_id
    assert found["similarity"] == pytest.approx(1.0, abs=1e-4)

    with session_scope(url) as session:  # and a build now replaces the stale file
        current = vector_index.stored(session)
        vector_index.build(engine_for(url), vector_index.SQLITE_VEC, current)
    assert vector_index.SqliteVecIndex.built_key(path) == current.key
    found = json.loads(in_another_process(SEARCH, url, str(product_id)))
    assert found["kind"] == vector_index.SQLITE_VEC
    assert found["id"] == product_id
    assert found["similarity"] == pytest.approx(1.0, abs=1e-4)
