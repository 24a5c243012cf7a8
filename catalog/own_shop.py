"""The shop's own catalog instead of the demo: the `SHOPDESK_DEMO` switch and what `load` does
when it is off.

Why a switch: every start runs `python -m catalog.cli load` (launcher/stack.py `prepare`),
which for the demo imports the Luma catalog and makes 160 made-up orders. A real shop wants
neither in its database; it wants its own feed read on every start. With `SHOPDESK_DEMO=off`
`load` still migrates, imports nothing of Luma and makes no demo order; if the settings name
the shop's own product file (`SHOPDESK_CATALOG_SYNC_SOURCE` a file kind and
`SHOPDESK_CATALOG_SYNC_PATH` the file: the same settings the web server's scheduled sync
uses, catalog/sync_run.py) it syncs that file, so products gone from the feed are
discontinued, not left behind. `python -m launcher init` writes these settings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BeforeValidator

from catalog.sync_run import FILE_KINDS, CatalogSyncSettings, SyncSource
from core.settings import Section, choice, var

DEMO_VARIABLE: Final = "SHOPDESK_DEMO"


class Demo(StrEnum):
    """`SHOPDESK_DEMO`: on (the Luma demo shop, `make run`'s default) or off (the shop's own)."""

    ON = "on"
    OFF = "off"


class ShopSetupSettings(Section):
    """`SHOPDESK_DEMO` (on | off, default on)."""

    demo: Annotated[str, BeforeValidator(choice(*Demo))] = var(DEMO_VARIABLE, Demo.ON.value)

    @property
    def demo_on(self) -> bool:
        return self.demo == Demo.ON


def own_catalog_source() -> SyncSource | None:
    """The shop's own product file, as the sync settings name it; None when they name none
    (a connector's catalog comes through the scheduled sync, which may need the network)."""
    chosen = CatalogSyncSettings.from_env().source
    if chosen.kind in FILE_KINDS and chosen.path is not None:
        return chosen
    return None
