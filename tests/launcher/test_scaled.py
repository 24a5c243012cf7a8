"""launcher.scaled: one switch (SHOPDESK_DEPLOYMENT=scaled) moves the stack onto PostgreSQL and
Redis with several Rasa instances and action servers; bad settings get a clear error that never
shows a password."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from launcher.scaled import (
    DEFAULT_REDIS_URL,
    ScaledSettings,
    ScaledSetupError,
    check_redis,
    deployment_from_env,
    ensure_database,
    postgres_url_for_rasa,
)
from launcher.stack import Stack, StackConfig, StackError
from tests.catalog.test_postgres import SERVER_URL, postgres_admin
from tests.conftest import skip_or_fail


def test_embedded_is_the_default_and_anything_else_is_refused() -> None:
    assert deployment_from_env({}) == "embedded"
    assert deployment_from_env({"SHOPDESK_DEPLOYMENT": " Scaled "}) == "scaled"
    with pytest.raises(ScaledSetupError, match="embedded, scaled"):
        deployment_from_env({"SHOPDESK_DEPLOYMENT": "kubernetes"})


def test_the_scaled_settings_have_working_defaults() -> None:
    settings = ScaledSettings.from_env({})
    assert (settings.rasa_instances, settings.actions_instances) == (2, 2)
    env = settings.env()
    assert env["SHOPDESK_DATABASE_URL"] == "postgresql://127.0.0.1:5432/shopdesk"
    assert env["SHOPDESK_TRACKER_DB_URL"] == "postgresql://127.0.0.1:5432/shopdesk"
    assert (env["SHOPDESK_REDIS_HOST"], env["SHOPDESK_REDIS_PORT"], env["SHOPDESK_REDIS_DB"]) == (
        "127.0.0.1",
        "6379",
        "1",
    )


def test_urls_with_passwords_are_split_for_rasa() -> None:
    settings = ScaledSettings(
        postgres_url="postgresql+psycopg://shop:s%40cret@db.internal:5433/shop",
        redis_url="redis://lock:p%3Ass@cache.internal:6380/3",
    )
    env = settings.env()
    # Rasa's side has psycopg2: the driver is dropped, the rest kept as it is
    assert env["SHOPDESK_TRACKER_DB_URL"] == "postgresql://shop:s%40cret@db.internal:5433/shop"
    assert env["SHOPDESK_REDIS_HOST"] == "cache.internal"
    assert env["SHOPDESK_REDIS_PORT"] == "6380" and env["SHOPDESK_REDIS_DB"] == "3"
    assert env["SHOPDESK_REDIS_USERNAME"] == "lock" and env["SHOPDESK_REDIS_PASSWORD"] == "p:ss"
    assert postgres_url_for_rasa("postgres://a@b/c") == "postgresql://a@b/c"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SHOPDESK_POSTGRES_URL", "mysql://root:hunter2@db/shop", "PostgreSQL URL"),
        ("SHOPDESK_POSTGRES_URL", "postgresql://root:hunter2@db", "name a database"),
        ("SHOPDESK_REDIS_URL", "http://cache:6379", "redis://host:port/db"),
        ("SHOPDESK_RASA_INSTANCES", "0", "from 1 to 16"),
        ("SHOPDESK_ACTIONS_INSTANCES", "many", "from 1 to 16"),
    ],
)
def test_bad_settings_get_a_clear_error_without_the_password(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ScaledSetupError, match=message) as error:
        ScaledSettings.from_env({variable: value})
    assert "hunter2" not in str(error.value)


def test_the_switch_gives_two_rasa_instances_each_with_its_action_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPDESK_DEPLOYMENT", "scaled")
    monkeypatch.setenv("SHOPDESK_POSTGRES_URL", "postgresql://shop:hunter2@127.0.0.1/shop")
    for name in ("SHOPDESK_RASA_PORT", "SHOPDESK_ACTIONS_PORT", "SHOPDESK_RASA_INSTANCES"):
        monkeypatch.delenv(name, raising=False)
    config = StackConfig.from_env()
    assert config.deployment == "scaled" and config.endpoints == "bot/endpoints.scaled.yml"
    assert config.rasa_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5105"]
    assert config.env()["SHOPDESK_RASA_URL"] == "http://127.0.0.1:5005,http://127.0.0.1:5105"
    # the web server reads transcripts from the same store as Rasa keeps them in
    assert config.env()["SHOPDESK_TRACKER_DB_URL"] == "postgresql://shop:hunter2@127.0.0.1/shop"
    assert "hunter2" not in repr(config)
    services = Stack(config).services
    assert list(services) == ["classifier", "actions", "actions-2", "rasa", "rasa-2", "web"]
    assert services["rasa-2"].port == 5105
    assert services["rasa-2"].env["SHOPDESK_ACTIONS_URL"] == "http://127.0.0.1:5155/webhook"
    assert "bot/endpoints.scaled.yml" in services["rasa-2"].command


def test_the_embedded_default_runs_one_of_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPDESK_DEPLOYMENT", raising=False)
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", "postgresql://old@elsewhere/tracker")
    config = StackConfig.from_env()
    assert config.endpoints == "bot/endpoints.yml"
    assert config.env()["SHOPDESK_TRACKER_DB_URL"] == ""  # the SQLite file, not a stale URL
    assert list(Stack(config).services) == ["classifier", "actions", "rasa", "web"]


def test_a_wrong_switch_stops_the_launcher_politely(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_DEPLOYMENT", "cluster")
    with pytest.raises(StackError, match="SHOPDESK_DEPLOYMENT"):
        StackConfig.from_env()


@pytest.mark.postgres
def test_the_database_is_created_once() -> None:
    admin = postgres_admin()
    name = f"shopdesk_create_{uuid.uuid4().hex[:8]}"
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(ScaledSetupError, match="SHOPDESK_POSTGRES_URL") as error:
        ensure_database("postgresql://shop:hunter2@127.0.0.1:9/shop")
    assert "hunter2" not in str(error.value)


@pytest.mark.redis
def test_redis_answers_or_gets_a_clear_error() -> None:
    try:
        check_redis(DEFAULT_REDIS_URL)
    except ScaledSetupError as error:
        skip_or_fail(str(error))
    with pytest.raises(ScaledSetupError, match="SHOPDESK_REDIS_URL"):
        check_redis("redis://127.0.0.1:9/1")
