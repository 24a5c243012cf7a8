"""`python -m launcher systemd [--out DIR] [--user NAME]`: systemd unit files for the stack's
processes, so a shop's server starts ShopDesk at boot and restarts a process that crashes.

One `.service` per process the launcher would start (classifier, action server(s), Rasa
instance(s), web server), with the same command, working directory and environment
(`Stack`'s, so the two never drift apart), and `shopdesk.target` grouping them. Secrets (the
tokens the processes share, database URLs, the admin's password) are never in a unit, which
every local user may read (`systemctl cat`): each service names an EnvironmentFile, mode 0600,
holding only the secrets its kind of process gets (SECRET_RECIPIENTS). The tokens are made
once, here, unless the environment gives them: each process must hold the same ones.

Restarts are systemd's (Restart=on-failure, at most StartLimitBurst within
StartLimitIntervalSec); the launcher's supervisor is not involved, so `/health` counts none:
`systemctl show -p NRestarts shopdesk-actions` does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from core.paths import VAR_DIR
from launcher.stack import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    ROOT,
    SECRET_RECIPIENTS,
    Service,
    Stack,
    StackConfig,
)

DEFAULT_OUT: Final = VAR_DIR / "systemd"
PREFIX: Final = "shopdesk"
TARGET: Final = f"{PREFIX}.target"
RESTART_SEC: Final = 2
START_LIMIT_INTERVAL_SEC: Final = 600
START_LIMIT_BURST: Final = 5
STOP_TIMEOUT_SEC: Final = 15
UMASK: Final = "0077"
# only the launcher's own supervisor writes it; under systemd it would be stale
LAUNCHER_ONLY: Final = frozenset({"SHOPDESK_RESTARTS_FILE"})
# which processes must be up before which (systemd's After=/Wants=)
NEEDS: Final = {"rasa": ("classifier", "actions"), "web": ("rasa",)}
WHAT: Final = {
    "classifier": "the intent and category classifier",
    "actions": "the action server",
    "rasa": "Rasa, the dialogue",
    "web": "the web server: chat widget and agent console",
}
PLAIN_WORD: Final = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


class UnitError(ValueError):
    """A value that a unit or environment file cannot hold (a line break)."""


def unit_name(service: str) -> str:
    return f"{PREFIX}-{service}.service"


def env_file_name(service: str) -> str:
    return f"{PREFIX}-{service}.env"


def _no_line_break(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise UnitError("a setting holds a line break, which a systemd file cannot hold")
    return value


def escape(value: str, expand_variables: bool = False) -> str:
    """`value` in double quotes as systemd reads it: backslashes and quotes escaped, `%` (its
    specifiers) doubled, and in a command line `$` (its variables) too."""
    text = _no_line_break(value).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    if expand_variables:
        text = text.replace("$", "$$")
    return f'"{text}"'


def exec_line(command: list[str]) -> str:
    """ExecStart's value: the program as an absolute path, each argument quoted if needed."""
    return " ".join(
        word.replace("%", "%%") if PLAIN_WORD.fullmatch(word) else escape(word, True)
        for word in command
    )


def env_file_text(secrets: Mapping[str, str]) -> str:
    """An EnvironmentFile: `NAME="value"` lines (no specifiers are expanded there)."""
    lines = []
    for name, value in sorted(secrets.items()):
        quoted = _no_line_break(value).replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{name}="{quoted}"')
    return "# ShopDesk's secrets for one process (python -m launcher systemd); keep it 0600\n" + (
        "\n".join(lines) + "\n"
    )


@dataclass(frozen=True)
class UnitFiles:
    """What `write` produces: unit file name -> text, env file name -> text."""

    units: dict[str, str]
    env_files: dict[str, str]


def _settings_only(environ: Mapping[str, str]) -> dict[str, str]:
    """Of the user's environment, the ShopDesk settings only: a unit does not inherit the
    shell's PATH, HOME or locale (systemd gives its own)."""
    return {name: value for name, value in environ.items() if name.startswith("SHOPDESK_")}


