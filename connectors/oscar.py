"""A Django Oscar shop (django-oscar 3.2 + django-oscar-api 3.3) as ShopDesk's order system and
product source, over its REST API exactly as over the internet.

What the shop sets up (docs/connect-your-shop.md): `OSCARAPI_BLOCK_ADMIN_API_ACCESS = False`,
DRF token auth, and a staff user with the order and catalogue view (and, for changes, change)
permissions whose token ShopDesk sends as `Authorization: Token <key>`.

What oscarapi 3.3.0 itself offers, read from its source (oscarapi/urls.py, views/admin/order.py,
serializers/checkout.py, serializers/product.py):
- `GET /admin/orders/`: every order (AdminOrderSerializer: number, email, status, currency,
  total_incl_tax, date_placed, an inline shipping_address whose country is a hyperlink, and
  `lines` as a hyperlink to `/admin/orders/<pk>/lines/`), unpaginated unless the shop turns on
  DRF pagination (both shapes are read here, following `next`). It has no filter by number:
  this connector asks `?number=` (a shop that filters answers one order, one that does not
  answers all) and always picks the order by its exact number itself.
- no order change at all: the admin order detail is `RetrieveDestroyAPIView` (GET, DELETE).
  A shop that lets ShopDesk cancel or redirect orders adds, with oscarapi's documented
  `OSCARAPI_OVERRIDE_MODULES`, a PATCH on `/admin/orders/<pk>/` taking `{"status": ...}` (set
  through Oscar's `Order.set_status`, so its status pipeline decides) and/or
  `{"shipping_address": {first_name, last_name, line1, line2, line4, state, postcode,
  country}}`, answering the order, or 409 when the order's state forbids it. ShopDesk's demo
  shop does (connectors/oscar_demo/shopdesk_oscar/api/), and also shows `shipping_events`.
  `from_settings` declares CANCEL and CHANGE_ADDRESS; a stock oscarapi shop answers the first
  PATCH with 405, and the connector then raises `Unsupported` and stops declaring both.
- no returns: core Oscar has no returns app, so START_RETURN is never a capability.
- `GET /products/` (url, id, upc, title by default), `/products/<pk>/` (description,
  categories as "Men > Tops > Jackets", images, attributes, children), and
  `/products/<pk>/stockrecords/` (partner_sku, price, price_currency, num_in_stock).

Order numbers are Oscar's strings, compared exactly: `order_number` only drops a leading "#"
and surrounding spaces ("#000000100 " -> "000000100"); it does not pad digits, because Oscar's
own numbers are not padded (100000 + the basket's id) while a shop's may be.

Statuses: Oscar leaves them to the shop (OSCAR_ORDER_STATUS_PIPELINE); `DEFAULT_STATUSES` maps
the names ShopDesk's demo shop and Oscar's sandbox use, case-insensitively, and a shop adds its
own with `OscarOrders(..., statuses={"Awaiting stock": OrderStatus.PROCESSING})`. An order in a
status nobody mapped is a `ShopError` naming it, never a guess (a guess could allow cancelling
a parcel already on its way). The shop's word is kept in `Order.shop_status`.

Parcels: a shipping event "Shipped" is a parcel, its notes `carrier=UPS; tracking_number=...;
tracking_url=...; eta=YYYY-MM-DD` (ShopDesk's demo shop writes them so); a "Delivered" event
with the same tracking number (or, without one, the latest parcel) marks it delivered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from connectors.errors import NotAllowed, ShopError, Unsupported
from connectors.http import ShopClient
from connectors.orders import (
    Address,
    Cancellation,
    Order,
    OrderLine,
    Refund,
    ReturnRequest,
    Shipment,
    can_cancel,
    same_email,
)
from connectors.products import SHOP_CURRENCY, ProductRecord, VariantRecord
from connectors.protocol import Capability
from connectors.settings import ConnectorSettings
from connectors.statuses import OrderStatus, RefundStatus

log = logging.getLogger(__name__)

SYSTEM_NAME: Final = "Django Oscar"
TOKEN_SCHEME: Final = "Token"  # DRF's TokenAuthentication keyword

ORDERS_PATH: Final = "/admin/orders/"
PRODUCTS_PATH: Final = "/products/"
NUMBER_PARAMETER: Final = "number"  # answered by a shop that filters; ignored by stock oscarapi
STRUCTURE_PARAMETER: Final = "structure"  # oscarapi's ProductList filter
LISTED_STRUCTURES: Final = ("standalone", "parent")  # children come with their parent
PARENT_STRUCTURE: Final = "parent"
MAX_NUMBER_CHARS: Final = 128  # oscar's Order.number max_length
# Oscar's own OrderNumberGenerator makes digits (100000 + the basket's id); a shop whose
# numbers look otherwise passes its own `number_pattern`.
NUMBER_PATTERN: Final = re.compile(r"\d+")
MAX_PAGES: Final = 10_000  # a `next` that never ends is a broken shop, not a big one

HTTP_METHOD_NOT_ALLOWED: Final = 405
HTTP_CONFLICT: Final = 409
HTTP_BAD_REQUEST: Final = 400

CANCELLED_STATUS: Final = "Cancelled"  # the status name a cancel PATCHes (Oscar's sandbox's)
CHANGES: Final = frozenset({Capability.CANCEL, Capability.CHANGE_ADDRESS})
REFUND_METHOD: Final = "original payment method"

# Oscar's status name (casefolded) -> ShopDesk's state. "new" is oscarapi's default initial
# status; "complete" is the sandbox's last step, after dispatch (so: not cancellable).
DEFAULT_STATUSES: Final[Mapping[str, OrderStatus]] = MappingProxyType(
    {
        "new": OrderStatus.PENDING,
        "pending": OrderStatus.PENDING,
        "being processed": OrderStatus.PROCESSING,
        "processing": OrderStatus.PROCESSING,
        "shipped": OrderStatus.SHIPPED,
        "complete": OrderStatus.SHIPPED,
        "delivered": OrderStatus.DELIVERED,
        "cancelled": OrderStatus.CANCELLED,
        "canceled": OrderStatus.CANCELLED,
        "returned": OrderStatus.RETURNED,
        "refunded": OrderStatus.REFUNDED,
    }
)

EVENT_SHIPPED: Final = "shipped"  # shipping event type names, casefolded
EVENT_DELIVERED: Final = "delivered"
NOTE_SEPARATOR: Final = ";"
NOTE_ASSIGN: Final = "="
NOTE_CARRIER: Final = "carrier"
NOTE_TRACKING_NUMBER: Final = "tracking_number"
NOTE_TRACKING_URL: Final = "tracking_url"
NOTE_ETA: Final = "eta"

CATEGORY_SEPARATOR: Final = " > "  # oscar's Category.full_name
PATH_SEPARATOR: Final = "/"  # ProductRecord.categories' paths
SIZE_CODES: Final = frozenset({"size"})
COLOR_CODES: Final = frozenset({"color", "colour"})
PRODUCT_WORKERS: Final = 8  # parallel product reads: a sync of thousands, not one at a time
CENT: Final = Decimal("0.01")
CENTS_PER_UNIT: Final = 100
OSCAR_KEY: Final = "oscar_path"  # Order.extra: the order's admin API path, for changes


@dataclass(frozen=True)
class SkippedProduct:
    """A product the shop lists but ShopDesk cannot sell (no SKU, no price): for the report."""

    where: str
    field: str
    reason: str


class OscarOrders:
    """`OrderSystem` and `ProductSource` over one Oscar shop's REST API (see the module)."""

    name = SYSTEM_NAME

    def __init__(
        self,
        client: ShopClient,
        *,
        api_path: str = "",
        capabilities: frozenset[Capability] = CHANGES,
        statuses: Mapping[str, OrderStatus] | None = None,
        cancel_status: str = CANCELLED_STATUS,
        number_pattern: re.Pattern[str] = NUMBER_PATTERN,
    ) -> None:
        """`api_path` is the path of the API root ("/api"): the shop's hyperlinks are read
        relative to it, so the token only ever goes to the configured address."""
        self._client = client
        self._api_path = api_path.rstrip("/")
        self.capabilities = frozenset(capabilities) & CHANGES
        self._statuses = {
            **DEFAULT_STATUSES,
            **{k.casefold(): v for k, v in (statuses or {}).items()},
        }
        self._cancel_status = cancel_status
        self._number_pattern = number_pattern
        self.skipped: list[SkippedProduct] = []

    @classmethod
    def from_settings(
        cls, settings: ConnectorSettings, *, transport: httpx.BaseTransport | None = None
    ) -> OscarOrders:
        """The shop at SHOPDESK_SHOP_API_URL (its API root, e.g. https://shop.example/api)
        with the staff token from the settings; nothing is asked of the shop yet."""
        url = settings.url()
        client = ShopClient(
            SYSTEM_NAME,
            url,
            {"Authorization": f"{TOKEN_SCHEME} {settings.token()}"},
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            transport=transport,
        )
        return cls(client, api_path=urlsplit(url).path)

    def close(self) -> None:
        self._client.close()

    # --- orders ------------------------------------------------------------------------------

    def order_number(self, typed: str) -> str | None:
        """ "#000000100 " -> "000000100"; None for what cannot be an Oscar order number."""
        number = typed.strip().removeprefix("#").strip()
        if len(number) > MAX_NUMBER_CHARS or not self._number_pattern.fullmatch(number):
            return None
        return number

    def find_order(self, number: str, email: str) -> Order | None:
        data = self._order_data(number)
        stored = data.get("email") if data is not None else None
        if data is None or not isinstance(stored, str) or not same_email(stored, email):
            return None
        return self._order(data)

    def cancel(self, order: Order, *, fee_cents: int, now: datetime) -> Cancellation:
        """Set the shop's cancelled status (its pipeline decides); a paid order is refunded,
        less the fee, by the shop's staff through Oscar's payment sources: pending here."""
        self._require(Capability.CANCEL)
        current = self._current(order)
        if not can_cancel(current):
            raise NotAllowed(_too_late(current, "cancelled"))
        changed = self._change(current, {"status": self._cancel_status}, Capability.CANCEL)
        paid = current.status == OrderStatus.PROCESSING
        refund = (
            Refund(current.total_cents - fee_cents, RefundStatus.PENDING, REFUND_METHOD, now)
            if paid and current.total_cents > fee_cents
            else None
        )
        return Cancellation(changed, fee_cents, refund)

    def change_address(self, order: Order, address: Address, *, now: datetime) -> Order:
        self._require(Capability.CHANGE_ADDRESS)
        current = self._current(order)
        if not can_cancel(current):
            raise NotAllowed(_too_late(current, "sent to another address"))
        first, _, last = address.name.strip().rpartition(" ")
        body = {
            "shipping_address": {
                "first_name": first,
                "last_name": last,
                "line1": address.street,
                "line2": "",
                "line4": address.city,
                "state": address.region,
                "postcode": address.postcode,
                "country": address.country,
            }
        }
        return self._change(current, body, Capability.CHANGE_ADDRESS)

    def start_return(
        self, order: Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> ReturnRequest:
        raise Unsupported(SYSTEM_NAME, Capability.START_RETURN)

    def _require(self, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise Unsupported(SYSTEM_NAME, capability)

    def _order_data(self, number: str) -> dict[str, Any] | None:
        for data in self._pages(ORDERS_PATH, {NUMBER_PARAMETER: number}):
            if str(data.get("number", "")) == number:
                return data
        return None

    def _current(self, order: Order) -> Order:
        """The order as the shop has it now (a change is decided on that, not on what the
        shopper was shown a minute ago)."""
        path = order.extra.get(OSCAR_KEY)
        data = self._client.get(path) if path else self._order_data(order.number)
        if data is None:
            raise ShopError(f"{SYSTEM_NAME} no longer has order {order.number}")
        return self._order(_mapping(data, f"order {order.number}"))

    def _change(self, order: Order, body: dict[str, Any], capability: Capability) -> Order:
        """PATCH the order once (never retried: a lost answer may hide a done change)."""
        path = order.extra.get(OSCAR_KEY)
        if not path:
            raise ShopError(f"{SYSTEM_NAME} order {order.number} came without its API address")
        try:
            data = self._client.request("PATCH", path, json=body, idempotent=False)
        except ShopError as error:
            if error.status == HTTP_METHOD_NOT_ALLOWED:
                log.warning("%s: its order API cannot %s (HTTP 405)", SYSTEM_NAME, capability)
                self.capabilities = self.capabilities - {capability}
                raise Unsupported(SYSTEM_NAME, capability) from None
            if error.status in (HTTP_CONFLICT, HTTP_BAD_REQUEST):
                log.info(
                    "%s refused %s of order %s: %s", SYSTEM_NAME, capability, order.number, error
                )
                raise NotAllowed(_refused(order, capability)) from None
            raise
        if data is None:
            raise ShopError(f"{SYSTEM_NAME} no longer has order {order.number}")
        return self._order(_mapping(data, f"order {order.number}"))

    def _order(self, data: dict[str, Any]) -> Order:
        number = _text(data, "number", "an order")
        what = f"order {number}"
        shop_status = str(data.get("status") or "")
        status = self._statuses.get(shop_status.strip().casefold())
        if status is None:
            raise ShopError(
                f"{SYSTEM_NAME} {what} is in status {shop_status!r}, which ShopDesk does not "
                "know: add it to OscarOrders(statuses=...)"
            )
        address = _address(data.get("shipping_address"), what)
        extra = {OSCAR_KEY: self._path(data["url"])} if isinstance(data.get("url"), str) else {}
        return Order(
            number=number,
            email=str(data.get("email") or ""),
            status=status,
            currency=str(data.get("currency") or SHOP_CURRENCY),
            total_cents=_cents(data.get("total_incl_tax"), f"{what} total_incl_tax"),
            lines=self._lines(data.get("lines"), what),
            placed_at=_when(data.get("date_placed"), f"{what} date_placed"),
            customer_name=address.name if address else "",
            shop_status=shop_status,
            shipments=_shipments(data.get("shipping_events") or [], what),
            shipping_address=address,
            extra=extra,
        )

    def _lines(self, lines: object, what: str) -> tuple[OrderLine, ...]:
        """Inline lines, or oscarapi's hyperlink to them; titles and SKUs from the product
        when the shop does not list them on the line (OSCARAPI_ORDERLINE_FIELDS)."""
        if isinstance(lines, str):
            rows: list[dict[str, Any]] = list(self._pages(self._path(lines), None))
        elif isinstance(lines, list):
            rows = [_mapping(row, f"{what} line") for row in lines]
        else:
            raise ShopError(f"{SYSTEM_NAME} sent {what} without its lines")
        return tuple(self._line(row, what) for row in rows)

    def _line(self, row: dict[str, Any], what: str) -> OrderLine:
        line_id = str(row.get("id") or _last_segment(row.get("url"), f"{what} line"))
        qty = _whole(row.get("quantity"), f"{what} line {line_id} quantity")
        title, sku = row.get("title"), row.get("partner_sku") or row.get("upc")
        if not title and isinstance(row.get("product"), str):
            product = self._client.get(self._path(row["product"])) or {}
            title, sku = product.get("title"), sku or product.get("upc")
        if "unit_price_incl_tax" in row:
            unit = _cents(row["unit_price_incl_tax"], f"{what} line {line_id} price")
        else:
            total = _cents(row.get("price_incl_tax"), f"{what} line {line_id} price")
            unit = total // qty if qty else total
        return OrderLine(line_id, str(title or "item"), qty, str(sku) if sku else None, unit)

    # --- products ----------------------------------------------------------------------------

    def products(self) -> Iterator[ProductRecord]:
        """Every standalone and parent product with its price, categories and stock (children
        as variants); a product without a SKU or a price is left out and listed in `skipped`."""
        self.skipped = []
        listed = [
            item
            for structure in LISTED_STRUCTURES
            for item in self._pages(PRODUCTS_PATH, {STRUCTURE_PARAMETER: structure})
        ]
        with ThreadPoolExecutor(PRODUCT_WORKERS) as pool:
            for record in pool.map(self._product, listed):
                if record is not None:
                    yield record

    def _product(self, item: dict[str, Any]) -> ProductRecord | None:
        where = f"product {item.get('id', '?')}"
        detail = _mapping(self._client.get(self._path(_text(item, "url", where))), where)
        position = int(detail.get("id") or item.get("id") or 0)
        stock = self._stock(detail, where)
        variants: list[VariantRecord] = []
        if detail.get("structure") == PARENT_STRUCTURE:
            for link in detail.get("children") or []:
                child = _mapping(self._client.get(self._path(str(link))), f"{where} child")
                child_stock = self._stock(child, where)
                variants.append(_variant(child, child_stock))
                stock = stock or child_stock
        sku = str(detail.get("upc") or (stock[0].get("partner_sku") if stock else "") or "")
        if not sku:
            self._skip(where, "sku", "has neither a UPC nor a partner SKU")
            return None
        if not stock or stock[0].get("price") is None:
            self._skip(where, "price", "has no stock record with a price")
            return None
        return ProductRecord(
            sku=sku,
            name=str(detail.get("title") or item.get("title") or sku),
            price_cents=_cents(stock[0]["price"], f"{where} price"),
            currency=str(stock[0].get("price_currency") or SHOP_CURRENCY),
            file=SYSTEM_NAME,
            line=position,
            description=str(detail.get("description") or ""),
            categories=[
                PATH_SEPARATOR.join(part.strip() for part in str(c).split(CATEGORY_SEPARATOR))
                for c in detail.get("categories") or []
            ],
            images=[
                str(image["original"])
                for image in detail.get("images") or []
                if isinstance(image, dict) and image.get("original")
            ],
            attributes=[
                (str(a.get("name") or a.get("code")), str(a.get("value")))
                for a in detail.get("attributes") or []
                if isinstance(a, dict) and a.get("value") not in (None, "")
            ],
            variants=variants
            or [VariantRecord(sku=sku, qty=sum(_in_stock(s) for s in stock), line=position)],
        )

    def _stock(self, product: dict[str, Any], where: str) -> list[dict[str, Any]]:
        """Its stock records, which carry the price (Oscar 3's `price`, older `price_excl_tax`)."""
        link = product.get("stockrecords")
        if not isinstance(link, str):
            return []
        rows = []
        for row in self._pages(self._path(link), None):
            if "price" not in row and "price_excl_tax" in row:
                row = {**row, "price": row["price_excl_tax"]}
            rows.append(row)
        return rows

    def _skip(self, where: str, field: str, reason: str) -> None:
        log.warning("%s: %s %s; not synced", SYSTEM_NAME, where, reason)
        self.skipped.append(SkippedProduct(where, field, reason))

    # --- the API -----------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, str] | None) -> Iterator[dict[str, Any]]:
        """The items of a list, unpaginated (a JSON list) or paginated by DRF
        ({"results": [...], "next": url}), following `next` on the same shop only."""
        answer = self._client.get(path, params)
        for _ in range(MAX_PAGES):
            if answer is None:
                return
            if isinstance(answer, list):
                yield from (_mapping(item, path) for item in answer)
                return
            page = _mapping(answer, path)
            results = page.get("results")
            if not isinstance(results, list):
                raise ShopError(f"{SYSTEM_NAME} answered {path} with neither a list nor a page")
            yield from (_mapping(item, path) for item in results)
            following = page.get("next")
            if not following:
                return
            answer = self._client.get(self._path(str(following)))
        raise ShopError(f"{SYSTEM_NAME} answered {path} with more than {MAX_PAGES} pages")

    def _path(self, link: str) -> str:
        """A hyperlink of the shop's, as a path under the configured API root: the shop builds
        its links from the Host it was asked with, and the token must never follow a link
        elsewhere."""
        parts = urlsplit(link)
        path = parts.path
        if self._api_path:
            if not (path == self._api_path or path.startswith(self._api_path + "/")):
                raise ShopError(f"{SYSTEM_NAME} linked outside its API: {parts.path}")
            path = path[len(self._api_path) :]
        return path + (f"?{parts.query}" if parts.query else "")


def connect(settings: ConnectorSettings) -> OscarOrders:
    """The factory catalog.order_system calls for SHOPDESK_ORDERS=oscar."""
    return OscarOrders.from_settings(settings)


# --- reading Oscar's values ------------------------------------------------------------------


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not an object")
    return value


def _text(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ShopError(f"{SYSTEM_NAME} sent {what} without {key}")
    return value


def _cents(value: object, what: str) -> int:
    """DRF's decimals are strings ("45.00"); whole cents, half up."""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not an amount: {value!r}")
    return int(amount * CENTS_PER_UNIT)


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not a whole number: {value!r}")
    return value


def _when(value: object, what: str) -> datetime | None:
    """ISO 8601 as DRF writes it ("...Z" or an offset); a time without a zone is UTC."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not a time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None  # a note a person typed: a bad ETA is left out, not an error


def _last_segment(link: object, what: str) -> str:
    segments = [s for s in urlsplit(str(link or "")).path.split("/") if s]
    if not segments:
        raise ShopError(f"{SYSTEM_NAME} sent {what} without an id or url")
    return segments[-1]


def _address(value: object, what: str) -> Address | None:
    """Oscar's address: line1-3 the street, line4 the city, state, postcode, and the country
    as a hyperlink ending in its ISO code (oscarapi) or the code itself."""
    if not value:
        return None
    data = _mapping(value, f"{what} shipping_address")
    name = " ".join(str(data.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    street = ", ".join(
        str(data[k]).strip() for k in ("line1", "line2", "line3") if str(data.get(k) or "").strip()
    )
    country = str(data.get("country") or "")
    code = _last_segment(country, f"{what} country") if "/" in country else country
    return Address(
        name=name,
        street=street,
        city=str(data.get("line4") or ""),
        region=str(data.get("state") or ""),
        postcode=str(data.get("postcode") or ""),
        country=code.upper() or "US",
    )


def _notes(text: object) -> dict[str, str]:
    """`carrier=UPS; tracking_number=1Z...`: split on ';', then on the first '='."""
    notes: dict[str, str] = {}
    for part in str(text or "").split(NOTE_SEPARATOR):
        key, assigned, value = part.partition(NOTE_ASSIGN)
        if assigned and key.strip():
            notes[key.strip().casefold()] = value.strip()
    return notes


def _shipments(events: object, what: str) -> tuple[Shipment, ...]:
    if not isinstance(events, list):
        raise ShopError(f"{SYSTEM_NAME} sent {what} shipping_events that are not a list")
    parcels: list[Shipment] = []
    for raw in events:
        event = _mapping(raw, f"{what} shipping event")
        kind = str(event.get("event_type") or "").strip().casefold()
        notes = _notes(event.get("notes"))
        moment = _when(event.get("date_created"), f"{what} shipping event date")
        tracking = notes.get(NOTE_TRACKING_NUMBER) or None
        if kind == EVENT_SHIPPED:
            parcels.append(
                Shipment(
                    carrier=notes.get(NOTE_CARRIER) or None,
                    tracking_number=tracking,
                    tracking_url=notes.get(NOTE_TRACKING_URL) or None,
                    eta=_day(notes.get(NOTE_ETA)),
                    shipped_at=moment,
                )
            )
        elif kind == EVENT_DELIVERED:
            match = [i for i, p in enumerate(parcels) if tracking and p.tracking_number == tracking]
            open_ = [i for i, p in enumerate(parcels) if p.delivered_at is None]
            candidates = match or open_
            if not candidates:
                parcels.append(
                    Shipment(notes.get(NOTE_CARRIER) or None, tracking, delivered_at=moment)
                )
            else:
                parcels[candidates[-1]] = replace(parcels[candidates[-1]], delivered_at=moment)
    return tuple(parcels)


def _in_stock(record: dict[str, Any]) -> int:
    free = int(record.get("num_in_stock") or 0) - int(record.get("num_allocated") or 0)
    return max(free, 0)


def _variant(child: dict[str, Any], stock: list[dict[str, Any]]) -> VariantRecord:
    values = {
        str(a.get("code") or "").casefold(): str(a.get("value"))
        for a in child.get("attributes") or []
        if isinstance(a, dict)
    }
    sku = str(child.get("upc") or (stock[0].get("partner_sku") if stock else "") or child.get("id"))
    return VariantRecord(
        sku=sku,
        size=next((values[c] for c in SIZE_CODES if c in values), None),
        color=next((values[c] for c in COLOR_CODES if c in values), None),
        qty=sum(_in_stock(s) for s in stock),
        line=int(child.get("id") or 0) or None,
    )


def _too_late(order: Order, change: str) -> str:
    """The shopper's sentence when the order has moved on."""
    if order.status == OrderStatus.CANCELLED:
        return f"Order {order.number} is already cancelled."
    return f"Order {order.number} has already shipped, so it can no longer be {change}."


def _refused(order: Order, capability: Capability) -> str:
    if capability == Capability.CANCEL:
        return f"The shop cannot cancel order {order.number} in its current state."
    return f"The shop could not send order {order.number} to that address."
