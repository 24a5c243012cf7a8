"""What the code imports is what pyproject.toml declares, and the locks pin what it declares.

A module imported at run time but declared only in the dev extra (httpx was) works in every
developer's venv and breaks a shop's plain `pip install`. So:
- every third-party import outside tests/ and benchmarks/ belongs to a runtime dependency, or
  to an optional extra and then sits in a `missing_extra` block (core/extras.py);
- every runtime module imports in a process where only the runtime dependencies' own
  distributions can be imported (the dev and optional extras are hidden from it);
- requirements/py311.lock and requirements/rasa.lock pin every declared requirement.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.extras import EXTRA_MODULES, Extra
from core.paths import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
PACKAGES = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
LOCAL = {*PACKAGES, "bot", "tests", "benchmarks"}
OPTIONAL = [Extra.SCALED, Extra.DP]
LOCK = PROJECT_ROOT / "requirements" / "py311.lock"
RASA_LOCK = PROJECT_ROOT / "requirements" / "rasa.lock"
OSCAR_LOCK = PROJECT_ROOT / "requirements" / "oscar.lock"
# Code in the packages' folders that runs in its own venv, never in ShopDesk's: the demo Oscar
# shop (a Django project run in .venv-oscar from requirements/oscar.lock; no __init__.py).
OWN_VENV_DIRS = (PROJECT_ROOT / "connectors" / "oscar_demo",)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


RUNTIME = names(PYPROJECT["project"]["dependencies"])
EXTRAS = {
    extra: names(reqs) for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()
}


def runtime_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(folder) for folder in OWN_VENV_DIRS):
                yield path


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def in_missing_extra(node: ast.AST) -> str | None:
    """The extra named by a `with missing_extra(Extra.X, ...)` block, else None."""
    if isinstance(node, ast.With):
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call) and ast.unparse(call.func).endswith("missing_extra"):
                return ast.unparse(call.args[0]).rpartition(".")[2].lower()
    return None


def third_party_imports(tree: ast.AST) -> Iterator[tuple[str, int, str | None]]:
    """(top-level module, line, extra of the enclosing missing_extra block) for each import
    that runs: those under `if TYPE_CHECKING:` do not."""

    def walk(node: ast.AST, extra: str | None) -> Iterator[tuple[str, int, str | None]]:
        for child in ast.iter_child_nodes(node):
            if is_type_checking(child):
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    yield top, getattr(child, "lineno", 0), extra
            yield from walk(child, in_missing_extra(child) or extra)

    yield from walk(tree, None)


@cache
def distributions_of(module: str) -> frozenset[str]:
    return frozenset(
        canonicalize_name(d) for d in metadata.packages_distributions().get(module, [])
    )


def test_every_runtime_import_is_a_declared_runtime_or_optional_dependency() -> None:
    problems = []
    for path in runtime_files():
        where = path.relative_to(PROJECT_ROOT)
        for module, line, extra in third_party_imports(ast.parse(path.read_text())):
            dists = distributions_of(module)
            if not dists:
                problems.append(f"{where}:{line}: {module} is not installed in this venv")
            elif dists & RUNTIME:
                continue
            elif owner := next((e for e in OPTIONAL if dists & EXTRAS[e]), None):
                if extra != owner:
                    problems.append(
                        f"{where}:{line}: {module} is in the [{owner}] extra: import it inside "
                        f"`with missing_extra(Extra.{owner.name}, ...)`"
                    )
            else:
                problems.append(
                    f"{where}:{line}: {module} ({', '.join(sorted(dists))}) is not a runtime "
                    "dependency in pyproject.toml"
                )
    assert problems == []


def test_the_extras_that_code_checks_for_are_the_ones_pyproject_declares() -> None:
    for extra, modules in EXTRA_MODULES.items():
        declared = {d for m in modules for d in distributions_of(m)}
        assert declared == EXTRAS[extra], extra


def pins(lock: Path) -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in PIN.findall(lock.read_text())}


def unmet(requirements: list[str], pinned: dict[str, str]) -> list[str]:
    wrong = []
    for line in requirements:
        requirement = Requirement(line)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{line} (locked: {version})")
    return wrong


def test_the_py311_lock_pins_every_requirement_of_pyproject() -> None:
    """Fails after a pyproject.toml change without `make lock`."""
    declared = PYPROJECT["project"]["dependencies"] + [
        r for reqs in PYPROJECT["project"]["optional-dependencies"].values() for r in reqs
    ]
    pinned = pins(LOCK)
    assert unmet(declared, pinned) == []
    assert pinned["torch"].endswith("+cpu")  # never PyPI's CUDA build
    assert "--hash=sha256:" in LOCK.read_text()


def test_the_rasa_lock_pins_every_requirement_of_the_rasa_venv() -> None:
    declared = []
    for name in ("rasa.txt", "rasa-dev.txt"):
        for line in (PROJECT_ROOT / "requirements" / name).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                declared.append(line.split("#")[0].strip())
    assert unmet(declared, pins(RASA_LOCK)) == []


def test_the_oscar_lock_pins_every_requirement_of_the_demo_shop() -> None:
    declared = [
        line.split("#")[0].strip()
        for line in (PROJECT_ROOT / "requirements" / "oscar.in").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert unmet(declared, pins(OSCAR_LOCK)) == []
    assert "--hash=sha256:" in OSCAR_LOCK.read_text()


def runtime_closure() -> set[str]:
    """The distributions a plain `pip install shopdesk` brings: the runtime dependencies and
    theirs, markers evaluated here, no extras."""
    found: set[str] = set()
    todo = [(r, frozenset[str]()) for r in PYPROJECT["project"]["dependencies"]]
    while todo:
        line, extras = todo.pop()
        requirement = Requirement(line) if isinstance(line, str) else line
        env_ok = requirement.marker is None or any(
            requirement.marker.evaluate({"extra": e}) for e in (extras or {""})
        )
        name = canonicalize_name(requirement.name)
        if not env_ok:
            continue
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found.add(key)
        found.add(name)
        for child in metadata.requires(name) or []:
            todo.append((child, frozenset(requirement.extras)))
    return {n for n in found if "[" not in n}


IMPORT_ALL = """
import importlib, json, pkgutil, site, sys

