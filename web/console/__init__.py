"""The agent console's JSON API (docs/web.md, docs/agent-console.md), one module per concern.

`deps` holds what every console route shares (who is signed in, the CSRF check, bodies read
within a limit), `errors` how a refusal becomes the console's `{"error": …}` answer, and
`sign_in`, `conversations` and `admin` the routes. `install` puts it all on the app.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from web.console import admin, agents_admin, conversations, inbox, queue, sign_in
from web.console.deps import API_PREFIX
from web.console.errors import install_handlers
from web.hub import Hub
from web.settings import WebSettings


def install(app: FastAPI, hub: Hub, settings: WebSettings, *routers: APIRouter) -> None:
    """The console API on `app`: its routes (and `routers`, the console's other APIs, under
    the same prefix), what its dependencies read from `app.state`, and its error answers."""
    app.state.hub = hub
    app.state.settings = settings
    app.state.sign_ins = sign_in.SignIns()
    api = APIRouter(prefix=API_PREFIX)
    for part in (sign_in.router, queue.router, conversations.router, admin.router, *routers):
        api.include_router(part)
    api.include_router(agents_admin.router)  # accounts, for admins (docs/agent-console.md)
    api.include_router(inbox.router)  # the back office: inbox, reviews (docs/agent-console.md)
    app.include_router(api)
    app.include_router(agents_admin.pages)  # the one-time link's page, /agent/set-password
    install_handlers(app)
