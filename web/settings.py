"""The web server's settings, read once from the environment (docs/web.md lists them)."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from web.proxies import NO_PROXIES, TrustedProxies, parse_trusted_proxies


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message says which and why."""


def number_setting(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    """The environment variable `name` as a finite number of at least `minimum` (`default`
    when unset); SettingsError that says which and why otherwise. One parser for every
    numeric setting of the web server."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"{name} must be a finite number, not {raw!r}")
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _proxies(environ: Mapping[str, str]) -> TrustedProxies:
    try:
        return parse_trusted_proxies(environ.get("SHOPDESK_TRUSTED_PROXIES", ""))
    except ValueError as problem:
        raise SettingsError(f"SHOPDESK_TRUSTED_PROXIES: {problem}") from None


DEFAULT_SECRET_FILE = Path(__file__).resolve().parents[1] / "var" / "web_secret.key"
# An HMAC key shorter than this can be guessed offline from one signed session id; the key this
# module makes is 64 characters (token_urlsafe(48)).
MIN_SECRET_CHARS = 32
SECRET_FILE_MODE = 0o600
# Read, write or execute for the group or for others.
SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def load_session_secret(environ: Mapping[str, str], path: Path = DEFAULT_SECRET_FILE) -> bytes:
    """The key that signs shoppers' session ids: SHOPDESK_WEB_SECRET, else a random key kept
    in a file readable only by its owner, so sessions outlive a restart.

    A key file that is empty or short (truncated by a full disk, or written by hand) or that
    other users can read is refused rather than used: with it anyone could forge a shopper's
    session id and read that shopper's conversation. A missing file is made anew.
    """
    if from_env := environ.get("SHOPDESK_WEB_SECRET", "").strip():
        if len(from_env) < MIN_SECRET_CHARS:
            raise SettingsError(
                f"SHOPDESK_WEB_SECRET must have at least {MIN_SECRET_CHARS} characters"
            )
        return from_env.encode()
    if path.exists():
        return _read_secret_file(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


def _read_secret_file(path: Path) -> bytes:
    """The key in `path`, once its mode and length show that nobody else has or can guess it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & SHARED_BITS:
        raise SettingsError(
            f"the session key file {path} is open to other users (mode {mode:o}); anyone "
            "who read it can forge shoppers' sessions. Delete it (a new key is made at the next "
            "start, signing shoppers out) or, if nobody else could have read it, "
            f"`chmod 600 {path}`."
        )
    try:
        key = path.read_bytes().strip()
    except OSError as error:
        raise SettingsError(
            f"the session key file {path} cannot be read: {error.strerror}"
        ) from None
    if len(key) < MIN_SECRET_CHARS:
        raise SettingsError(
            f"the session key file {path} holds {len(key)} characters, fewer than "
            f"{MIN_SECRET_CHARS}: delete it and a new key is made at the next start (signing "
            "shoppers out), or set SHOPDESK_WEB_SECRET."
        )
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
    agent_session_ttl_s: float = 8 * 3600.0  # idle: a sign-in nobody uses ends after this
    # Absolute: however busy, a sign-in ends this long after it began, so a stolen cookie
    # kept alive by polling stops working on the same day.
    agent_session_max_age_s: float = 12 * 3600.0
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (web/proxies.py).
    trusted_proxies: TrustedProxies = NO_PROXIES
    max_message_chars: int = 1000
    # How often queue changes and handoff timeouts are looked for.
    sweep_interval_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            host=env.get("SHOPDESK_WEB_HOST", "").strip() or default.host,
            port=int(number_setting(env, "SHOPDESK_WEB_PORT", default.port, 1)),
            rasa_urls=tuple(
                url.strip().rstrip("/")
                for url in env.get("SHOPDESK_RASA_URL", "").split(",")
                if url.strip()
            )
            or default.rasa_urls,
            rasa_token=env.get("SHOPDESK_RASA_TOKEN", "").strip(),
            handoff_timeout_s=number_setting(
                env, "SHOPDESK_HANDOFF_TIMEOUT_S", default.handoff_timeout_s, 1
            ),
            agent_session_ttl_s=number_setting(
                env, "SHOPDESK_AGENT_SESSION_TTL_S", default.agent_session_ttl_s, 60
            ),
            agent_session_max_age_s=number_setting(
                env, "SHOPDESK_AGENT_SESSION_MAX_AGE_S", default.agent_session_max_age_s, 60
            ),
            trusted_proxies=_proxies(env),
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:  # the token stays out of logs
        return f"WebSettings(host={self.host!r}, port={self.port}, rasa_urls={self.rasa_urls!r})"