root, site_dir, packages = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, root)
site.addsitedir(site_dir)  # the runtime packages only, .pth files included
failed = {}
for package in packages:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.endswith("__main__") or ".migrations" in info.name:
            continue  # __main__ runs a program; migrations run inside Alembic
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failed[info.name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


def runtime_site_packages(target: Path) -> set[str]:
    """`target` made a site-packages holding links to this venv's files of the runtime closure
    only; returns the distributions linked."""
    keep = runtime_closure()
    linked: set[str] = set()
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name not in keep:
            continue
        linked.add(name)
        base = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            top = file.parts[0]
            if top == ".." or (target / top).exists():
                continue
            if (base / top).exists():
                (target / top).symlink_to(base / top)
    return linked


@pytest.mark.slow  # builds a venv: `make test-fast` leaves it out
def test_every_runtime_module_imports_without_the_dev_and_optional_extras(tmp_path: Path) -> None:
    """In a process whose only site-packages is links to the runtime closure's files (no dev
    tools, no [scaled] or [dp] extra), as a venv made without them: offline and in seconds,
    where installing such a venv would take minutes."""
    site_dir = tmp_path / "site-packages"
    site_dir.mkdir()
    linked = runtime_site_packages(site_dir)
    assert {"torch", "httpx", "sqlalchemy"} <= linked
    assert not {"pytest", "mypy", "hypothesis", "psycopg", "redis", "opacus"} & linked
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT_ALL, str(PROJECT_ROOT), str(site_dir),
         json.dumps(PACKAGES)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}
