"""The scaled setup: conversations and the catalog on PostgreSQL, Redis's ticket lock on each
conversation, several Rasa instances and action servers (docs/deployment.md).

`SHOPDESK_DEPLOYMENT=scaled` switches to it from the embedded default (SQLite files, one
process of each kind). Its settings, all optional:

- `SHOPDESK_POSTGRES_URL` (default `postgresql://127.0.0.1:5432/shopdesk`): one database for
  the catalog and Rasa's conversations; created if missing.
- `SHOPDESK_REDIS_URL` (default `redis://127.0.0.1:6379/1`): Rasa's lock store.
- `SHOPDESK_RASA_INSTANCES` / `SHOPDESK_ACTIONS_INSTANCES` (default 2 / 2): how many of each
  this machine runs; instance i listens on the base port + 100 * i.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Self
from urllib.parse import unquote, urlsplit

from pydantic import BeforeValidator

from core.extras import Extra, missing_extra
from core.settings import Section, SettingsError, Text, choice, var

DEPLOYMENTS = ("embedded", "scaled")
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1:5432/shopdesk"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
# Instance i of a kind listens on its base port + PORT_STEP * i (5005, 5105, ...).
PORT_STEP = 100
MAX_INSTANCES = 16


class ScaledSetupError(SettingsError):
    """A setting of the scaled setup is wrong, or PostgreSQL or Redis cannot be reached."""


class DeploymentSettings(Section):
    """`SHOPDESK_DEPLOYMENT`: `embedded` (default) or `scaled`, any case."""

    deployment: Annotated[str, BeforeValidator(lambda v: choice(*DEPLOYMENTS)(str(v).lower()))] = (
        var("SHOPDESK_DEPLOYMENT", "embedded")
    )


def deployment_from_env(environ: Mapping[str, str] | None = None) -> str:
    """`SHOPDESK_DEPLOYMENT`: `embedded` (default) or `scaled`."""
    try:
        return DeploymentSettings.from_env(environ).deployment
    except SettingsError as error:
        raise ScaledSetupError(str(error)) from None


def _count(value: object) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_INSTANCES:
        raise ValueError(f"must be a whole number from 1 to {MAX_INSTANCES} (got {text!r})")
    return int(text)


Instances = Annotated[int, BeforeValidator(_count)]


def postgres_url_for_rasa(url: str) -> str:
    """Rasa's side (SQLAlchemy 1.4, psycopg2) takes a plain `postgresql://` URL."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


class ScaledSettings(Section):
    postgres_url: Text = var("SHOPDESK_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    redis_url: Text = var("SHOPDESK_REDIS_URL", DEFAULT_REDIS_URL)
    rasa_instances: Instances = var("SHOPDESK_RASA_INSTANCES", 2)
    actions_instances: Instances = var("SHOPDESK_ACTIONS_INSTANCES", 2)
    # Rasa's lock keys start with it; alphanumeric (Rasa ignores anything else).
    redis_key_prefix: str = "shopdesk"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Self:
        """The settings, checked (ScaledSetupError, with a sentence, for a bad one)."""
        try:
            settings = super().from_env(environ, **given)
        except SettingsError as error:
            raise ScaledSetupError(str(error)) from None
        settings.check()
        return settings

    def check(self) -> None:
        """Clear errors for URLs that cannot work (before any process starts)."""
        if not re.match(r"^postgres(ql)?(\+\w+)?://", self.postgres_url):
            raise ScaledSetupError(
                "SHOPDESK_POSTGRES_URL must be a PostgreSQL URL such as "
                f"{DEFAULT_POSTGRES_URL} (it is not shown here, as it may hold a password)"
            )
        if not urlsplit(self.postgres_url).path.strip("/"):
            raise ScaledSetupError("SHOPDESK_POSTGRES_URL must name a database, e.g. /shopdesk")
        redis = urlsplit(self.redis_url)
        if redis.scheme != "redis" or not redis.hostname:
            raise ScaledSetupError(
                f"SHOPDESK_REDIS_URL must look like {DEFAULT_REDIS_URL} (redis://host:port/db)"
            )
        if not self.redis_key_prefix.isalnum():
            raise ScaledSetupError("the Redis key prefix must be letters and digits only")

    @property
    def redis_db(self) -> int:
        path = urlsplit(self.redis_url).path.strip("/")
        if path and not path.isdigit():
            raise ScaledSetupError("SHOPDESK_REDIS_URL's path must be a database number, e.g. /1")
        return int(path or 0)

    def env(self) -> dict[str, str]:
        """The variables every process of the scaled setup reads (bot/endpoints.scaled.yml)."""
        redis = urlsplit(self.redis_url)
        return {
            "SHOPDESK_DEPLOYMENT": "scaled",
            "SHOPDESK_DATABASE_URL": self.postgres_url,
            "SHOPDESK_TRACKER_DB_URL": postgres_url_for_rasa(self.postgres_url),
            "SHOPDESK_REDIS_URL": self.redis_url,
            "SHOPDESK_REDIS_HOST": redis.hostname or "127.0.0.1",
            "SHOPDESK_REDIS_PORT": str(redis.port or 6379),
            "SHOPDESK_REDIS_DB": str(self.redis_db),
            "SHOPDESK_REDIS_USERNAME": unquote(redis.username or ""),
            "SHOPDESK_REDIS_PASSWORD": unquote(redis.password or ""),
            "SHOPDESK_REDIS_KEY_PREFIX": self.redis_key_prefix,
        }


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database of `url` if it is missing; True if it was created.

    Connects to the server's `postgres` maintenance database as the URL's role, which needs the
    CREATEDB right the first time (or create the database once by hand: docs/deployment.md).
    """
    from sqlalchemy.engine import make_url

    with missing_extra(Extra.SCALED, "The scaled setup (PostgreSQL)"):
        import psycopg
        from psycopg import sql

    parsed = make_url(postgres_url_for_rasa(url))
    name = parsed.database or ""
    conninfo = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists:
                return False
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.Error as error:
        # psycopg's message names host and role, never the password
        raise ScaledSetupError(
            f"PostgreSQL (SHOPDESK_POSTGRES_URL) cannot be used: {str(error).strip()}"
        ) from None


def check_redis(url: str) -> None:
    """ScaledSetupError unless Redis answers PING (before Rasa starts and fails less clearly)."""
    with missing_extra(Extra.SCALED, "The scaled setup (Redis)"):
        import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        client.ping()
        client.close()
    except redis.RedisError as error:
        raise ScaledSetupError(f"Redis (SHOPDESK_REDIS_URL) cannot be used: {error}") from None
