"""benchmarks/hybrid.py and the --signals switch of benchmarks/relevance.py."""

import argparse
import os

import pytest

from benchmarks import hybrid
from benchmarks.relevance import SIGNALS, parse_signals, signals
from catalog import search as search_module
from catalog.semantic import MODE_VARIABLE, Mode, mode
from tests.benchmarks.help import assert_help_explains_every_option


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert_help_explains_every_option(hybrid.main, hybrid.parser, capsys)


def test_signals_are_parsed_by_name() -> None:
    assert parse_signals("text, semantic") == {"text", "semantic"}
    assert parse_signals("all") == set(SIGNALS)
    with pytest.raises(argparse.ArgumentTypeError, match="unknown signal bm25"):
        parse_signals("text,bm25")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_signals(" , ")


def test_signals_switch_weights_and_semantic_mode_and_restore_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    before = (search_module.TEXT_WEIGHT, search_module.SEMANTIC_WEIGHT)
    with signals(frozenset({"text", "semantic"})):
        assert before[0] == search_module.TEXT_WEIGHT and search_module.SEMANTIC_WEIGHT > 0
        assert search_module.CATEGORY_WEIGHT == search_module.RATING_WEIGHT == 0.0
        assert mode() is Mode.RANK  # ranking only: no semantic candidates
    with signals(frozenset({"text"})):
        assert search_module.SEMANTIC_WEIGHT == 0.0 and mode() is Mode.OFF
    with signals(frozenset(SIGNALS)):
        assert mode() is Mode.ON
    assert before == (search_module.TEXT_WEIGHT, search_module.SEMANTIC_WEIGHT)
    assert search_module.CATEGORY_WEIGHT > 0 and MODE_VARIABLE not in os.environ


def test_the_report_shows_every_combination_run() -> None:
    row = {
        "signals": "lexical", "on": ["text"], "queries": 100, "ndcg_at_10": 0.88, "mrr": 1.0,
        "groups": {"category": 0.95, "gear": 0.8},
    }  # fmt: skip
    result = {
        "measured_at": "now", "command": "python -m benchmarks.hybrid",
        "machine": {"cpu": "a CPU", "cores": 2}, "database": "Luma",
        "relevance": [row, {**row, "signals": "all", "ndcg_at_10": 0.92}],
        "latency": {
            "queries": 100, "repeats": 3, "model_load_s": 4.0, "rss_added_mib": 400,
            "off": {"p50_ms": 5.0, "p95_ms": 7.0}, "on": {"p50_ms": 20.0, "p95_ms": 27.0},
            "added": {"p50_ms": 15.0, "p95_ms": 20.0}, "encode": {"p50_ms": 14.0, "p95_ms": 19.0},
        },
    }  # fmt: skip
    shown = hybrid.markdown(result)
    assert "| lexical | 0.880 | 1.000 | 0.950 | 0.800 |" in shown
    assert "| all | 0.920 |" in shown
    assert "| added per search | 15.0 | 20.0 |" in shown
    assert "Shopper set: not run (--shoppers)." in shown
