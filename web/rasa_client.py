"""Rasa over HTTP: the shopper REST channel and the HTTP API (trackers, events, intents).

The web server never imports Rasa (it runs on Python 3.10); these four calls are the whole
contract between them. In the scaled setup there are several Rasa instances sharing one tracker
store and one lock store (docs/deployment.md): each conversation goes to one instance by a hash
of its id, and to the next one when that instance cannot be reached.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error; the shopper gets a polite message."""


logger = logging.getLogger(__name__)


def instance_order(sender: str, count: int) -> list[int]:
    """The instances to try for a conversation: its own (a stable hash of the id, the same in
    every web process), then the others in turn."""
    first = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:8], "big") % count
    return [(first + step) % count for step in range(count)]


class RasaClient:
    def __init__(self, base_urls: str | Sequence[str], token: str, timeout_s: float = 60.0) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ValueError("RasaClient needs at least one Rasa URL")
        self.base_urls = [url.rstrip("/") for url in urls]
        self._token = token
        self._http = httpx.AsyncClient(timeout=timeout_s)

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, sender: str | None, path: str, **kwargs: Any) -> Any:
        """One request to the conversation's instance, or to the next when it cannot be reached.

        Only a refused connection moves on: a request that may have reached Rasa (a timeout
        after sending) is not sent twice, as that could handle a shopper's message twice.
        """
        params = dict(kwargs.pop("params", {}) or {})
        if path.startswith("/conversations/"):
            params["token"] = self._token
        order = instance_order(sender or "", len(self.base_urls))
        for attempt, index in enumerate(order):
            url = f"{self.base_urls[index]}{path}"
            try:
                response = await self._http.request(method, url, params=params, **kwargs)
            except httpx.ConnectError:
                if attempt + 1 < len(order):
                    logger.warning("Rasa at %s cannot be reached; trying the next", url)
                    continue
                raise RasaUnavailable(f"{method} {path}: ConnectError") from None
            except httpx.HTTPError as error:
                raise RasaUnavailable(f"{method} {path}: {type(error).__name__}") from None
            if response.status_code >= 400:
                raise RasaUnavailable(f"{method} {path}: HTTP {response.status_code}")
            return response.json() if response.content else None
        raise RasaUnavailable(f"{method} {path}: no Rasa instance")  # pragma: no cover

    @staticmethod
    def _conversation(sender: str, tail: str) -> str:
        return f"/conversations/{quote(sender, safe='')}/{tail}"

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one shopper message (Rasa's REST channel)."""
        replies = await self._call(
            "POST",
            sender,
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            # the token tells the channel this is the web server relaying a shopper, so it
            # takes the shopper's address from the metadata (bot/shopdesk_rasa/channels.py)
            headers={"Authorization": f"Bearer {self._token}"},
        )
        return [r for r in replies or [] if isinstance(r, dict)]

    async def tracker(self, sender: str) -> dict[str, Any]:
        return dict(await self._call("GET", sender, self._conversation(sender, "tracker")) or {})

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        await self._call("POST", sender, self._conversation(sender, "tracker/events"), json=events)

    async def trigger_intent(self, sender: str, intent: str) -> list[dict[str, Any]]:
        """Run the bot on an intent the shopper did not type (a timed-out handoff)."""
        answer = await self._call(
            "POST", sender, self._conversation(sender, "trigger_intent"), json={"name": intent}
        )
        return list((answer or {}).get("messages") or [])

    async def healthy(self) -> bool:
        """Whether at least one Rasa instance answers."""
        for url in self.base_urls:
            try:
                response = await self._http.get(f"{url}/", timeout=2.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return True
        return False
