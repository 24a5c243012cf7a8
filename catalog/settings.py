"""The shop database's and the catalog's settings, read from the environment (core.settings)
so every process agrees where the data is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from pydantic import BeforeValidator

from core.paths import PROJECT_ROOT, VAR_DIR
from core.settings import Section, Text, settings, var

DEFAULT_DB_PATH: Final = VAR_DIR / "shopdesk.sqlite3"
LUMA_DATA_DIR: Final = Path(__file__).resolve().parent / "data" / "luma"
DEFAULT_SHOP_URL: Final = "https://luma.example.com"
DEFAULT_PUBLIC_URL: Final = "http://127.0.0.1:5080"
DEFAULT_SHOP_SETTINGS: Final = PROJECT_ROOT / "shop.yml"


def _site(value: object) -> str:
    """A site's address without the trailing slash that would double in joined links."""
    return str(value).strip().rstrip("/")


def _word(value: object) -> str:
    return str(value).strip().lower()


Site = Annotated[str, BeforeValidator(_site)]
Word = Annotated[str, BeforeValidator(_word)]


class CatalogSettings(Section):
    """`SHOPDESK_DATABASE_URL` wins; otherwise a SQLite file at `SHOPDESK_DB_PATH`."""

    database_url_given: Text = var("SHOPDESK_DATABASE_URL", "")
    db_path: Path = var("SHOPDESK_DB_PATH", DEFAULT_DB_PATH)
    shop_url: Site = var("SHOPDESK_SHOP_URL", DEFAULT_SHOP_URL)
    # Where shoppers reach ShopDesk's web server, for e-mailed links (newsletter confirmation).
    public_url: Site = var("SHOPDESK_PUBLIC_URL", DEFAULT_PUBLIC_URL)
    # The shop's policies (returns window, delivery, ...): catalog/policies.py.
    shop_settings: Path = var("SHOPDESK_SHOP_SETTINGS", DEFAULT_SHOP_SETTINGS)
    # on | rank | off (catalog/semantic.py); anything else counts as on.
    semantic_search: Word = var("SHOPDESK_SEMANTIC_SEARCH", "")
    # auto | scan | sqlite-vec | pgvector (catalog/vector_index.py); anything else is auto.
    vector_index: Word = var("SHOPDESK_VECTOR_INDEX", "")
    # The product embedding model's folder; else the classifiers' base model
    # (SHOPDESK_NLU_BASE_MODEL, read here too since catalog sits below nlu_models), else the
    # packaged MiniLM.
    embedding_model: Text = var("SHOPDESK_EMBEDDING_MODEL", "")
    nlu_base_model: Text = var("SHOPDESK_NLU_BASE_MODEL", "")

    @property
    def database_url(self) -> str:
        if self.database_url_given:
            return self.database_url_given
        return f"sqlite:///{self.db_path.expanduser().resolve()}"


def catalog_settings() -> CatalogSettings:
    """This process's catalog settings (read once; core.settings.settings)."""
    return settings().section(CatalogSettings)
