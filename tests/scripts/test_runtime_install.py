"""`make run` installs what runs the shop and nothing else: `scripts/bootstrap --runtime` uses
the runtime locks (no [dev] test tools), no devDependencies, no demo Oscar venv, and never
calls apt-get; `make setup`/`make test` keep the full install.

bootstrap runs for real in a copy of the project, with stand-ins for python, npm and apt-get
that write down how they were called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT
from tests.conftest import require
from tests.test_dependencies import PYPROJECT, pins, unmet

TOOLS = ["bash", "dirname", "sed", "cat", "sha256sum", "cut", "grep", "mkdir", "cp", "chmod"]
LOCKS = ["py311.lock", "py311-runtime.lock", "rasa.lock", "rasa-runtime.lock", "oscar.lock"]
PYTHON_STAND_IN = """#!/bin/bash
echo "python $*" >> "$STUB_LOG"
case "$1 ${2:-}" in
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && chmod +x "$3/bin/python" ;;
  "-m pip") echo "Successfully installed (stand-in)" ;;
  "--version "*) echo "Python 3 (stand-in)" ;;
esac
exit 0
"""
NPM_STAND_IN = """#!/bin/bash
echo "npm $*" >> "$STUB_LOG"
[[ "$1" == "ci" ]] && mkdir -p node_modules
[[ "$1" == "--version" ]] && echo 10.0.0
exit 0
"""
APT_STAND_IN = """#!/bin/bash
echo "apt-get $*" >> "$STUB_LOG"
exit 0
"""


class Sandbox:
    """A copy of scripts/bootstrap with the files it reads, and stand-ins on PATH."""

    def __init__(self, project_root: Path, tmp_path: Path) -> None:
        self.root = tmp_path / "project"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "calls.log"
        (self.root / "scripts").mkdir(parents=True)
        (self.root / "requirements").mkdir()
        (self.root / "web").mkdir()
        self.bin.mkdir()
        shutil.copy(project_root / "scripts" / "bootstrap", self.root / "scripts" / "bootstrap")
        for lock in LOCKS:
            (self.root / "requirements" / lock).write_text(f"# {lock}\n")
        (self.root / "pyproject.toml").write_text("[project]\nname = 'stand-in'\n")
        (self.root / "web" / "package-lock.json").write_text("{}\n")
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, tool
            (self.bin / tool).symlink_to(found)
        for name, text in {
            "python3.11": PYTHON_STAND_IN,
            "python3.10": PYTHON_STAND_IN,
            "npm": NPM_STAND_IN,
            "apt-get": APT_STAND_IN,
        }.items():
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)

    def bootstrap(self, *args: str) -> list[str]:
        """Run it; the stand-ins' calls, one line each."""
        self.log.write_text("")
        result = subprocess.run(
            ["bash", str(self.root / "scripts" / "bootstrap"), *args],
            env={
                "PATH": str(self.bin),
                "HOME": str(self.root),
                "STUB_LOG": str(self.log),
                "SHOPDESK_PYTHON311": str(self.bin / "python3.11"),
                "SHOPDESK_PYTHON310": str(self.bin / "python3.10"),
            },
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return self.log.read_text().splitlines()


def installs(calls: list[str]) -> list[str]:
    return [call for call in calls if " -m pip install " in call and "--upgrade pip" not in call]


@pytest.fixture
def sandbox(project_root: Path, tmp_path: Path) -> Sandbox:
    return Sandbox(project_root, tmp_path)


def test_the_runtime_install_has_no_test_tools_and_never_calls_apt(sandbox: Sandbox) -> None:
    calls = sandbox.bootstrap("--runtime")
    locks = [call.split(" -r ")[1].split()[0] for call in installs(calls) if " -r " in call]
    assert locks == ["requirements/py311-runtime.lock", "requirements/rasa-runtime.lock"]
    assert [c for c in installs(calls) if " -e " in c] == [
        "python -m pip install --disable-pip-version-check --progress-bar on --no-deps "
        "--no-build-isolation -e ."
    ]  # the project without extras: no [dev]
    assert not [c for c in calls if "[dev]" in c or c.startswith("apt-get")]
    assert [c for c in calls if c.startswith("npm ci")] == [
        "npm ci --ignore-scripts --no-audit --no-fund --omit=dev"
    ]
    assert not (sandbox.root / ".venv-oscar").exists()
    # a second run finds it all done
    assert installs(sandbox.bootstrap("--runtime")) == []


def test_a_full_install_counts_as_a_runtime_one(sandbox: Sandbox) -> None:
    full = sandbox.bootstrap()
    locks = {call.split(" -r ")[1].split()[0] for call in installs(full) if " -r " in call}
    assert locks == {
        "requirements/py311.lock", "requirements/rasa.lock", "requirements/oscar.lock"
    }  # fmt: skip
    calls = sandbox.bootstrap("--runtime")
    assert installs(calls) == [] and not [c for c in calls if c.startswith(("npm ci", "apt"))]


def test_bootstrap_refuses_an_unknown_option(project_root: Path) -> None:
    result = subprocess.run(
        ["bash", str(project_root / "scripts" / "bootstrap"), "--runtim"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "unknown option --runtim" in result.stderr


def test_make_run_takes_the_runtime_path_and_make_test_the_full_one(project_root: Path) -> None:
    make = shutil.which("make")
    require(make, "make is missing")
    assert make is not None

    def dry_run(target: str) -> list[str]:
        result = subprocess.run(
            [make, "-n", target], cwd=project_root, capture_output=True, text=True, check=True,
            env={**os.environ, "MAKEFLAGS": ""},
        )  # fmt: skip
        return result.stdout.splitlines()

    run = dry_run("run")
    assert "scripts/bootstrap --runtime" in run
    assert "scripts/bootstrap" not in run  # the full install (test tools, chromium) is not run
    assert not [line for line in run if "apt" in line or "pip install" in line]
    assert "scripts/bootstrap" in dry_run("lint")  # `make test` depends on it: full install


@pytest.mark.parametrize(
    ("runtime", "full", "left_out"),
    [
        ("py311-runtime.lock", "py311.lock", {"pytest", "ruff", "mypy", "playwright", "opacus"}),
        ("rasa-runtime.lock", "rasa.lock", {"pytest", "mypy"}),
    ],
)
def test_the_runtime_locks_are_the_tested_pins_without_the_test_tools(
    runtime: str, full: str, left_out: set[str]
) -> None:
    """Fails after `make lock` was run with an older scripts/lock (the runtime locks stale)."""
    requirements = PROJECT_ROOT / "requirements"
    runtime_pins, full_pins = pins(requirements / runtime), pins(requirements / full)
    assert {n: v for n, v in runtime_pins.items() if full_pins.get(n) != v} == {}
    assert not left_out & set(runtime_pins)
    assert "--hash=sha256:" in (requirements / runtime).read_text()


def test_the_runtime_lock_pins_every_runtime_requirement() -> None:
    declared = (
        PYPROJECT["project"]["dependencies"]
        + PYPROJECT["project"]["optional-dependencies"]["scaled"]
    )
    assert unmet(declared, pins(PROJECT_ROOT / "requirements" / "py311-runtime.lock")) == []
