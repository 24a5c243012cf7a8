"""The demo Django Oscar shop, run for real: ShopDesk's demo data in Oscar, served on 127.0.0.1.

The Oscar connector (connectors/oscar.py) talks to an Oscar shop over HTTP exactly as it would
to one on the internet; this module gives it one to talk to, for the live tests and the demo.
It exports the Luma products and the built-in order book's sample orders (000000001, 000000002
and the showcase 000000100..000000108: same numbers, e-mails, items, addresses, statuses and
parcels) from ShopDesk's own catalog database to JSON, then, in the separate virtual
environment `.venv-oscar` (requirements/oscar.lock; scripts/bootstrap makes it), migrates the
shop's SQLite database, loads the JSON (connectors/oscar_demo/, command `load_shopdesk_demo`)
and serves it with waitress on a free port, waiting until `/api/` answers.

Everything the shop keeps (its database, secret key, API token, log, the exported JSON) lives in
one folder, `home`, so a test gives it a temporary one. `stop()` then `start()` serves the same
database on the same port again: the shop going down and coming back, nothing it holds lost.
The staff API user's token is written by the shop into an owner-only file (`token_file`); it
never passes through a command line or a log, here or there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy import make_url, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from catalog.db import migrate, session_scope
from catalog.demo.order_book import generate_order_book, showcase
from catalog.luma import import_luma
from catalog.models import Order, Product
from catalog.orders import ORDER_WITH_DETAILS, tracking_url
from catalog.settings import LUMA_DATA_DIR, CatalogSettings
from core.paths import PROJECT_ROOT, VAR_DIR
from launcher.ports import HOST, free_port

OSCAR_VENV: Final = PROJECT_ROOT / ".venv-oscar"
OSCAR_PROJECT: Final = PROJECT_ROOT / "connectors" / "oscar_demo"
DEFAULT_HOME: Final = VAR_DIR / "oscar_demo"
API_PATH: Final = "/api"
# The Luma sample-data orders, then the built-in order book's showcase.
LUMA_ORDERS: Final = ("000000001", "000000002")
DATA_FORMAT: Final = 1
PARTNER: Final = "Luma"
CURRENCY: Final = "USD"
DEFAULT_COUNTRY: Final = "US"
CATEGORY_SEPARATOR: Final = "/"  # ShopDesk's category paths: "Men/Tops/Jackets"
BREADCRUMB_SEPARATOR: Final = " > "  # Oscar's create_from_breadcrumbs
CENTS: Final = 100
READY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 10.0
POLL_S: Final = 0.2
SERVER_THREADS: Final = 4
LOG_TAIL_CHARS: Final = 2000
PREPARE_TIMEOUT_S: Final = 600
SQLITE: Final = "sqlite"
LOAD_FIRST: Final = (
    "load it first (python -m launcher prepare, or python -m catalog.cli load), "
    "or use --fresh-catalog"
)

Progress = Callable[[str], None]


class OscarShopError(Exception):
    """The demo shop could not be prepared or did not come up; the message says why."""


def order_numbers() -> tuple[str, ...]:
    """The orders the demo shop must hold: the Luma samples and the showcase (it holds the
    rest of the demo order book too, so every conversation about a demo order is the same
    against Oscar as against the built-in order book)."""
    return (*LUMA_ORDERS, *(entry.number for entry in showcase()))


def _money(cents: int) -> str:
    return f"{cents // CENTS}.{cents % CENTS:02d}"


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _product(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "title": product.name,
        "description": product.description,
        "price": _money(product.price_cents),
        "categories": sorted(
            BREADCRUMB_SEPARATOR.join(category.path.split(CATEGORY_SEPARATOR))
            for category in product.categories
        ),
        "stock": sum(variant.qty for variant in product.variants),
    }


def _address(order: Order) -> dict[str, str] | None:
    """Where the order ships, as catalog/order_views.py reads it; None when it has none (the
    Luma sample orders)."""
    if not (order.ship_street and order.ship_city and order.ship_region and order.ship_postcode):
        return None
    first, _, last = (order.ship_name or "").partition(" ")
    return {
        "first_name": first,
        "last_name": last,
        "line1": order.ship_street,
        "line2": "",
        "line4": order.ship_city,
        "state": order.ship_region,
        "postcode": order.ship_postcode,
        "country": order.ship_country or DEFAULT_COUNTRY,
    }


def _order(order: Order, skus: dict[int, str]) -> dict[str, Any]:
    customer = order.customer
    return {
        "number": order.number,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "status": order.status,
        "placed_at": _iso(order.created_at),
        "shipping_method": order.shipping_method,
        "subtotal": _money(order.subtotal_cents),
        "shipping": _money(order.shipping_cents),
        "total": _money(order.total_cents),
        "shipping_address": _address(order),
        "lines": [
            {
                "product_sku": skus.get(line.product_id or 0, line.sku),
                "sku": line.sku,
                "title": line.name,
                "quantity": line.qty,
                "unit_price": _money(line.price_cents),
            }
            for line in sorted(order.lines, key=lambda line: line.id)
        ],
        "shipments": [
            {
                "carrier": parcel.carrier,
                "tracking_number": parcel.tracking_number,
                "tracking_url": (
                    tracking_url(parcel.carrier, parcel.tracking_number)
                    if parcel.carrier and parcel.tracking_number
                    else None
                ),
                "eta": _iso(parcel.eta),
                "shipped_at": _iso(parcel.shipped_at),
                "delivered_at": _iso(parcel.delivered_at),
            }
            for parcel in sorted(order.shipments, key=lambda parcel: parcel.id)
        ],
    }


def export_demo_data(catalog_url: str, numbers: Iterable[str] | None = None) -> dict[str, Any]:
    """ShopDesk's products (those still sold) and its orders (`numbers`, default all of
    them), as the shop loads them.

    OscarShopError when the catalog is not there or lacks an order (loaded without its order
    book)."""
    wanted = tuple(numbers) if numbers else None
    database = make_url(catalog_url).database
    if make_url(catalog_url).get_backend_name() == SQLITE and not Path(database or "").is_file():
        raise OscarShopError(f"there is no catalog at {catalog_url}: {LOAD_FIRST}")
    try:
        return _exported(catalog_url, wanted)
    except SQLAlchemyError as error:
        raise OscarShopError(
            f"cannot read the catalog at {catalog_url} ({type(error).__name__}): {LOAD_FIRST}"
        ) from None


def _exported(catalog_url: str, wanted: tuple[str, ...] | None) -> dict[str, Any]:
    with session_scope(catalog_url) as session:
        products = session.scalars(
            select(Product)
            .where(Product.discontinued_at.is_(None))
            .options(selectinload(Product.categories), selectinload(Product.variants))
            .order_by(Product.sku)
        ).all()
        chosen = select(Order).options(*ORDER_WITH_DETAILS)
        if wanted is not None:
            chosen = chosen.where(Order.number.in_(wanted))
        orders = session.scalars(chosen).all()
        found = {order.number for order in orders}
        if missing := [number for number in wanted or order_numbers() if number not in found]:
            raise OscarShopError(
                f"the catalog at {catalog_url} lacks orders {', '.join(missing)}: {LOAD_FIRST}"
            )
        skus = {product.id: product.sku for product in products}
        return {
            "format": DATA_FORMAT,
            "partner": PARTNER,
            "currency": CURRENCY,
            "products": [_product(product) for product in products],
            "orders": [_order(order, skus) for order in sorted(orders, key=lambda o: o.number)],
        }


def build_demo_catalog(catalog_url: str, today: date) -> None:
    """A ShopDesk catalog with the Luma shop and its order book (no search index, no
    embeddings: only what the export reads), for a demo shop independent of the user's."""
    migrate(catalog_url)
    with session_scope(catalog_url) as session:
        import_luma(session, LUMA_DATA_DIR)
        generate_order_book(session, today=today)


