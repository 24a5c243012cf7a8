"""What a connector raises, each meaning one thing the bot does about it.

- `NotAllowed`: the shop's rules forbid this change now (shipped already, window closed); the
  reason is a sentence for the shopper.
- `Unsupported`: the connected system cannot make this change through its API at all; the bot
  says so and offers a person, with the order attached.
- `ShopUnavailable`: the shop's system did not answer (down, timed out, 5xx after retries);
  nothing was changed, the shopper is told to try again and nothing they typed is dropped.
- `ShopError`: it answered something this connector cannot use (a 4xx, a payload that does not
  match the platform's documented schema); logged for the operator, told to the shopper as
  unavailable.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of everything a connector raises on purpose."""


class NotAllowed(ConnectorError):
    """The shop's rules forbid this change; `reason` is a sentence for the shopper."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsupported(ConnectorError):
    """The connected shop system has no way to make this change (a capability it lacks)."""

    def __init__(self, system: str, capability: str) -> None:
        super().__init__(f"{system} does not support {capability} through its API")
        self.system = system
        self.capability = capability


class ShopUnavailable(ConnectorError):
    """The shop's system could not be reached or kept failing; nothing was changed."""


class ShopError(ConnectorError):
    """The shop's system answered, but not with something this connector can use.

    `status` is the HTTP status of a refusal (409: the shop's rules said no), so a connector
    can tell a refused change (`NotAllowed`) from a broken call; None when it is not one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
