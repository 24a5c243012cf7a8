"""The products nearest a query vector: a scan in numpy for a small catalog, the database's own
vector index for a large one.

Below a backend's threshold, `ScanIndex` keeps every stored vector in memory (`load_vectors`)
and answers with one matrix product: at the Luma shop's 191 products that is microseconds,
and no index has anything to win. From it on, each backend uses the index that fits it:

- SQLite: a sqlite-vec `vec0` table in a file beside the catalog (`<database>.vectors`). The
  Python here is built without extension loading, so the file is opened with apsw; keeping it
  out of the catalog's own file means a connection without sqlite-vec never meets a table it
  cannot read, and the file can always be rebuilt from `product_embeddings`.
- PostgreSQL: a `vector` column with an HNSW index (pgvector) in `product_vectors`, when the
  server has the `vector` extension; without it (Debian 12's PostgreSQL 15 ships none) the
  scan is used, and `index_for` says which in `VectorIndex.kind`.

Either is rebuilt from `product_embeddings` when the stored vectors change: their count, highest
product id or revisions (checked at most every `RECHECK_SECONDS`), the same key as `load_vectors`
(`catalog.embeddings.stored_vectors`), so a re-embedded product is never served stale; `python -m
catalog.vector_index build` rebuilds now. `benchmarks/vector_index.py` measured where the index
takes over (benchmarks/results/vector-index.md). `SHOPDESK_VECTOR_INDEX` forces a choice:
`auto` (default), `scan`, `sqlite-vec` or `pgvector`.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from catalog.embeddings import (
    Vectors,
    default_model_path,
    load_vectors,
    model_name,
    stored_vectors,
)
from catalog.models import ProductEmbedding
from catalog.settings import CatalogSettings

INDEX_VARIABLE = "SHOPDESK_VECTOR_INDEX"
AUTO, SCAN, SQLITE_VEC, PGVECTOR = "auto", "scan", "sqlite-vec", "pgvector"
KINDS = (AUTO, SCAN, SQLITE_VEC, PGVECTOR)
# Stored vectors from which the database's index answers instead of the numpy scan, from
# benchmarks/results/vector-index.md. pgvector's HNSW was slower than the scan at 10,000
# vectors (p95 1.9 against 1.1 ms), level at 30,000 (2.7 against 3.0) and 4.5x faster at
# 100,000 (3.2 against 14.6), and it spares each process the scan's matrix.
# sqlite-vec 0.1 scans too (its PyPI build without SIMD): slower than numpy at every size
# measured (7x at 100,000), so it takes over only where the scan's matrix, held by every
# searching process, grows too big: 250,000 vectors of 384 floats are 366 MiB.
PGVECTOR_THRESHOLD = 20_000
SQLITE_VEC_THRESHOLD = 250_000
RECHECK_SECONDS = 30.0
SQLITE_SUFFIX = ".vectors"
BUILD_BATCH = 2_000
PG_TABLE = "product_vectors"
PG_META = "product_vectors_meta"
HNSW_BUILD_MEMORY = "512MB"
HNSW_EF_SEARCH_MIN = 40  # pgvector's default ef_search; raised to k for a larger k


class Neighbour(NamedTuple):
    product_id: int
    similarity: float  # cosine, 1 is the same direction


class VectorIndex(Protocol):
    kind: str
    size: int  # vectors held

    def nearest(self, query: Vectors, k: int) -> list[Neighbour]:
        """The k products nearest `query` (a unit vector), most similar first."""
        ...

    def similarities(
        self, session: Session, query: Vectors, ids: Collection[int]
    ) -> dict[int, float]:
        """Cosine of `query` and each of `ids` that has a vector."""
        ...


@dataclass(frozen=True)
class Stored:
    """What identifies the stored vectors of one model (`stored_vectors`): an index built for
    another key is rebuilt."""

    model: str
    count: int
    highest: int
    revisions: int

    @property
    def key(self) -> str:
        return f"{self.model}|{self.count}|{self.highest}|{self.revisions}"


def stored(session: Session, model_path: str | None = None) -> Stored:
    model = model_name(model_path or default_model_path())
    now = stored_vectors(session, model)
    return Stored(model, now.count, now.highest, now.revisions)


def _top_k(scores: Vectors, ids: np.ndarray[Any, Any], k: int) -> list[Neighbour]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((ids[top], -scores[top]))]
    return [Neighbour(int(ids[i]), float(scores[i])) for i in top]


class ScanIndex:
    """Every vector in memory; one matrix product per query."""

    kind = SCAN

    def __init__(self, ids: list[int], matrix: Vectors) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        self._matrix = matrix
        self._rows = {product_id: row for row, product_id in enumerate(ids)}
        self.size = len(ids)

    def nearest(self, query: Vectors, k: int) -> list[Neighbour]:
        if not self.size:
            return []
        return _top_k(self._matrix @ query, self._ids, k)

    def similarities(
        self, session: Session, query: Vectors, ids: Collection[int]
    ) -> dict[int, float]:
        rows = [(i, self._rows[i]) for i in ids if i in self._rows]
        if not rows:
            return {}
        scores = self._matrix[[row for _, row in rows]] @ query
        return {i: float(s) for (i, _), s in zip(rows, scores, strict=True)}


def stored_similarities(
    session: Session, model: str, query: Vectors, ids: Collection[int]
) -> dict[int, float]:
    """Cosines from the stored vectors of `ids` (search re-ranks at most 100 at a time)."""
    if not ids:
        return {}
    rows = session.execute(
        select(ProductEmbedding.product_id, ProductEmbedding.vector).where(
            ProductEmbedding.model == model, ProductEmbedding.product_id.in_(list(ids))
        )
    ).all()
    if not rows:
        return {}
    matrix = np.stack([np.frombuffer(vector, dtype="<f4") for _, vector in rows])
    return {int(i): float(s) for (i, _), s in zip(rows, matrix @ query, strict=True)}


def _vector_batches(session: Session, model: str) -> Iterator[list[tuple[int, bytes]]]:
    rows = session.execute(
        select(ProductEmbedding.product_id, ProductEmbedding.vector)
        .where(ProductEmbedding.model == model)
        .order_by(ProductEmbedding.product_id)
        .execution_options(yield_per=BUILD_BATCH)
    )
    for batch in rows.partitions(BUILD_BATCH):
        yield [(int(product_id), bytes(vector)) for product_id, vector in batch]


# --------------------------------------------------------------------------- SQLite: sqlite-vec


def _apsw_connection(path: Path, readonly: bool) -> Any:
    import apsw
    import sqlite_vec

    flags = (
        apsw.SQLITE_OPEN_READONLY
        if readonly
        else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    )
    connection = apsw.Connection(str(path), flags=flags)
    connection.enable_load_extension(True)
    connection.load_extension(sqlite_vec.loadable_path())
    connection.enable_load_extension(False)
    return connection


def sqlite_index_path(session: Session) -> Path | None:
    """`<database>.vectors` beside a SQLite file catalog; None for an in-memory one."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).resolve().with_name(Path(str(url.database)).name + SQLITE_SUFFIX)


