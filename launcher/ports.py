"""The loopback address every ShopDesk process listens on, and free ports on it.

Its own module so that the stack, the story runner, the benchmarks and the tests ask for a
port the same way, and none of them has to import the module that starts processes.
"""

from __future__ import annotations

import socket
from typing import Final

HOST: Final = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it); another process may take it before
    ours binds it, which is rare enough for tests and fresh stacks."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True if something accepts connections on `port` (a stack already running)."""
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0
