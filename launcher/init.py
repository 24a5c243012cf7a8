"""`python -m launcher init`: make ShopDesk the shop's own, with no demo data.

Why a command: the demo (the Luma catalog and 160 made-up orders) is `make run`'s default, and
turning it into a real shop took reading Python. `init` writes the two files a shop needs and
nothing else: its own copy of shop.yml (the shop's name and currency set; the rest of the demo
wording to edit) and a settings file of `SHOPDESK_*` variables that turn the demo off, name the
shop's product feed and point at that shop.yml. `python -m launcher run|prepare|...` reads the
settings file (`apply_settings_file`); a variable set in the environment wins over it, so one
`SHOPDESK_DEMO=on` brings the demo back. The file holds no secret (tokens stay in the
environment or their owner-only files), but is written 0600 like the rest of var/.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from catalog.own_shop import DEMO_VARIABLE, Demo
from catalog.settings import DEFAULT_SHOP_SETTINGS
from catalog.sync_run import FILE_KINDS, SourceKind
from core.paths import VAR_DIR

SETTINGS_DIR: Final = VAR_DIR / "shop"
SETTINGS_FILE_NAME: Final = "shopdesk.env"
SHOP_FILE_NAME: Final = "shop.yml"
SETTINGS_FILE_VARIABLE: Final = "SHOPDESK_SETTINGS_FILE"
SHOP_SETTINGS_VARIABLE: Final = "SHOPDESK_SHOP_SETTINGS"
SYNC_SOURCE_VARIABLE: Final = "SHOPDESK_CATALOG_SYNC_SOURCE"
SYNC_PATH_VARIABLE: Final = "SHOPDESK_CATALOG_SYNC_PATH"
SHOP_URL_VARIABLE: Final = "SHOPDESK_SHOP_URL"
PRIVATE_FILE_MODE: Final = 0o600
EXIT_OK, EXIT_REFUSED = 0, 1
_NAME_LINE = re.compile(r"^name:.*$", re.MULTILINE)
_CURRENCY_LINE = re.compile(r"^currency:.*$", re.MULTILINE)
_LINE = re.compile(r"^(SHOPDESK_[A-Z0-9_]+)=(.*)$")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")

DESCRIPTION = """\
Write the shop's own settings and turn the demo off: a copy of shop.yml with the shop's name
and currency (edit the rest: delivery, returns, contact), and a settings file that the
launcher reads on every start (variables set in the environment win over it):

  SHOPDESK_DEMO=off                      no Luma catalog, no demo orders
  SHOPDESK_SHOP_SETTINGS=<dir>/shop.yml  the shop's name, currency and policies
  SHOPDESK_CATALOG_SYNC_SOURCE/_PATH     the shop's product file, synced on every start
  SHOPDESK_SHOP_URL                      the shop's address (links the feed does not give)

Then `make run` (or `python -m launcher run`) starts the shop's own assistant: the catalog is
imported from the feed, the classifier learns the feed's categories, and the greeting says
the shop's name. docs/your-shop.md walks through it.
"""


@dataclass(frozen=True)
class ShopSetup:
    """What `init` was told about the shop."""

    name: str
    currency: str
    feed: Path | None = None
    feed_kind: SourceKind = SourceKind.MERCHANT_FEED
    shop_url: str | None = None


class InitError(ValueError):
    """The shop's setup cannot be written as asked; the message says why and what to do."""


def shop_file_text(template: str, setup: ShopSetup) -> str:
    """The demo's shop.yml with the shop's name and currency (comments and order kept)."""
    text = _NAME_LINE.sub(lambda _: f"name: {_yaml_string(setup.name)}", template, count=1)
    currency = f"currency: {setup.currency}"
    if _CURRENCY_LINE.search(text):
        return _CURRENCY_LINE.sub(lambda _: currency, text, count=1)
    return _NAME_LINE.sub(lambda found: f"{found.group(0)}\n{currency}", text, count=1)


def _yaml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def settings_values(setup: ShopSetup, shop_file: Path) -> dict[str, str]:
    """The variables of the settings file, in the order they are written."""
    values = {DEMO_VARIABLE: Demo.OFF.value, SHOP_SETTINGS_VARIABLE: str(shop_file)}
    if setup.feed is not None:
        values[SYNC_SOURCE_VARIABLE] = setup.feed_kind.value
        values[SYNC_PATH_VARIABLE] = str(setup.feed.resolve())
    if setup.shop_url:
        values[SHOP_URL_VARIABLE] = setup.shop_url.rstrip("/")
    return values