def service_unit(
    service: Service, config: StackConfig, env_dir: Path, user: str | None, names: list[str]
) -> tuple[str, str]:
    """The unit's text and its EnvironmentFile's text for one process."""
    environment = {
        **config.env(service.role, environ=_settings_only(os.environ)),
        **service.env,
    }
    secrets = {
        name: value
        for name, value in environment.items()
        if name in SECRET_RECIPIENTS and value.strip()
    }
    plain = {
        name: value
        for name, value in sorted(environment.items())
        if name not in SECRET_RECIPIENTS and name not in LAUNCHER_ONLY
    }
    needs = [
        unit_name(other)
        for other in names
        if any(other.split("-")[0] == kind for kind in NEEDS.get(service.role, ()))
    ]
    unit = [
        "[Unit]",
        f"Description=ShopDesk {service.name}: {WHAT.get(service.role, service.role)}",
        f"Documentation=file://{ROOT / 'docs' / 'deployment.md'}",
        f"PartOf={TARGET}",
        "After=network.target" + "".join(f" {n}" for n in needs),
        *([f"Wants={' '.join(needs)}"] if needs else []),
        f"StartLimitIntervalSec={START_LIMIT_INTERVAL_SEC}",
        f"StartLimitBurst={START_LIMIT_BURST}",
        "",
        "[Service]",
        "Type=simple",
        *([f"User={user}"] if user else []),
        f"WorkingDirectory={ROOT}",
        *(f"Environment={escape(f'{name}={value}')}" for name, value in plain.items()),
        f"EnvironmentFile={env_dir / env_file_name(service.name)}",
        f"ExecStart={exec_line(service.command)}",
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        f"TimeoutStopSec={STOP_TIMEOUT_SEC}",
        f"UMask={UMASK}",
        "NoNewPrivileges=yes",
        "",
        "[Install]",
        f"WantedBy={TARGET}",
        "",
    ]
    return "\n".join(unit), env_file_text(secrets)


def target_unit(names: list[str]) -> str:
    units = " ".join(unit_name(name) for name in names)
    return "\n".join(
        [
            "[Unit]",
            "Description=ShopDesk: every process of the shop assistant",
            f"Wants={units}",
            f"After={units}",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def unit_files(config: StackConfig, env_dir: Path, user: str | None = None) -> UnitFiles:
    """Every unit and environment file for `config`'s processes (nothing written)."""
    stack = Stack(config)
    names = list(stack.services)
    units: dict[str, str] = {}
    env_files: dict[str, str] = {}
    for name, service in stack.services.items():
        units[unit_name(name)], env_files[env_file_name(name)] = service_unit(
            service, config, env_dir, user, names
        )
    units[TARGET] = target_unit(names)
    return UnitFiles(units, env_files)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, 0600 from the first byte (an old file's mode is fixed too)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


def write(config: StackConfig, out: Path, user: str | None = None) -> UnitFiles:
    """The unit files into `out` (0644: systemd and admins read them), the environment files
    beside them (0600), `out` itself made 0700 when new."""
    out = out.expanduser().resolve()
    out.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    files = unit_files(config, out, user)
    for name, text in files.units.items():
        (out / name).write_text(text, encoding="utf-8")
        (out / name).chmod(0o644)
    for name, text in files.env_files.items():
        _write_private(out / name, text)
    return files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the files (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--user", metavar="NAME", help="run the processes as this user (the checkout's owner)"
    )


def run(args: argparse.Namespace, config: StackConfig) -> int:
    """Write the files and say how to install them."""
    try:
        files = write(config, args.out, args.user)
    except (UnitError, OSError) as error:
        print(f"shopdesk: {error}", file=sys.stderr)
        return 1
    out = args.out.expanduser().resolve()
    print(
        f"wrote {len(files.units)} unit files and {len(files.env_files)} environment files "
        f"(0600, the secrets) to {out}\n"
        "first load the catalog and train (as the user that runs them):\n"
        f"  .venv/bin/python -m launcher prepare\n"
        "then install and start:\n"
        f"  sudo cp {out}/*.service {out}/{TARGET} /etc/systemd/system/\n"
        "  sudo systemctl daemon-reload && sudo systemctl enable --now shopdesk.target\n"
        f"the units read their secrets from {out}/*.env: keep them there, readable by root "
        "only or by the user they run as."
    )
    return 0
