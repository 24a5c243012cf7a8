"""The web server: the demo shop page and widget, the agent console, and their sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import socketio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from catalog.privacy import tracker_url_from_env
from catalog.support import local_now
from web import auth, handoff, housekeeping, proxies
from web.agent_feed import AGENT_NAMESPACE
from web.analytics_api import analytics_router
from web.console_api import COOKIE, console_router, queue_snapshot
from web.gate import Gate
from web.hub import Hub
from web.limits import ShopperChannelSettings, SlidingWindow
from web.newsletter_api import newsletter_router
from web.rasa_client import RasaClient
from web.settings import WebSettings
from web.shopper import register
from web.transcripts import TrackerEvents

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


HTTP_REQUESTS_PER_MINUTE = 300  # per address: pages, the console API and its polling


async def sweep(hub: Hub, settings: WebSettings) -> None:
    """Time out waiting handoffs, push the queue to the agents when it changed, and drop the
    console sockets whose session ended (signed out, disabled from the command line, expired)."""
    last: list[dict[str, Any]] | None = None
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
                lambda session: handoff.expire_waiting(session, settings.handoff_timeout_s)
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
                session, token, settings.agent_session_ttl_s, local_now(),
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
        try:
            yield
        finally:
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

    app.include_router(console_router(hub, settings))
    app.include_router(analytics_router(hub, settings))
    app.include_router(newsletter_router(hub))

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
        return FileResponse(STATIC / "widget.js", headers={"Access-Control-Allow-Origin": "*"})

    @app.get("/static/vendor/socket.io.min.js", include_in_schema=False)
    async def socket_io_client() -> Response:
        if not SOCKET_IO_CLIENT.exists():
            return JSONResponse({"error": "run scripts/bootstrap to install web/node_modules"}, 503)
        return FileResponse(SOCKET_IO_CLIENT, headers={"Access-Control-Allow-Origin": "*"})

    @app.get("/static/vendor/chart.umd.js", include_in_schema=False)
    async def chart_js() -> Response:
        if not CHART_JS.exists():
            return JSONResponse({"error": "run scripts/bootstrap to install web/node_modules"}, 503)
        return FileResponse(CHART_JS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        return {"status": "ok", "rasa": await rasa.healthy()}

    # socket.io answers /socket.io/ before FastAPI sees it: its limit and the headers go in front
    gate = Gate(
        socketio.ASGIApp(sio, other_asgi_app=app), PAGE_HEADERS, channel.connects_per_minute
    )
    # outermost: every limit behind it counts the client a trusted proxy names, or the peer
    return proxies.ForwardedHeaders(gate, settings.trusted_proxies)
