"""`python -m catalog.cli sync`: sources, --dry-run, --json, the safety valve's exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import cli
from catalog.sync_cli import EXIT_BAD_ARGUMENTS, EXIT_NOTHING_SYNCED, EXIT_OK, EXIT_REFUSED
from tests.catalog.test_importing import FIXTURES, catalog_content

FEED = FIXTURES / "merchant_feed.tsv"
PARKA = "JKT-100"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty catalog with the Merchant feed imported (three products)."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.delenv("SHOPDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(path))
    assert cli.main(["import", str(FEED), "--no-embeddings"]) == EXIT_OK
    return f"sqlite:///{path}"


def feed_without(tmp_path: Path, sku: str) -> Path:
    """The feed with the rows of one product left out, under the same file name."""
    lines = FEED.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{sku}\t")]
    assert len(kept) == len(lines) - 1
    folder = tmp_path / "today"
    folder.mkdir()
    path = folder / FEED.name
    path.write_text("".join(kept), encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = cli.main(["sync", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_dry_run_reports_and_writes_nothing(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    before = catalog_content(cli_db)
    feed = feed_without(tmp_path, PARKA)
    status, report = run_json(capsys, "--source", "merchant-feed", str(feed), "--dry-run")
    assert status == EXIT_OK
    assert report["status"] == "ok" and report["dry_run"] is True
    assert report["discontinued"] == [PARKA] and report["added"] == 0
    assert catalog_content(cli_db) == before


def test_sync_discontinues_and_says_so(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    feed = feed_without(tmp_path, PARKA)
    argv = ["sync", "--source", "merchant-feed", str(feed), "--no-embeddings"]
    assert cli.main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert "1 discontinued" in out and f"discontinued: {PARKA}" in out
    status, report = run_json(capsys, "--source", "merchant-feed", str(FEED), "--no-embeddings")
    assert status == EXIT_OK and report["relisted"] == [PARKA]


def test_the_safety_valve_exits_4_and_writes_nothing(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    before = catalog_content(cli_db)
    feed = feed_without(tmp_path, PARKA)  # one of three: above 10 %
    argv = ["--source", "merchant-feed", str(feed), "--max-discontinue", "10"]
    status, report = run_json(capsys, *argv)
    assert status == EXIT_REFUSED and report["status"] == "refused"
    assert "--allow-mass-discontinue" in str(report["message"])
    assert catalog_content(cli_db) == before
    status, report = run_json(capsys, *argv, "--allow-mass-discontinue", "--no-embeddings")
    assert status == EXIT_OK and report["discontinued"] == [PARKA]


@pytest.mark.parametrize(
    ("argv", "status", "said"),
    [
        (["--source", "shopify"], EXIT_BAD_ARGUMENTS, "is not one of"),
        (["--source", "merchant-feed"], EXIT_BAD_ARGUMENTS, "needs the feed's FILE"),
        (["--source", "connector", "x"], EXIT_BAD_ARGUMENTS, "takes no path"),
        (["--source", "merchant-feed", "/no/such/feed.tsv"], EXIT_NOTHING_SYNCED, "not found"),
        (["--source", "connector"], EXIT_NOTHING_SYNCED, "has no products to sync"),
    ],
)
def test_bad_sources_are_told_politely(
    cli_db: str, capsys: pytest.CaptureFixture[str], argv: list[str], status: int, said: str
) -> None:
    capsys.readouterr()
    assert cli.main(["sync", *argv]) == status
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_help_explains_the_sources_and_the_valve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["sync", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for words in ("merchant-feed FILE", "connector", "--dry-run", "--allow-mass-discontinue"):
        assert words in out
