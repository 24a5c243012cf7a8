"""Stacks of their own: a `StackConfig` on free ports with a temporary tracker and catalog.

The story runner, the end-to-end tests and the benchmarks each start a stack beside any that
is running (`make run`), so theirs must share no port and no database with it. It sits above
`stack` and `scaled` and below their users, which keeps those two free of each other's callers.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from catalog.policies import write_always_open
from catalog.settings import CatalogSettings
from launcher.ports import free_port
from launcher.scaled import ScaledSettings
from launcher.stack import StackConfig, rasa_token_from_env


def fresh_config(work: Path, log_dir: Path) -> StackConfig:
    """A stack of its own: free ports, a tracker and a catalog in `work` (both new, so stories
    that change orders are repeatable), logs in `log_dir`. The shop's settings are copied with
    support in at every hour (issue 21's business hours), so a handoff in a story or a test
    does not depend on the hour it runs at."""
    shop_settings = write_always_open(
        CatalogSettings.from_env().shop_settings, work / "shop.always-open.yml"
    )
    return StackConfig(
        rasa_port=free_port(),
        actions_port=free_port(),
        nlu_port=free_port(),
        web_port=free_port(),
        log_dir=log_dir,
        tracker_db=work / "tracker.sqlite3",
        # An empty URL makes the catalog use SHOPDESK_DB_PATH even if the shell sets one.
        extra_env={
            "SHOPDESK_DB_PATH": str(work / "shop.sqlite3"),
            "SHOPDESK_DATABASE_URL": "",
            "SHOPDESK_SHOP_SETTINGS": str(shop_settings),
        },
        rasa_token=rasa_token_from_env(),
    )


def scaled_config(work: Path, settings: ScaledSettings | None = None) -> StackConfig:
    """A scaled stack of its own (for the benchmark and the tests): free ports, logs in `work`,
    PostgreSQL and Redis from `settings` (default: the environment)."""
    settings = settings or ScaledSettings.from_env()
    config = fresh_config(work, work / "logs")
    return replace(
        config,
        deployment="scaled",
        rasa_instances=settings.rasa_instances,
        actions_instances=settings.actions_instances,
        extra_env={**config.extra_env, **settings.env()},
    )
