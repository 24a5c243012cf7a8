"""benchmarks/vector_index.py: its synthetic data and a run at a tiny size."""

import numpy as np
import pytest

from benchmarks import vector_index as bench
from tests.benchmarks.help import assert_help_explains_every_option


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert_help_explains_every_option(bench.main, bench.build_parser, capsys)


def test_synthetic_vectors_are_unit_length_and_queries_have_neighbours() -> None:
    rng = np.random.default_rng(0)
    products = bench.product_vectors(2_000, rng)
    assert products.shape == (2_000, bench.DIMENSION) and products.dtype == np.float32
    assert np.allclose(np.linalg.norm(products, axis=1), 1.0, atol=1e-5)
    queries = bench.queries_near(products, 20, rng)
    best = (products @ queries.T).max(axis=0)
    assert best.min() > 0.8  # each query has a product close to it


def test_a_tiny_run_measures_the_scan_and_sqlite_vec() -> None:
    rows = bench.run([60], query_count=5, repeats=1, postgres=None, progress=lambda _: None)
    kinds = {row["index"]: row for row in rows}
    assert set(kinds) == {"scan", "sqlite-vec"}
    for row in rows:
        assert row["available"] and row["recall_at_10"] == 1.0 and row["p95_ms"] >= 0
    markdown = bench.markdown(
        {
            "measured_at": "now", "command": "python -m benchmarks.vector_index",
            "machine": {"cpu": "a CPU", "cores": 2, "memory_gib": 8}, "queries": 5,
            "repeats": 1, "rows": rows, "notes": ["a note"],
        }
    )  # fmt: skip
    assert "Synthetic data" in markdown and "| 60 | sqlite | sqlite-vec |" in markdown
    assert markdown.rstrip().endswith("- a note")


def test_bad_sizes_are_refused_politely(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.main(["--sizes", "many"])
    assert exited.value.code == 2 and "sizes must be whole numbers" in capsys.readouterr().err
