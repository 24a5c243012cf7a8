"""The web server: the demo shop page and widget, the agent console, and their sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import SimpleCookie
from os import PathLike
from pathlib import Path
from typing import Any

import socketio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.types import Scope

from catalog import handoffs
from core.clock import utc_now
from tracker.events import TrackerEvents
from tracker.store import tracker_url_from_env
from web import analytics_api, auth, catalog_sync, console, housekeeping, newsletter_api, proxies
from web.agent_feed import AGENT_NAMESPACE
from web.console.deps import COOKIE
from web.console.inbox import InboxWatcher
from web.console.queue import queue_snapshot
from web.gate import Gate
from web.hub import Hub
from web.limits import ShopperChannelSettings, SlidingWindow
from web.rasa_client import RasaClient
from web.restarts import RestartSettings, restart_counts
from web.settings import WebSettings
from web.shopper import register

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SOCKET_IO_CLIENT = (
    Path(__file__).resolve().parent
    / "node_modules"
    / "socket.io-client"
    / "dist"
    / "socket.io.min.js"
)
# the console's analytics charts; without it the console shows the tables only
CHART_JS = Path(__file__).resolve().parent / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
# On every response (web/gate.py), pages and static files alike: no framing, no sniffing.
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Only our own scripts; product images come from the shop's media host.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: http: data:; connect-src 'self' ws: wss:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


# The widget's modules load from the shop's own pages, another origin: a module script is
# fetched with CORS, so /widget.js and every static file may be read from anywhere (they are
# public and sent without credentials).
SHARED = {"Access-Control-Allow-Origin": "*"}
JAVASCRIPT = "text/javascript"  # what browsers require of a module script; never guessed


class SharedStatic(StaticFiles):
    """web/static for every origin (SHARED), with .js always as JavaScript: the MIME type a
    module needs, whatever the host's mimetypes table says."""

    def file_response(
        self, full_path: PathLike[str] | str, stat_result: os.stat_result, scope: Scope,
        status_code: int = 200,
    ) -> Response:  # fmt: skip
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(SHARED)
        if str(full_path).endswith(".js"):
            response.headers["content-type"] = JAVASCRIPT
        return response


HTTP_REQUESTS_PER_MINUTE = 300  # per address: pages, the console API and its polling


async def sweep(hub: Hub, settings: WebSettings) -> None:
    """Time out waiting handoffs, push the queue to the agents when it changed, and drop the
    console sockets whose session ended (signed out, disabled from the command line, expired)."""
    last: list[dict[str, Any]] | None = None
    watcher = InboxWatcher()  # the back office's notices (web/console/inbox.py)
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.queue_changes.wait(), settings.sweep_interval_s)
        hub.queue_changes.clear()
        try:
            await hub.feed.recheck()
        except Exception:  # the sweep must outlive anything; the next one checks again
            log.exception("checking the console sockets' sessions failed; trying again")
        try:
            expired = await hub.db(
                lambda session: handoffs.expire_waiting(session, settings.handoff_timeout_s)
            )
            for conversation_id in expired:
                log.info("handoff timed out; the bot takes the conversation back")
                await hub.time_out(conversation_id)
            queue = await queue_snapshot(hub)
            shape = [
                {k: v for k, v in e.items() if k != "waiting_s"} for e in queue["conversations"]
            ]
            if shape != last:
                await hub.queue_changed(queue)
                last = shape
        except Exception:  # the sweep must outlive a database or Rasa hiccup
            log.exception("the handoff sweep failed; trying again")
        try:
            await watcher.check(hub)
        except Exception:  # like the handoffs: the next sweep looks again
            log.exception("looking for new inbox items failed; trying again")


