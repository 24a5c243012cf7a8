"""The architecture of docs/architecture.md holds in the code: layers, no cycles, small modules.

`make lint` runs `lint-imports` too; these tests make the same promises hold in `make test` and
`make test-fast`, and add what import-linter does not check (cycles inside a package, module
size, the Rasa-side package staying apart, the generated graph in the docs being current).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import package_graph

MAX_MODULE_LINES = 700
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_lint_imports_passes_the_layer_contract() -> None:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: scripts/bootstrap installs it (dev extra)")
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_packages_form_no_cycle() -> None:
    edges = {package: set(targets) for package, targets in package_graph.graph().items()}
    edges.pop("tests")  # tests may import anything; nothing imports tests (the contract)
    for targets in edges.values():
        targets.discard("tests")
    assert package_graph.strongly_connected(edges) == []


@pytest.mark.parametrize("package", [p for p in package_graph.packages() if p != "tests"])
def test_no_import_cycle_inside_a_package(package: str) -> None:
    assert package_graph.module_cycles(package) == []


@pytest.mark.parametrize("package", [p for p in package_graph.packages() if p != "tests"])
def test_no_module_is_a_grab_bag(package: str) -> None:
    oversized = {
        package_graph.module_name(path): lines
        for path in package_graph.python_files(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert oversized == {}, f"split these along their seams (over {MAX_MODULE_LINES} lines)"


def test_the_rasa_side_imports_none_of_the_311_packages() -> None:
    """bot/shopdesk_rasa runs in Rasa's Python 3.10 venv, where none of them is installed."""
    ours = set(package_graph.packages())
    for path in sorted((PROJECT_ROOT / "bot" / "shopdesk_rasa").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & ours, f"{path}: {names}"


def test_the_package_graph_in_the_docs_is_current() -> None:
    assert package_graph.main(["--check"]) == 0, "run python3 scripts/package_graph.py --write"
