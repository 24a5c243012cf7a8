"""`python -m launcher run|chat|prepare|stories|oscar-shop`: one command that brings ShopDesk up
and stops it, one that plays conversation test stories against it, and one that runs the demo
Django Oscar shop (launcher/oscar_shop.py) for SHOPDESK_ORDERS=oscar. For a shop's server:
`systemd` writes unit files (launcher/systemd.py), `backup` and `restore` copy both SQLite
databases while running (launcher/backup.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from launcher import backup, oscar_shop, systemd
from launcher import init as shop_init
from launcher.chat import repl
from launcher.stack import (
    PRIVATE_UMASK,
    Stack,
    StackConfig,
    StackError,
    missing_environments,
    prepare,
    stack_settings,
)
from launcher.stories import cli as stories
from launcher.supervise import Supervisor, Watcher, interrupt_self


def fail(message: str) -> int:
    print(f"shopdesk: {message}", file=sys.stderr)
    return 1


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m launcher",
        description="ShopDesk launcher. `run` loads the catalog, trains what is missing, starts "
        "the classifier, the action server, Rasa and the web server (chat widget, agent "
        "console) on 127.0.0.1, and chats in this terminal; Ctrl-C stops every process it "
        "started. Ports: SHOPDESK_RASA_PORT (5005), SHOPDESK_ACTIONS_PORT (5055), "
        "SHOPDESK_NLU_PORT (5006), SHOPDESK_WEB_PORT (5080).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="prepare, start everything, chat; Ctrl-C stops all")
    run.add_argument("--no-chat", action="store_true", help="only serve; do not open the chat")
    sub.add_parser("prepare", help="load the catalog and train what is missing, then exit")
    sub.add_parser("chat", help="chat with an already running assistant")
    stories.add_arguments(
        sub.add_parser(
            "stories",
            help="play test stories (bot/tests/*.yml) against a fresh or running stack",
            description=stories.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    oscar_shop.add_arguments(
        sub.add_parser(
            "oscar-shop",
            help="run the demo Django Oscar shop holding ShopDesk's demo orders",
            description=oscar_shop.DESCRIPTION,
        )
    )
    systemd.add_arguments(
        sub.add_parser(
            "systemd",
            help="write systemd units for the processes (secrets in 0600 environment files)",
        )
    )
    backup.add_arguments(
        sub.add_parser(
            "backup",
            help="copy the catalog and the conversations (SQLite) while running",
            description=backup.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        ),
        sub.add_parser(
            "restore",
            help="put a backup back (refused while ShopDesk runs, unless --force)",
            description=backup.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        ),
    )
    shop_init.add_arguments(
        sub.add_parser(
            "init",
            help="the shop's own settings: name, currency, product feed; the demo off",
            description=shop_init.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    if args.command == "init":
        return shop_init.run(args)
    shop_init.apply_settings_file()  # `init`'s settings; the environment wins over them
    if args.command == "stories":
        return stories.run(args)
    if args.command == "oscar-shop":
        signal.signal(signal.SIGTERM, _stop_on_sigterm)  # stops the shop it started
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return oscar_shop.run(args)
    try:
        config = StackConfig.from_env()
    except StackError as error:
        return fail(str(error))

    if args.command == "chat":
        repl(config.chat_url)
        return 0
    if args.command == "systemd":
        return systemd.run(args, config)
    if args.command in ("backup", "restore"):
        return backup.run(args, config)
    if missing := missing_environments(config):
        return fail("missing " + ", ".join(missing))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Ctrl-C stops the stack even when SIGINT came in ignored (a job started in the background
    # by a non-interactive shell inherits it ignored, and Python then leaves it so).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = Stack(config)
    watcher: Watcher | None = None
    try:
        prepare(config)
        if args.command == "prepare":
            return 0
        ready = stack.start()
        # a process that dies is restarted (launcher/supervise.py), in the background of the chat
        watcher = Watcher(Supervisor(stack), on_give_up=interrupt_self).start()
        print(
            f"\nShopDesk is up ({', '.join(f'{n} {s:.1f}s' for n, s in ready.items())}). "
            f"Logs: {config.log_dir}\n"
            f"  shoppers: {config.web_url}/  (the demo shop page with the chat widget)\n"
            f"  agents:   {config.web_url}/agent/  (sign in with an account from "
            "`python -m web agents add`)\n"
            f"  chat here, or run `make chat` in another terminal, or POST "
            f'{{"sender": "me", "message": "hi"}} to {config.chat_url}\n'
            "  A process that stops is restarted; Ctrl-C stops every process.\n"
            + (
                ""
                if stack_settings().rasa_token
                else "  (Rasa's HTTP API token is random for this run; set SHOPDESK_RASA_TOKEN "
                "to play stories here with `python -m launcher stories --url`.)\n"
            ),
            flush=True,
        )
        if not args.no_chat and sys.stdin.isatty():
            repl(config.chat_url)
        else:
            watcher.wait()
            return fail(watcher.message)
    except StackError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        if watcher is not None and watcher.message:  # it gave up: not the user's Ctrl-C
            return fail(watcher.message)
        print("\nstopping…", flush=True)
    finally:
        if watcher is not None:
            watcher.close()
        stack.stop()
    return 0


if __name__ == "__main__":
    # What the launcher writes (logs, reports, the databases its steps make) is its owner's.
    os.umask(PRIVATE_UMASK)
    sys.exit(main())
