"""What the live-stack tests share: a stack prepared (catalog, models) and started, stopped
afterwards; skipped without the virtual environments (failed when CI=true)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from launcher.fresh import fresh_config
from launcher.stack import ROOT, Stack, StackConfig, missing_environments, prepare
from tests.conftest import skip_or_fail


@contextmanager
def live_stack(config: StackConfig) -> Iterator[Stack]:
    if missing := missing_environments(config):
        skip_or_fail("the virtual environments are missing: " + ", ".join(missing))
    prepare(config)
    with Stack(config) as running:
        yield running


Account = tuple[str, str, str]  # username, display name, password


@contextmanager
def console_stack(
    work: Path, admin: Account, agents: Sequence[Account], **env: str
) -> Iterator[Stack]:
    """A fresh stack whose console has its first admin (from the environment, as a shop sets
    it) and these agents, added with `python -m web agents add` (password by environment,
    never on a command line); `env` adds settings. Handoffs wait an hour unless `env` says."""
    config = fresh_config(work, work / "logs")
    config = replace(
        config,
        extra_env={
            **config.extra_env,
            "SHOPDESK_ADMIN_USERNAME": admin[0],
            "SHOPDESK_ADMIN_PASSWORD": admin[2],
            "SHOPDESK_HANDOFF_TIMEOUT_S": "3600",
            **env,
        },
    )
    with live_stack(config) as running:
        for username, name, password in agents:
            subprocess.run(
                [sys.executable, "-m", "web", "agents", "add", "--username", username, "--name",
                 name, "--password-env", "AGENT_PASSWORD"],
                cwd=ROOT, env={**config.env(), "AGENT_PASSWORD": password}, check=True,
                capture_output=True,
            )  # fmt: skip
        yield running
