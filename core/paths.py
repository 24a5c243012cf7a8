"""Where the project lives on disk, computed once here rather than from each module's own
`__file__`, so moving a module never moves the folders it reads and writes."""

from __future__ import annotations

from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
"""The checkout's root: the folder that holds `pyproject.toml`, `bot/` and `var/`."""

VAR_DIR: Final = PROJECT_ROOT / "var"
"""Run-time state (databases, logs, keys); never committed."""

BOT_DIR: Final = PROJECT_ROOT / "bot"
DOMAIN_FILE: Final = BOT_DIR / "domain.yml"
