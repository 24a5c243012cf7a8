"""`python -m actions.server`: rasa_sdk's action server, closed to callers without the secret.

rasa_sdk 3.21 has no authentication of its own. Rasa sends the action endpoint's `token`
(bot/endpoints.yml) as the query parameter `token`; every route but /health answers 401
without SHOPDESK_INTERNAL_TOKEN there. The server refuses to start without the secret.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from functools import partial
from typing import Any

from rasa_sdk.endpoint import DEFAULT_SERVER_PORT, create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.worker.loader import AppLoader

from actions.catalog_access import settings as catalog_settings
from catalog.semantic import warm_up_in_background
from core.settings import InternalSettings
from core.settings import settings as process_settings
from privacy.logs import install_log_redaction

log = logging.getLogger(__name__)
TOKEN_VARIABLE = "SHOPDESK_INTERNAL_TOKEN"
OPEN_PATHS = frozenset({"/health"})
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")


def token_ok(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def secured_app(action_executor: ActionExecutor, token: str) -> Sanic[Any, Any]:
    """rasa_sdk's app plus the secret check; module level so Sanic's workers can build it."""
    app: Sanic[Any, Any] = create_app_for_serve(action_executor, cors_origins=[])

    async def require_token(request: Request) -> response.HTTPResponse | None:
        if request.path in OPEN_PATHS or token_ok(request.args.get("token"), token):
            return None
        return response.json({"error": "a valid token is required"}, status=401)

    app.register_middleware(require_token, "request")
    # The query encoder of semantic search loads here, not on a shopper's first search.
    warm_up_in_background(catalog_settings().database_url)
    # in the worker that serves, after Sanic set up its loggers: no personal data in any log
    install_log_redaction(*SANIC_LOGGERS, "rasa_sdk", "actions")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.server",
        description="ShopDesk's action server (rasa_sdk) that answers only callers with the "
        f"shared secret ${TOKEN_VARIABLE} (Rasa sends it as ?token=). Binds to $SANIC_HOST "
        "(127.0.0.1 when the launcher starts it).",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT)
    args = parser.parse_args(argv)
    token = process_settings().section(InternalSettings).internal_token
    if not token:
        print(
            f"actions.server: set {TOKEN_VARIABLE} (the secret Rasa's endpoints.yml sends); "
            "`python -m launcher run` sets a random one",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    executor = ActionExecutor()
    executor.register_package("actions")
    loader = AppLoader(factory=partial(secured_app, executor, token))
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    log.info("action server on http://%s:%d (token required)", host, args.port)
    app.prepare(host=host, port=args.port, workers=1, access_log=False)
    Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
