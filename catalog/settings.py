"""Where the catalog database lives; read from the environment so every process agrees."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "shopdesk.sqlite3"
LUMA_DATA_DIR = Path(__file__).resolve().parent / "data" / "luma"


@dataclass(frozen=True)
class CatalogSettings:
    """`SHOPDESK_DATABASE_URL` wins; otherwise a SQLite file at `SHOPDESK_DB_PATH`."""

    database_url: str
    shop_url: str

    @classmethod
    def from_env(cls) -> CatalogSettings:
        url = os.environ.get("SHOPDESK_DATABASE_URL", "").strip()
        if not url:
            path = Path(os.environ.get("SHOPDESK_DB_PATH", str(DEFAULT_DB_PATH))).expanduser()
            url = f"sqlite:///{path.resolve()}"
        shop_url = os.environ.get("SHOPDESK_SHOP_URL", "https://luma.example.com").rstrip("/")
        return cls(database_url=url, shop_url=shop_url)
