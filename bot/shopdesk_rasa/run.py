"""`python -m shopdesk_rasa.run run ...`: Rasa's own command line, with the HTTP API's token
read from the environment instead of the command line.

Rasa 3.6 takes its API token only as `--auth-token`, and a command line can be read by every
user of the machine (`ps`, /proc/<pid>/cmdline). This module is started with the arguments
that would follow `rasa` (the launcher does so with the Rasa venv's python); it takes the
token from SHOPDESK_RASA_TOKEN, removes the variable so that nothing Rasa starts inherits it,
and calls Rasa's CLI in this process with the token appended to `sys.argv`. Changing
`sys.argv` changes what Python's argparse reads, not the process's command line that the
kernel shows to others. Everything else is as `.venv-rasa/bin/rasa` does it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence

TOKEN_VARIABLE = "SHOPDESK_RASA_TOKEN"
PROG = "rasa"
EXIT_USAGE = 2


# The token this process was given, kept for the shopper channel, which checks that a request
# comes from the web server or a tester (bot/shopdesk_rasa/channels.py); the environment
# variable itself is removed so that nothing Rasa starts inherits it.
_api_token = ""


def api_token() -> str:
    """Rasa's API token as this process received it ("" when not started through `main`)."""
    return _api_token


class MissingToken(ValueError):
    """`--enable-api` without a token would serve every conversation to anyone."""


def rasa_argv(args: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """What Rasa's CLI should read as sys.argv: `rasa` and `args`, plus the token from
    `environ` for `run --enable-api`. A token on the command line itself is refused: it is
    what this module exists to avoid."""
    if any(arg.startswith(("--auth", "-t")) for arg in args):  # argparse takes `--auth=`
        raise MissingToken(
            f"the API token is never given on the command line; set {TOKEN_VARIABLE} instead"
        )
    argv = [PROG, *args]
    if "--enable-api" not in args:
        return argv
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise MissingToken(
            f"--enable-api needs Rasa's API token in {TOKEN_VARIABLE} (the launcher sets it); "
            "without one the API would serve every conversation to anyone"
        )
    # One argument: a token may start with "-" (token_urlsafe's alphabet).
    return [*argv, f"--auth-token={token}"]


def main(args: Sequence[str] | None = None, environ: MutableMapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    try:
        argv = rasa_argv(sys.argv[1:] if args is None else args, env)
    except MissingToken as problem:
        print(f"shopdesk_rasa.run: {problem}", file=sys.stderr)
        return EXIT_USAGE
    global _api_token
    _api_token = env.pop(TOKEN_VARIABLE, "").strip()
    sys.argv = argv
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":
    # Run as `-m shopdesk_rasa.run`, this module is `__main__`; the channel's later
    # `from shopdesk_rasa import run` must find this same module (and the token it keeps),
    # not a fresh copy.
    sys.modules.setdefault("shopdesk_rasa.run", sys.modules[__name__])
    sys.exit(main())
