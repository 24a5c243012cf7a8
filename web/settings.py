"""The web server's settings, read once from the environment (docs/web.md lists them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message says which and why."""


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


DEFAULT_SECRET_FILE = Path(__file__).resolve().parents[1] / "var" / "web_secret.key"


def load_session_secret(environ: Mapping[str, str], path: Path = DEFAULT_SECRET_FILE) -> bytes:
    """The key that signs shoppers' session ids: SHOPDESK_WEB_SECRET, else a random key kept
    in a file readable only by its owner, so sessions outlive a restart."""
    if from_env := environ.get("SHOPDESK_WEB_SECRET", "").strip():
        if len(from_env) < 32:
            raise SettingsError("SHOPDESK_WEB_SECRET must have at least 32 characters")
        return from_env.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 5080
    # One URL, or several (comma-separated in SHOPDESK_RASA_URL) for the scaled setup.
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_token: str = ""
    # A waiting handoff that no agent takes within this time is given back to the bot, which
    # offers to carry on or to take a message.
    handoff_timeout_s: float = 180.0
    agent_session_ttl_s: float = 8 * 3600.0
    max_message_chars: int = 1000
    # How often queue changes and handoff timeouts are looked for.
    sweep_interval_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            host=env.get("SHOPDESK_WEB_HOST", "").strip() or default.host,
            port=int(_number(env, "SHOPDESK_WEB_PORT", default.port, 1)),
            rasa_urls=tuple(
                url.strip().rstrip("/")
                for url in env.get("SHOPDESK_RASA_URL", "").split(",")
                if url.strip()
            )
            or default.rasa_urls,
            rasa_token=env.get("SHOPDESK_RASA_TOKEN", "").strip(),
            handoff_timeout_s=_number(
                env, "SHOPDESK_HANDOFF_TIMEOUT_S", default.handoff_timeout_s, 1
            ),
            agent_session_ttl_s=_number(
                env, "SHOPDESK_AGENT_SESSION_TTL_S", default.agent_session_ttl_s, 60
            ),
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:  # the token stays out of logs
        return f"WebSettings(host={self.host!r}, port={self.port}, rasa_urls={self.rasa_urls!r})"
