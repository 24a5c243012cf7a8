"""No test skips itself past CI: an environment-dependent test says what it needs through
`tests/conftest.py`'s `require` / `require_module` / `skip_or_fail`, which skip on a developer
machine and fail when CI=true. A bare `pytest.skip`, `skipif` or `importorskip` would turn a
missing browser or server into a green run (issue 19 found six that did)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import conftest

TESTS = Path(__file__).resolve().parent
# pytest's own ways to skip; `allow_module_level=True` in conftest.skip_or_fail is the only one
BARE_SKIP = re.compile(r"pytest\.(skip\(|importorskip\(|mark\.skip\b|mark\.skipif\b)")


def test_no_test_file_skips_without_the_ci_check() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(conftest.__file__).resolve() and path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE_SKIP.search(line)
    ]
    assert found == [], "use tests.conftest.require(...) instead:\n" + "\n".join(found)


def test_require_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    conftest.require(True, "never shown")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        conftest.require(False, "no chromium")


def test_require_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv(conftest.WITHOUT_VARIABLE, raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"no chromium \(CI=true: this test must run\)"):
        conftest.require(False, "no chromium")
    with pytest.raises(pytest.fail.Exception):
        conftest.require_module("surely_not_installed_here", "missing")


def test_ci_may_declare_a_feature_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only by name: the skip then says so in the run's summary (-ra)."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(conftest.WITHOUT_VARIABLE, "pgvector, other")
    with pytest.raises(pytest.skip.Exception, match="no vector"):
        conftest.require(False, "no vector", feature="pgvector")
    with pytest.raises(pytest.fail.Exception):
        conftest.require(False, "no redis", feature="redis")