class SqliteVecIndex:
    """sqlite-vec's vec0 table (float32, cosine distance), read through apsw."""

    kind = SQLITE_VEC

    def __init__(self, path: Path, model: str, size: int) -> None:
        self._connection = _apsw_connection(path, readonly=True)
        self._lock = threading.Lock()  # one statement at a time on the shared connection
        self._model = model
        self.size = size

    @staticmethod
    def built_key(path: Path) -> str | None:
        if not path.exists():
            return None
        try:
            connection = _apsw_connection(path, readonly=True)
            row = list(connection.execute("SELECT value FROM meta WHERE key = 'stored'"))
            connection.close()
        except Exception:  # a file from an older layout or a crashed build: rebuild it
            return None
        return str(row[0][0]) if row else None

    @staticmethod
    def build(session: Session, path: Path, current: Stored) -> None:
        """Writes the index to a new file and moves it into place, so readers never see half."""
        building = path.with_name(f"{path.name}.building-{os.getpid()}")
        building.unlink(missing_ok=True)
        connection = _apsw_connection(building, readonly=False)
        try:
            connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            created = False
            for batch in _vector_batches(session, current.model):
                if not created:
                    dim = len(batch[0][1]) // 4
                    connection.execute(
                        "CREATE VIRTUAL TABLE vectors USING "
                        f"vec0(embedding float[{dim}] distance_metric=cosine)"
                    )
                    created = True
                with connection:
                    connection.executemany(
                        "INSERT INTO vectors (rowid, embedding) VALUES (?, ?)", batch
                    )
            with connection:
                connection.execute("INSERT INTO meta VALUES ('stored', ?)", (current.key,))
        finally:
            connection.close()
        os.replace(building, path)

    def nearest(self, query: Vectors, k: int) -> list[Neighbour]:
        k = min(k, self.size)
        if k <= 0:
            return []
        blob = np.asarray(query, dtype="<f4").tobytes()
        with self._lock:
            rows = list(
                self._connection.execute(
                    "SELECT rowid, distance FROM vectors WHERE embedding MATCH ? AND k = ? "
                    "ORDER BY distance",
                    (blob, k),
                )
            )
        return [Neighbour(int(rowid), 1.0 - float(distance)) for rowid, distance in rows]

    def similarities(
        self, session: Session, query: Vectors, ids: Collection[int]
    ) -> dict[int, float]:
        return stored_similarities(session, self._model, query, ids)


