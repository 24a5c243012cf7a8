"""alembic.ini at the root drives Alembic's own command line against the shop database, and
the models and the migrations agree: autogenerate on a migrated database writes an empty
migration (a model change without its migration fails here, not on a shop's server)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

from alembic import command
from alembic.config import Config

from catalog.db import MIGRATIONS_DIR, migrate
from core.paths import PROJECT_ROOT

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
ALEMBIC = Path(sys.executable).with_name("alembic")


def run_alembic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ALEMBIC), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_command_line_upgrades_and_finds_nothing_to_generate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    upgraded = run_alembic("-x", f"url={url}", "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = run_alembic("-x", f"url={url}", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def function_body(source: str, name: str) -> list[ast.stmt]:
    tree = ast.parse(source)
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(found) == 1, f"no single {name}() in the generated migration"
    return found[0].body


def test_autogenerate_on_the_current_models_writes_an_empty_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    scripts = tmp_path / "migrations"  # a copy: the generated file never lands in the tree
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(scripts))
    config.set_section_option("post_write_hooks", "hooks", "")
    config.cmd_opts = Namespace(x=[f"url={url}"])  # as `-x url=...`: env.py opens it
    command.revision(config, message="models agree", autogenerate=True)

    written = sorted((scripts / "versions").glob("*models_agree.py"))
    assert len(written) == 1
    source = written[0].read_text()
    heads = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert written[0].name.startswith(f"{int(heads[-1]) + 1:04d}_")  # numbered after the head
    for name in ("upgrade", "downgrade"):
        body = function_body(source, name)
        assert all(isinstance(s, ast.Pass) for s in body), f"{name}() is not empty:\n{source}"
