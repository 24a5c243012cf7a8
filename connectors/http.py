"""One HTTP client for every remote shop: its auth header, a timeout on every call, retries
where a retry cannot do a change twice, and errors that say what happened.

A GET is always retried (after a connection error, a timeout, 429 or a 5xx, waiting a little
longer each time); a POST, PUT or PATCH only when the caller marks it idempotent, because a
cancel whose answer was lost may have been done already. A 404 is `None` for the caller to turn
into "no such order"; another 4xx is a `ShopError` naming the call (never the token); a shop
that cannot be reached is `ShopUnavailable`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx

from connectors.errors import ShopError, ShopUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
BACKOFF_S: Final = 0.2
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# A shop (or a proxy in debug mode) may repeat the request in its error: the auth headers'
# values are blanked out of any answer text put in an error. Shorter parts are not secrets.
REDACTED: Final = "[redacted]"
MIN_SECRET_CHARS: Final = 8


class ShopClient:
    """JSON over HTTP to one shop's API (`base_url`), with `headers` (the auth) on every call."""

    def __init__(
        self,
        name: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout_s: float = 5.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.retries = retries
        self._secrets = _secrets(headers)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json", **headers},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any | None:
        """The decoded JSON answer, None for a 404; `idempotent` (GET: always) allows retries."""
        method = method.upper()
        retry = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.request(method, path, json=json, params=params)
            except httpx.TransportError as error:  # refused, reset, timed out
                problem = f"{type(error).__name__}"
                if attempt < attempts:
                    self._wait(attempt, method, path, problem)
                    continue
                raise ShopUnavailable(
                    f"{self.name} did not answer {method} {path}: {problem}"
                ) from None
            if response.status_code in RETRY_STATUSES or response.status_code >= 500:
                if attempt < attempts:
                    self._wait(attempt, method, path, f"HTTP {response.status_code}")
                    continue
                raise ShopUnavailable(
                    f"{self.name} answered {method} {path} with HTTP {response.status_code}"
                )
            return self._decoded(response, method, path)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any | None:
        return self.request("GET", path, params=params)

    def _wait(self, attempt: int, method: str, path: str, problem: str) -> None:
        log.warning("%s: %s %s failed (%s); trying again", self.name, method, path, problem)
        time.sleep(BACKOFF_S * 2 ** (attempt - 1))

    def _decoded(self, response: httpx.Response, method: str, path: str) -> Any | None:
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ShopError(
                f"{self.name} refused {method} {path}: HTTP {response.status_code} "
                f"{_short(self._redacted(response.text))}",
                status=response.status_code,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ShopError(
                f"{self.name} answered {method} {path} with something not JSON"
            ) from None

    def _redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def _secrets(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The auth headers' values, whole and without their scheme ("Bearer <token>" and
    "<token>"), longest first so a whole value is blanked before its part."""
    found = {
        part.strip()
        for value in headers.values()
        for part in (value, value.rpartition(" ")[2])
        if len(part.strip()) >= MIN_SECRET_CHARS
    }
    return tuple(sorted(found, key=len, reverse=True))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