# --------------------------------------------------------------------------- PostgreSQL: pgvector


def _engine(session: Session) -> Engine:
    return session.get_bind().engine


def pgvector_available(session: Session) -> bool:
    """Whether the server can create the `vector` extension (installed or installable)."""
    found = session.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    return found is not None


def _as_pgvector(vector: Vectors | bytes) -> str:
    values = np.frombuffer(vector, dtype="<f4") if isinstance(vector, bytes) else vector
    return "[" + ",".join(f"{float(v):.7g}" for v in values) + "]"


class PgVectorIndex:
    """`product_vectors` with an HNSW index on cosine distance, in the catalog's database."""

    kind = PGVECTOR

    def __init__(self, model: str, size: int) -> None:
        self._model = model
        self.size = size
        self._session: Session | None = None

    def bind(self, session: Session) -> PgVectorIndex:
        """A copy that queries through `session` (each search its own: threads share self)."""
        bound = PgVectorIndex(self._model, self.size)
        bound._session = session
        return bound

    @staticmethod
    def built_key(session: Session) -> str | None:
        exists = session.execute(text("SELECT to_regclass(:name)"), {"name": PG_META}).scalar()
        if exists is None:
            return None
        value = session.execute(text(f"SELECT value FROM {PG_META} WHERE key = 'stored'")).scalar()
        return str(value) if value is not None else None

    @staticmethod
    def build(session: Session, current: Stored) -> None:
        """(Re)creates the table and its HNSW index in a transaction of its own."""
        with _engine(session).begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": PG_TABLE}
            )
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public"))
            # HNSW builds far faster when the graph fits in memory (100k x 384: ~300 MB).
            connection.execute(text(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'"))
            dim = None
            connection.execute(text(f"DROP TABLE IF EXISTS {PG_TABLE}"))
            connection.execute(
                text(f"CREATE TABLE IF NOT EXISTS {PG_META} (key text PRIMARY KEY, value text)")
            )
            for batch in _vector_batches(session, current.model):
                if dim is None:
                    dim = len(batch[0][1]) // 4
                    connection.execute(
                        text(
                            f"CREATE TABLE {PG_TABLE} (product_id integer PRIMARY KEY "
                            f"REFERENCES products(id) ON DELETE CASCADE, embedding vector({dim}))"
                        )
                    )
                connection.execute(
                    text(f"INSERT INTO {PG_TABLE} VALUES (:id, CAST(:vector AS vector))"),
                    [{"id": i, "vector": _as_pgvector(v)} for i, v in batch],
                )
            if dim is not None:
                connection.execute(
                    text(
                        f"CREATE INDEX {PG_TABLE}_hnsw ON {PG_TABLE} "
                        "USING hnsw (embedding vector_cosine_ops)"
                    )
                )
            connection.execute(
                text(
                    f"INSERT INTO {PG_META} VALUES ('stored', :key) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ),
                {"key": current.key},
            )

    def nearest(self, query: Vectors, k: int) -> list[Neighbour]:
        if self._session is None or k <= 0:
            return []
        session = self._session
        session.execute(text(f"SET LOCAL hnsw.ef_search = {max(HNSW_EF_SEARCH_MIN, min(k, 1000))}"))
        rows = session.execute(
            text(
                f"SELECT product_id, embedding <=> CAST(:q AS vector) AS distance "
                f"FROM {PG_TABLE} ORDER BY distance LIMIT :k"
            ),
            {"q": _as_pgvector(query), "k": k},
        ).all()
        return [Neighbour(int(i), 1.0 - float(d)) for i, d in rows]

    def similarities(
        self, session: Session, query: Vectors, ids: Collection[int]
    ) -> dict[int, float]:
        return stored_similarities(session, self._model, query, ids)


# --------------------------------------------------------------------------- choosing


def wanted_kind() -> str:
    value = CatalogSettings.from_env().vector_index or AUTO
    return value if value in KINDS else AUTO


@dataclass
class _Entry:
    checked_at: float
    current: Stored
    index: ScanIndex | SqliteVecIndex | PgVectorIndex | None


_entries: dict[tuple[str, str, str], _Entry] = {}
_entries_lock = threading.Lock()
_build_lock = threading.Lock()
_building: set[tuple[str, str]] = set()  # (database, kind) being built in the background
logger = logging.getLogger(__name__)


def clear() -> None:
    """Forgets every opened index and scan (tests; after a re-embed in this process)."""
    with _entries_lock:
        _entries.clear()


def _built(session: Session, kind: str, current: Stored) -> bool:
    if kind == SQLITE_VEC:
        path = sqlite_index_path(session)
        return path is not None and SqliteVecIndex.built_key(path) == current.key
    return PgVectorIndex.built_key(session) == current.key


def build(engine: Engine, kind: str, current: Stored) -> None:
    """Builds the index of `kind` unless another thread or process just did."""
    with Session(engine) as session, _build_lock:
        if kind == SQLITE_VEC:
            path = sqlite_index_path(session)
            if path is None:
                return
            with _file_lock(path):
                if SqliteVecIndex.built_key(path) != current.key:
                    SqliteVecIndex.build(session, path, current)
        elif PgVectorIndex.built_key(session) != current.key:
            PgVectorIndex.build(session, current)


def _build_in_background(engine: Engine, kind: str, current: Stored) -> None:
    """Builds without holding up a search; the next `index_for` after it opens the index."""
    job = (str(engine.url), kind)
    with _entries_lock:
        if job in _building:
            return
        _building.add(job)

    def run() -> None:
        try:
            build(engine, kind, current)
        except Exception:  # the scan goes on answering; the next change of vectors retries
            logger.exception("building the %s vector index failed", kind)
            with _entries_lock:
                _building.discard(job)
            return
        with _entries_lock:
            _building.discard(job)
            _entries.clear()

    threading.Thread(target=run, name=f"vector-index-{kind}", daemon=True).start()


def _open(
    session: Session, current: Stored, kind: str, wait: bool
) -> ScanIndex | SqliteVecIndex | PgVectorIndex | None:
    """The index to use now. An index not built for these vectors yet is built first when
    `wait`, else in the background while the scan answers."""
    if current.count == 0:
        return None
    dialect = session.get_bind().dialect.name
    wanted: str | None = None
    if kind == SQLITE_VEC or (kind == AUTO and current.count >= SQLITE_VEC_THRESHOLD):
        wanted = SQLITE_VEC if sqlite_index_path(session) is not None else None
    if wanted is None and dialect == "postgresql":
        large = kind == AUTO and current.count >= PGVECTOR_THRESHOLD
        if (kind == PGVECTOR or large) and pgvector_available(session):
            wanted = PGVECTOR
    if wanted is not None:
        engine = _engine(session)
        if wait:
            build(engine, wanted, current)
        if wait or _built(session, wanted, current):
            if wanted == SQLITE_VEC:
                path = sqlite_index_path(session)
                assert path is not None
                return SqliteVecIndex(path, current.model, current.count)
            return PgVectorIndex(current.model, current.count)
        _build_in_background(engine, wanted, current)
    ids, matrix = load_vectors(session)
    return ScanIndex(ids, matrix)


class _file_lock:
    """One builder per index file across processes (two action servers start together)."""

    def __init__(self, path: Path) -> None:
        self._path = path.with_name(path.name + ".lock")
        self._handle: Any = None

    def __enter__(self) -> None:
        self._handle = self._path.open("a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def index_for(
    session: Session, model_path: str | None = None, kind: str | None = None, wait: bool = False
) -> VectorIndex | None:
    """The index for this catalog's stored vectors, or None when there are none. `kind`
    overrides `SHOPDESK_VECTOR_INDEX`; `wait` builds a missing or stale index before answering
    (an import, a benchmark) instead of scanning meanwhile (a search)."""
    kind = kind if kind in KINDS else wanted_kind()
    where = (
        str(session.get_bind().engine.url),
        model_name(model_path or default_model_path()),
        kind,
    )
    now = time.monotonic()
    with _entries_lock:
        entry = _entries.get(where)
    if entry is None or now - entry.checked_at >= RECHECK_SECONDS:
        current = stored(session, model_path)
        if entry is None or entry.current != current:
            entry = _Entry(now, current, _open(session, current, kind, wait))
        else:
            entry.checked_at = now
        with _entries_lock:
            _entries[where] = entry
    index = entry.index
    return index.bind(session) if isinstance(index, PgVectorIndex) else index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.vector_index",
        description="Build the catalog's vector index now (search builds it when needed).",
    )
    parser.add_argument("command", choices=["build", "status"])
    parser.add_argument(
        "--database-url", help="default: SHOPDESK_DATABASE_URL or var/shopdesk.sqlite3"
    )
    parser.add_argument("--kind", choices=KINDS, default=AUTO)
    args = parser.parse_args(argv)

    from catalog.db import session_scope
    from catalog.settings import CatalogSettings

    url = args.database_url or CatalogSettings.from_env().database_url
    with session_scope(url) as session:
        current = stored(session)
        if args.command == "build":
            clear()
            if args.kind == SQLITE_VEC and (path := sqlite_index_path(session)):
                path.unlink(missing_ok=True)
            started = time.perf_counter()
            index = index_for(session, kind=args.kind, wait=True)
            print(
                f"{current.count} vectors of {current.model}: "
                f"{index.kind if index else 'none'} index ready in "
                f"{time.perf_counter() - started:.1f} s"
            )
        else:
            index = index_for(session, kind=args.kind)
            used = index.kind if index else "none"
            print(f"{current.count} vectors of {current.model}; search uses: {used}")
    print(f"(database {make_url(url).render_as_string(hide_password=True)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