def create_app(
    settings: WebSettings,
    database_url: str,
    session_secret: bytes,
    channel: ShopperChannelSettings | None = None,
) -> proxies.ForwardedHeaders:
    """The server's ASGI app; `channel`: the shopper channel's limits (default: from the
    environment, docs/web.md)."""
    channel = channel or ShopperChannelSettings.from_env()
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False)
    rasa = RasaClient(settings.rasa_urls, settings.rasa_token)
    tracker_url = tracker_url_from_env()
    transcripts = TrackerEvents(tracker_url)
    chores = housekeeping.HousekeepingSettings.from_env()  # masking and retention, scheduled
    syncing = catalog_sync.CatalogSyncSettings.from_env()  # the shop's products, scheduled
    restarts = RestartSettings.from_env()  # the launcher's restarts of each process, for /health
    hub = Hub(
        sio, rasa, database_url, transcripts,
        settings.agent_session_ttl_s, settings.agent_session_max_age_s,
    )  # fmt: skip
    register(sio, hub, settings.max_message_chars, session_secret, tracker_url, channel)

    async def agent_connect(sid: str, environ: dict[str, Any], auth_data: Any = None) -> bool:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        token = cookie[COOKIE].value if COOKIE in cookie else ""
        host = environ.get("HTTP_HOST", "")
        origin = environ.get("HTTP_ORIGIN", "")
        if origin and origin.split("://", 1)[-1] != host:
            return False  # the console's socket only from the console's own pages

        def signed_in(session: Session) -> tuple[int, str] | None:
            found = auth.agent_for_token(
                session, token, settings.agent_session_ttl_s, utc_now(),
                settings.agent_session_max_age_s,
            )  # fmt: skip
            return (found[0].id, found[1].id) if found is not None else None

        who = await hub.db(signed_in) if token else None
        if who is None:
            return False
        # the session is remembered so that every later send can check it is still live
        hub.feed.join(sid, *who)
        await sio.emit("queue", await queue_snapshot(hub), to=sid, namespace=AGENT_NAMESPACE)
        return True

    async def agent_disconnect(sid: str, reason: Any = None) -> None:
        hub.feed.leave(sid)

    sio.on("connect", agent_connect, namespace=AGENT_NAMESPACE)
    sio.on("disconnect", agent_disconnect, namespace=AGENT_NAMESPACE)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(sweep(hub, settings))
        housekeeper = housekeeping.start(database_url, tracker_url, chores)
        syncer = catalog_sync.start(database_url, syncing)
        try:
            yield
        finally:
            await catalog_sync.stop(syncer)
            await housekeeping.stop(housekeeper)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await rasa.close()
            transcripts.close()

    app = FastAPI(title="ShopDesk web", lifespan=lifespan, docs_url=None, redoc_url=None)
    per_address = SlidingWindow(HTTP_REQUESTS_PER_MINUTE, 60.0)

    @app.middleware("http")
    async def rate_limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not per_address.allow(proxies.client_address(request.scope)):
            return JSONResponse(
                {"error": "Too many requests from your address. Please wait a minute."},
                status_code=429,
                headers={"Retry-After": "60"},
            )
        return await call_next(request)

    console.install(app, hub, settings, analytics_api.router)
    app.include_router(newsletter_api.router)

    def page(name: str) -> Response:
        return FileResponse(STATIC / name, headers=PAGE_HEADERS)

    @app.get("/", include_in_schema=False)
    async def shop_page() -> Response:
        return page("shop.html")

    @app.get("/agent/", include_in_schema=False)
    async def console_page() -> Response:
        return page("console.html")

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> Response:
        # the shop's own pages load it from another origin
        return FileResponse(STATIC / "widget.js", media_type=JAVASCRIPT, headers=SHARED)

    @app.get("/static/vendor/socket.io.min.js", include_in_schema=False)
    async def socket_io_client() -> Response:
        if not SOCKET_IO_CLIENT.exists():
            return JSONResponse({"error": "run scripts/bootstrap to install web/node_modules"}, 503)
        return FileResponse(SOCKET_IO_CLIENT, media_type=JAVASCRIPT, headers=SHARED)

    @app.get("/static/vendor/chart.umd.js", include_in_schema=False)
    async def chart_js() -> Response:
        if not CHART_JS.exists():
            return JSONResponse({"error": "run scripts/bootstrap to install web/node_modules"}, 503)
        return FileResponse(CHART_JS, media_type=JAVASCRIPT)

    app.mount("/static", SharedStatic(directory=STATIC), name="static")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "rasa": await rasa.healthy(),
            "restarts": restart_counts(restarts),
        }

    # socket.io answers /socket.io/ before FastAPI sees it: its limit and the headers go in front
    gate = Gate(
        socketio.ASGIApp(sio, other_asgi_app=app), PAGE_HEADERS, channel.connects_per_minute
    )
    # outermost: every limit behind it counts the client a trusted proxy names, or the peer
    return proxies.ForwardedHeaders(gate, settings.trusted_proxies)