def _quoted(value: str) -> str:
    if _SAFE_VALUE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_file_text(values: Mapping[str, str]) -> str:
    lines = ["# Written by `python -m launcher init`; the launcher reads it on every start."]
    lines += [f"{name}={_quoted(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def read_settings_file(path: Path) -> dict[str, str]:
    """The `SHOPDESK_*=value` lines of a settings file (comments and other lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        found = _LINE.match(line.strip())
        if found is None:
            continue
        name, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        values[name] = value
    return values


def settings_file(environ: Mapping[str, str]) -> Path:
    """`SHOPDESK_SETTINGS_FILE`, else var/shop/shopdesk.env."""
    given = environ.get(SETTINGS_FILE_VARIABLE, "").strip()
    return Path(given) if given else SETTINGS_DIR / SETTINGS_FILE_NAME


def apply_settings_file(environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Put the settings file's variables into `environ` (os.environ) where it has none: the
    environment wins, so a shell's `SHOPDESK_DEMO=on` still brings the demo back. Returns the
    file read, None when there is none."""
    target = os.environ if environ is None else environ
    path = settings_file(target)
    if not path.is_file():
        return None
    for name, value in read_settings_file(path).items():
        if not target.get(name, "").strip():
            target[name] = value
    return path


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(PRIVATE_FILE_MODE)


def write_setup(
    setup: ShopSetup, folder: Path, *, force: bool = False, template: Path = DEFAULT_SHOP_SETTINGS
) -> tuple[Path, Path]:
    """Write `folder`/shop.yml and `folder`/shopdesk.env; InitError, before writing anything,
    when either exists (unless `force`) or the feed is missing."""
    if setup.feed is not None and not setup.feed.is_file():
        raise InitError(f"the product feed {setup.feed} is not a file")
    shop_file = (folder / SHOP_FILE_NAME).resolve()
    env_file = folder / SETTINGS_FILE_NAME
    existing = [p for p in (shop_file, env_file) if p.exists()]
    if existing and not force:
        raise InitError(
            f"{', '.join(map(str, existing))} already exist; edit them, or run init again "
            "with --force to write them anew"
        )
    _write_private(shop_file, shop_file_text(template.read_text(encoding="utf-8"), setup))
    _write_private(env_file, settings_file_text(settings_values(setup, shop_file)))
    return shop_file, env_file


def _currency(text: str) -> str:
    if len(text) != 3 or not text.isalpha():
        raise argparse.ArgumentTypeError(f"{text!r} is not a three-letter currency code")
    return text.upper()


def _name(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned or any(ch in cleaned for ch in "{}"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a shop name (no braces, not blank)")
    return cleaned


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) address")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", type=_name, required=True, help="the shop's name")
    parser.add_argument(
        "--currency", type=_currency, required=True, help="the shop's currency, e.g. EUR"
    )
    parser.add_argument("--feed", type=Path, help="the shop's product file, synced every start")
    parser.add_argument(
        "--feed-kind",
        choices=sorted(kind.value for kind in FILE_KINDS),
        default=SourceKind.MERCHANT_FEED.value,
        help="what the file is (default merchant-feed: Google Merchant TSV or XML)",
    )
    parser.add_argument("--shop-url", type=_url, help="the shop's address, https://...")
    parser.add_argument(
        "--dir", type=Path, default=SETTINGS_DIR, help=f"where to write (default {SETTINGS_DIR})"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files already there")


def run(args: argparse.Namespace) -> int:
    setup = ShopSetup(
        name=args.name,
        currency=args.currency,
        feed=args.feed,
        feed_kind=SourceKind(args.feed_kind),
        shop_url=args.shop_url,
    )
    try:
        shop_file, env_file = write_setup(setup, args.dir, force=args.force)
    except (InitError, OSError) as error:
        print(f"shopdesk: init: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"shopdesk: wrote {shop_file} (edit its delivery, returns and contact wording)")
    print(f"shopdesk: wrote {env_file}: the demo is off")
    if args.dir.resolve() != SETTINGS_DIR.resolve():
        print(f"shopdesk: the launcher reads it when {SETTINGS_FILE_VARIABLE}={env_file}")
    if setup.feed is None:
        print("shopdesk: no --feed: the catalog stays empty until a sync or import fills it")
    print("shopdesk: now `make run` starts the shop's own assistant")
    return EXIT_OK
