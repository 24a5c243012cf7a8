"""`python -m web serve` runs the web server; `python -m web agents ...` manages agent accounts."""

from __future__ import annotations

import argparse
import logging
import sys

from catalog.db import migrate, session_scope
from catalog.settings import CatalogSettings
from core.settings import SettingsError, settings
from web.settings import WebSettings, load_session_secret


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from privacy.logs import install_log_redaction
    from web.app import create_app
    from web.auth import ensure_admin_from_env
    from web.limits import ShopperChannelSettings

    try:
        web_settings = settings().section(WebSettings)
        session_secret = load_session_secret(settings().environ)
        channel = settings().section(ShopperChannelSettings)
        database_url = settings().section(CatalogSettings).database_url
    except SettingsError as problem:
        print(f"web: {problem}", file=sys.stderr)
        return 2
    if args.port:
        web_settings = web_settings.model_copy(update={"port": args.port})
    if not web_settings.rasa_token:
        print(
            "web: set SHOPDESK_RASA_TOKEN to the token of Rasa's HTTP API (Rasa reads it "
            "from the same variable); `python -m launcher run` does this.",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the token
    install_log_redaction()  # uvicorn's loggers propagate to the root's handlers (log_config=None)
    migrate(database_url)
    with session_scope(database_url) as session:
        print(f"web: {ensure_admin_from_env(session, settings().environ)}", flush=True)
    print(f"web: shop page with the chat widget: {web_settings.base_url}/", flush=True)
    print(f"web: agent console: {web_settings.base_url}/agent/", flush=True)
    uvicorn.run(
        create_app(web_settings, database_url, session_secret, channel),
        host=web_settings.host,
        port=web_settings.port,
        log_level="warning",
        log_config=None,
        # uvicorn would believe X-Forwarded-* from 127.0.0.1 (FORWARDED_ALLOW_IPS); only
        # SHOPDESK_TRUSTED_PROXIES decides that, in web/proxies.py
        proxy_headers=False,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["agents"]:
        from web.accounts_cli import main as agents_main

        return agents_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m web",
        description="ShopDesk's web server: the shopper chat widget and the agent console. "
        "`python -m web agents --help` manages agent accounts.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="run the web server (settings: SHOPDESK_WEB_*, SHOPDESK_RASA_*, docs/web.md)"
    )
    serve_parser.add_argument("--port", type=int, help="port (default SHOPDESK_WEB_PORT or 5080)")
    commands.add_parser("agents", help="add, list or disable agent accounts (see agents --help)")
    args = parser.parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
