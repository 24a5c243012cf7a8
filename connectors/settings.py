"""The one place a shop chooses its order system and gives its credentials.

`SHOPDESK_ORDERS` names the connector (builtin, the default, needs nothing else). A remote
shop's API address is `SHOPDESK_SHOP_API_URL`; its key or token comes from
`SHOPDESK_SHOP_API_TOKEN`, or better from the file `SHOPDESK_SHOP_API_TOKEN_FILE` that only its
owner may read, never from the command line, and it is never logged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from pydantic import BeforeValidator, SecretStr

from core.settings import (
    Section,
    SettingsError,
    Text,
    choice,
    number,
    read_secret_file,
    var,
    whole_number,
)

BUILTIN: Final = "builtin"
OSCAR: Final = "oscar"
SHOPIFY: Final = "shopify"
MAGENTO: Final = "magento"
CONNECTORS: Final = (BUILTIN, OSCAR, SHOPIFY, MAGENTO)
MIN_TOKEN_CHARS: Final = 8


def _site(value: object) -> str:
    return str(value).strip().rstrip("/")


class ConnectorSettings(Section):
    """Which system keeps the shop's orders and products, and how to reach it."""

    orders: Annotated[str, BeforeValidator(choice(*CONNECTORS))] = var("SHOPDESK_ORDERS", BUILTIN)
    api_url: Annotated[str, BeforeValidator(_site)] = var("SHOPDESK_SHOP_API_URL", "")
    api_token: SecretStr = var("SHOPDESK_SHOP_API_TOKEN", SecretStr(""))
    api_token_file: Path | None = var("SHOPDESK_SHOP_API_TOKEN_FILE", None)
    # Shopify's Admin API version (its URL names it), e.g. 2025-01.
    api_version: Text = var("SHOPDESK_SHOP_API_VERSION", "")
    # Seconds to wait for one answer, and how often an idempotent call is tried again.
    timeout_s: Annotated[float, BeforeValidator(number(0.1))] = var(
        "SHOPDESK_SHOP_API_TIMEOUT_S", 5.0
    )
    retries: Annotated[int, BeforeValidator(whole_number(0))] = var("SHOPDESK_SHOP_API_RETRIES", 2)

    @property
    def remote(self) -> bool:
        return self.orders != BUILTIN

    def token(self) -> str:
        """The API key or token: the variable, else the owner-only file; SettingsError when a
        remote connector has neither."""
        given = self.api_token.get_secret_value().strip()
        if given:
            return given
        if self.api_token_file is not None:
            path = self.api_token_file.expanduser()
            if not path.is_file():  # read_secret_file would raise FileNotFoundError
                raise SettingsError(
                    f"SHOPDESK_SHOP_API_TOKEN_FILE names {path}, which is not a file: put the "
                    "shop's API token in a file only you can read and name that one."
                )
            return read_secret_file(
                path,
                "shop API token",
                MIN_TOKEN_CHARS,
                if_shared="make a new token in the shop's back office",
                if_short="put the whole token in the file",
            ).decode()
        raise SettingsError(
            f"SHOPDESK_ORDERS={self.orders} needs the shop's API token: set "
            "SHOPDESK_SHOP_API_TOKEN_FILE to a file only you can read (or SHOPDESK_SHOP_API_TOKEN)."
        )

    def url(self) -> str:
        if not self.api_url:
            raise SettingsError(
                f"SHOPDESK_ORDERS={self.orders} needs SHOPDESK_SHOP_API_URL, "
                "the address of the shop's API."
            )
        return self.api_url
