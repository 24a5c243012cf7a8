"""The web server's settings, read once from the environment through core.settings
(docs/web.md lists them), and its session key."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, cast

from pydantic import BeforeValidator, SecretStr, field_validator

from catalog.policies import DEFAULT_HANDOFF_WAIT_MINUTES, ShopSettingsError, policies
from core.paths import VAR_DIR
from core.settings import (
    Section,
    Text,
    number,
    read_secret_file,
    var,
    write_secret_file,
)
from web.proxies import NO_PROXIES, TrustedProxies, parse_trusted_proxies

DEFAULT_SECRET_FILE: Final = VAR_DIR / "web_secret.key"
# An HMAC key shorter than this can be guessed offline from one signed session id; the key this
# module makes is 64 characters (token_urlsafe(48)).
MIN_SECRET_CHARS: Final = 32
DEFAULT_RASA_URLS: Final = ("http://127.0.0.1:5005",)
HANDOFF_TIMEOUT_VAR: Final = "SHOPDESK_HANDOFF_TIMEOUT_S"
DEFAULT_AGENT_SESSION_MAX_AGE_S: Final = 12 * 3600.0
SHARED_REMEDY: Final = (
    "anyone who read it can forge shoppers' sessions. Delete it (a new key is made at the "
    "next start, signing shoppers out)"
)
SHORT_REMEDY: Final = (
    "delete it and a new key is made at the next start (signing shoppers out), or set "
    "SHOPDESK_WEB_SECRET."
)


def shop_handoff_wait_s() -> float:
    """shop.yml's `support.handoff_wait_minutes`, in seconds: what the bot tells a shopper to
    expect is what the server waits. Unreadable shop settings (the action server reports them)
    leave the default wait."""
    try:
        minutes = policies().support.handoff_wait_minutes
    except ShopSettingsError:
        minutes = DEFAULT_HANDOFF_WAIT_MINUTES
    return minutes * 60.0


def _port(value: object) -> int:
    return int(number(1)(value))


def _rasa_urls(value: object) -> tuple[str, ...]:
    """One URL, or several comma-separated (the scaled setup); none means the default."""
    items: Iterable[object] = (
        value.split(",") if isinstance(value, str) else cast(Iterable[object], value)
    )
    urls = tuple(str(url).strip().rstrip("/") for url in items if str(url).strip())
    return urls or DEFAULT_RASA_URLS


def _proxies(value: object) -> Any:
    return parse_trusted_proxies(value) if isinstance(value, str) else value


def at_least(minimum: float) -> Any:
    return BeforeValidator(number(minimum))


class SessionSecretSettings(Section):
    """SHOPDESK_WEB_SECRET, when the key is given rather than kept in a file."""

    web_secret: SecretStr = var("SHOPDESK_WEB_SECRET", SecretStr(""))

    @field_validator("web_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value().strip()
        if value and len(value) < MIN_SECRET_CHARS:
            raise ValueError(f"must have at least {MIN_SECRET_CHARS} characters")
        return SecretStr(value)


def load_session_secret(
    environ: Mapping[str, str] | None = None, path: Path = DEFAULT_SECRET_FILE
) -> bytes:
    """The key that signs shoppers' session ids: SHOPDESK_WEB_SECRET, else a random key kept
    in a file readable only by its owner, so sessions outlive a restart.

    A key file that is empty or short (truncated by a full disk, or written by hand) or that
    other users can read is refused rather than used: with it anyone could forge a shopper's
    session id and read that shopper's conversation. A missing file is made anew.
    """
    given = SessionSecretSettings.from_env(environ).web_secret.get_secret_value()
    if given:
        return given.encode()
    if path.exists():
        return read_secret_file(
            path, "session key", MIN_SECRET_CHARS, if_shared=SHARED_REMEDY, if_short=SHORT_REMEDY
        )
    key = secrets.token_urlsafe(48).encode()
    write_secret_file(path, key)
    return key


class WebSettings(Section):
    host: Text = var("SHOPDESK_WEB_HOST", "127.0.0.1")
    port: Annotated[int, BeforeValidator(_port)] = var("SHOPDESK_WEB_PORT", 5080)
    # One URL, or several (comma-separated in SHOPDESK_RASA_URL) for the scaled setup.
    rasa_urls: Annotated[tuple[str, ...], BeforeValidator(_rasa_urls)] = var(
        "SHOPDESK_RASA_URL", DEFAULT_RASA_URLS
    )
    rasa_token: Text = var("SHOPDESK_RASA_TOKEN", "")
    # A waiting handoff that no agent takes within this time is given back to the bot, which
    # offers to carry on or to take a message. shop.yml's `support.handoff_wait_minutes`
    # unless SHOPDESK_HANDOFF_TIMEOUT_S overrides it (tests, a shop trying a value).
    handoff_timeout_s: Annotated[float, at_least(1)] = var(
        HANDOFF_TIMEOUT_VAR, default_factory=shop_handoff_wait_s
    )
    # idle: a sign-in nobody uses ends after this
    agent_session_ttl_s: Annotated[float, at_least(60)] = var(
        "SHOPDESK_AGENT_SESSION_TTL_S", 8 * 3600.0
    )
    # Absolute: however busy, a sign-in ends this long after it began, so a stolen cookie
    # kept alive by polling stops working on the same day.
    agent_session_max_age_s: Annotated[float, at_least(60)] = var(
        "SHOPDESK_AGENT_SESSION_MAX_AGE_S", DEFAULT_AGENT_SESSION_MAX_AGE_S
    )
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (web/proxies.py).
    trusted_proxies: Annotated[TrustedProxies, BeforeValidator(_proxies)] = var(
        "SHOPDESK_TRUSTED_PROXIES", NO_PROXIES
    )
    max_message_chars: int = 1000
    # How often queue changes and handoff timeouts are looked for.
    sweep_interval_s: float = 1.0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:  # the token stays out of logs
        return f"WebSettings(host={self.host!r}, port={self.port}, rasa_urls={self.rasa_urls!r})"