def missing_venv(venv: Path = OSCAR_VENV) -> str | None:
    """Why the shop cannot run here (its virtual environment is missing), or None."""
    python = venv / "bin" / "python"
    return None if python.exists() else f"{python} is missing: run scripts/bootstrap"


class OscarShop:
    """The demo Oscar shop in `home`, serving ShopDesk's demo data from `catalog_url`.

    `with OscarShop(home, catalog_url) as shop:` prepares it (export, migrate, load) at the
    first start and serves it until the block ends; `shop.url` is the API root and
    `shop.token_file` holds the staff API user's token.
    """

    def __init__(
        self,
        home: Path,
        catalog_url: str,
        *,
        port: int | None = None,
        venv: Path = OSCAR_VENV,
        progress: Progress | None = None,
    ) -> None:
        self.home = home.resolve()
        self.catalog_url = catalog_url
        self.port = port or free_port()
        self.venv = venv
        self.progress = progress or (lambda _line: None)
        self.token_file = self.home / "api_token"
        self.data_file = self.home / "shopdesk_demo.json"
        self.log_file = self.home / "oscar.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._prepared = False

    @property
    def url(self) -> str:
        """The API root, as SHOPDESK_SHOP_API_URL wants it: http://127.0.0.1:PORT/api."""
        return f"http://{HOST}:{self.port}{API_PATH}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def settings(self) -> dict[str, str]:
        """What ShopDesk needs to use this shop (connectors/settings.py)."""
        return {
            "SHOPDESK_ORDERS": "oscar",
            "SHOPDESK_SHOP_API_URL": self.url,
            "SHOPDESK_SHOP_API_TOKEN_FILE": str(self.token_file),
        }

    def _environ(self) -> dict[str, str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTHON"))
        }
        environ["OSCAR_DEMO_HOME"] = str(self.home)
        environ["DJANGO_SETTINGS_MODULE"] = "shopdesk_oscar.settings"
        return environ

    def _manage(self, *arguments: str) -> None:
        command = [str(self.venv / "bin" / "python"), "manage.py", *arguments]
        with self.log_file.open("ab") as log:
            done = subprocess.run(
                command,
                cwd=OSCAR_PROJECT,
                env=self._environ(),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=PREPARE_TIMEOUT_S,
                check=False,
            )
        if done.returncode != 0:
            raise OscarShopError(
                f"manage.py {arguments[0]} failed (exit {done.returncode}): {self._log_tail()}"
            )

    def prepare(self) -> None:
        """Export ShopDesk's demo data, migrate the shop's database and load the data into it
        (again from scratch for the sample orders: loading is idempotent)."""
        if problem := missing_venv(self.venv):
            raise OscarShopError(problem)
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.progress(f"oscar-shop: exporting the demo products and orders from {self.catalog_url}")
        data = export_demo_data(self.catalog_url)
        self.data_file.write_text(json.dumps(data, indent=1), encoding="utf-8")
        self.progress(
            f"oscar-shop: migrating the shop's database in {self.home} (slow the first time)"
        )
        self._manage("migrate", "--noinput", "-v", "0")
        self.progress(
            f"oscar-shop: loading {len(data['products'])} products and {len(data['orders'])} orders"
        )
        self._manage(
            "load_shopdesk_demo", str(self.data_file), "--token-file", str(self.token_file)
        )
        self._prepared = True

    def start(self) -> Self:
        """Serve the shop (preparing it the first time) and wait until `/api/` answers."""
        if self.running:
            return self
        if not self._prepared:
            self.prepare()
        self.progress(f"oscar-shop: starting the shop on {HOST}:{self.port}")
        command = [
            str(self.venv / "bin" / "python"),
            "-m",
            "waitress",
            f"--listen={HOST}:{self.port}",
            f"--threads={SERVER_THREADS}",
            "shopdesk_oscar.wsgi:application",
        ]
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=OSCAR_PROJECT,
                env=self._environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise OscarShopError(
                    f"the shop stopped at once (exit {self._process.returncode}): "
                    f"{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=POLL_S * 10) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(POLL_S)
        self.stop()
        raise OscarShopError(
            f"the shop did not answer in {READY_TIMEOUT_S:.0f}s: {self._log_tail()}"
        )

    def stop(self) -> None:
        """Stop serving; the database stays, so `start()` brings the same shop back."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _log_tail(self) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return text[-LOG_TAIL_CHARS:].strip() or "(empty log)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def add_arguments(parser: Any) -> None:
    """`python -m launcher oscar-shop`'s options."""
    parser.add_argument(
        "--home",
        type=Path,
        default=DEFAULT_HOME,
        help=f"the shop's folder: database, token, log (default: {DEFAULT_HOME})",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument(
        "--fresh-catalog",
        action="store_true",
        help="take the demo data from a new Luma catalog with today's order book in the shop's "
        "folder, instead of ShopDesk's own catalog database (SHOPDESK_DATABASE_URL/_DB_PATH)",
    )


DESCRIPTION: Final = (
    "Run the demo Django Oscar shop with ShopDesk's Luma products and every order of its "
    "demo order book (the Luma samples, the showcase 000000100..000000108 and the rest), "
    "taken from ShopDesk's catalog database, "
    "on 127.0.0.1 until Ctrl-C; it prints the settings that point ShopDesk at it "
    "(SHOPDESK_ORDERS=oscar, SHOPDESK_SHOP_API_URL, SHOPDESK_SHOP_API_TOKEN_FILE). It needs "
    ".venv-oscar (scripts/bootstrap). Each start loads the sample orders afresh."
)


def run(args: Any) -> int:
    """Prepare, serve and print the settings; Ctrl-C stops it."""

    def say(line: str) -> None:
        print(line, flush=True)

    home = Path(args.home)
    if args.fresh_catalog:
        catalog_url = f"sqlite:///{home.resolve() / 'shopdesk_catalog.sqlite3'}"
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        say("oscar-shop: building a fresh Luma catalog with today's order book")
        build_demo_catalog(catalog_url, date.today())
    else:
        catalog_url = CatalogSettings.from_env().database_url
    shop = OscarShop(home, catalog_url, port=args.port, progress=say)
    try:
        shop.start()
        say(f"\nThe demo Oscar shop is up: {shop.url}/ (log: {shop.log_file})")
        say("Point ShopDesk at it with:")
        for name, value in shop.settings().items():
            say(f"  export {name}={value}")
        say("Ctrl-C stops it.")
        while shop.running:
            time.sleep(1)
        print(f"oscar-shop: the shop stopped; see {shop.log_file}", file=sys.stderr)
        return 1
    except OscarShopError as error:
        print(f"oscar-shop: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("\noscar-shop: stopping")
        return 0
    finally:
        shop.stop()
