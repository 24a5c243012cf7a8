"""Rasa over HTTP: the shopper REST channel and the HTTP API (trackers, events, intents).

The web server never imports Rasa (it runs on Python 3.10); these four calls are the whole
contract between them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error; the shopper gets a polite message."""


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    def _conversation(self, sender: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(sender, safe='')}/{tail}"

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        params = dict(kwargs.pop("params", {}) or {})
        if "/conversations/" in url:
            params["token"] = self._token
        try:
            response = await self._http.request(method, url, params=params, **kwargs)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"{method} {url.split('?')[0]}: {type(error).__name__}") from None
        if response.status_code >= 400:
            raise RasaUnavailable(f"{method} {url.split('?')[0]}: HTTP {response.status_code}")
        return response.json() if response.content else None

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """The bot's replies to one shopper message (Rasa's REST channel)."""
        replies = await self._call(
            "POST",
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
        )
        return [r for r in replies or [] if isinstance(r, dict)]

    async def tracker(self, sender: str) -> dict[str, Any]:
        return dict(await self._call("GET", self._conversation(sender, "tracker")) or {})

    async def events(self, sender: str) -> list[dict[str, Any]]:
        return list((await self.tracker(sender)).get("events") or [])

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        await self._call("POST", self._conversation(sender, "tracker/events"), json=events)

    async def trigger_intent(self, sender: str, intent: str) -> list[dict[str, Any]]:
        """Run the bot on an intent the shopper did not type (a timed-out handoff)."""
        answer = await self._call(
            "POST", self._conversation(sender, "trigger_intent"), json={"name": intent}
        )
        return list((answer or {}).get("messages") or [])

    async def healthy(self) -> bool:
        try:
            response = await self._http.get(f"{self.base_url}/", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
