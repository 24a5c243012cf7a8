"""Magento 2 / Adobe Commerce over its REST API: orders for the bot, products for catalog sync.

Written against the documented REST schema (Adobe Commerce REST reference 2.4.x and the order
processing tutorial), contract-tested on those payloads (tests/connectors/test_magento.py); no
live store is reachable from here. Magento is the platform the Luma sample data comes from, so
its numbers and states are the ones ShopDesk's own order book copies.

It calls `{SHOPDESK_SHOP_API_URL}/rest/V1/...` (or `/rest/<store_code>/V1` when the URL names a
store view) with an integration's access token as `Authorization: Bearer`: GET /orders (found by
increment_id), /shipments, /invoices and /creditmemos (by order_id); POST /orders/<id>/cancel;
PUT /orders/<id> (the order address repository's save); GET /products (paged), /categories and
/products/attributes/<code>/options.

Order states to ShopDesk's (`STATE_STATUS`; Magento's own word is kept in `Order.shop_status`):

| Magento state     | ShopDesk status | why                                                        |
|-------------------|-----------------|------------------------------------------------------------|
| new               | pending         | placed, not invoiced: for offline payments, not paid yet   |
| pending_payment   | pending         | waiting for a payment gateway                              |
| payment_review    | pending         | the payment is being checked (fraud review)                |
| processing        | processing      | invoiced or partly shipped; shipped once a shipment exists |
| holded            | processing      | on hold (Magento refuses to cancel it: NotAllowed)         |
| complete          | shipped         | invoiced and shipped in full; Magento records no delivery  |
| closed            | refunded        | refunded in full by credit memos                           |
| canceled          | cancelled       |                                                            |

Decisions, each for a reason:
- A Magento shipment is created when the parcel is handed over, so every shipment counts as
  shipped (its `created_at`); Magento core has no delivery date, so no order reads as
  delivered and ShopDesk's return window (from delivery) never opens for a Magento order.
- Returns (RMA, `/V1/returns`) exist only in Adobe Commerce, not Magento Open Source, and their
  reason, condition and resolution are each store's own attribute options. `START_RETURN` is
  therefore not declared: `start_return` raises `Unsupported`, and the bot hands the return to a
  person with the order attached.
- Magento cancels only what has not been invoiced (its `canCancel`): an invoiced order answers
  `false`, which is `NotAllowed`; nothing was paid for what it does cancel, so no refund starts.
- The address is saved as Magento's order address entity (`entity_id`, `parent_id`, the phone
  and e-mail kept), after re-reading the order, so a parcel that left meanwhile is refused.
- Invoices have no shopper-facing link in the REST API (`Invoice.url` is None).
- Auth is the integration's access token as a bearer token, which Magento 2.4.4+ allows only
  with Stores > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access Tokens
  to be used as standalone Bearer tokens" = Yes; OAuth 1.0a request signing is not implemented.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from connectors import orders
from connectors.errors import NotAllowed, ShopError, Unsupported
from connectors.http import ShopClient
from connectors.orders import Address, Cancellation, Order, ReturnRequest, can_cancel
from connectors.products import SHOP_CURRENCY, ProductRecord, VariantRecord
from connectors.protocol import Capability
from connectors.settings import ConnectorSettings
from connectors.statuses import OrderStatus, RefundStatus

log = logging.getLogger(__name__)

SYSTEM_NAME: Final = "Magento 2"
REST_SEGMENT: Final = "rest"
API_VERSION: Final = "V1"
AUTH_SCHEME: Final = "Bearer"

# Magento's increment ids: "000000001" by default, a store may add a prefix ("WA0003003").
ORDER_NUMBER_WIDTH: Final = 9
ORDER_NUMBER_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")
PRODUCTS_PAGE_SIZE: Final = 100
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"  # Magento's timestamps, in UTC
CENTS: Final = Decimal(100)

# The options whose labels a variant needs (stored as option ids on the product).
SIZE: Final = "size"
COLOR: Final = "color"

REFUSED_CANCEL: Final = (
    "The shop's system would not cancel this order now: it is on hold, or it has been paid and "
    "invoiced already."
)
ALREADY_SHIPPED: Final = "This order has already left the warehouse, so it can no longer change."


class MagentoState(StrEnum):
    """`sales_order.state` (Magento\\Sales\\Model\\Order::STATE_*)."""

    NEW = "new"
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_REVIEW = "payment_review"
    PROCESSING = "processing"
    COMPLETE = "complete"
    CLOSED = "closed"
    CANCELED = "canceled"
    HOLDED = "holded"


STATE_STATUS: Final[Mapping[str, OrderStatus]] = {
    MagentoState.NEW: OrderStatus.PENDING,
    MagentoState.PENDING_PAYMENT: OrderStatus.PENDING,
    MagentoState.PAYMENT_REVIEW: OrderStatus.PENDING,
    MagentoState.PROCESSING: OrderStatus.PROCESSING,
    MagentoState.HOLDED: OrderStatus.PROCESSING,
    MagentoState.COMPLETE: OrderStatus.SHIPPED,
    MagentoState.CLOSED: OrderStatus.REFUNDED,
    MagentoState.CANCELED: OrderStatus.CANCELLED,
}


class DocumentState(IntEnum):
    """An invoice's or credit memo's `state`: open, then paid (invoice) or refunded (memo)."""

    OPEN = 1
    DONE = 2
    CANCELED = 3


class ProductStatus(IntEnum):
    ENABLED = 1
    DISABLED = 2


class Visibility(IntEnum):
    NOT_VISIBLE_INDIVIDUALLY = 1  # a configurable product's child: read as a variant
    CATALOG = 2
    SEARCH = 3
    CATALOG_SEARCH = 4


class ProductType(StrEnum):
    SIMPLE = "simple"
    CONFIGURABLE = "configurable"
    VIRTUAL = "virtual"


SOLD_TYPES: Final = frozenset({ProductType.SIMPLE, ProductType.CONFIGURABLE, ProductType.VIRTUAL})
# Category tree levels above the shop's own: "Root Catalog" (0) and "Default Category" (1).
FIRST_SHOP_LEVEL: Final = 2


# Magento's carrier codes (its shipping modules) and the carriers' names, which
# connectors.orders.tracking_url knows; any other code shows the track's title.
CARRIERS: Final[Mapping[str, str]] = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}


def rest_base(url: str) -> str:
    """The REST root for `SHOPDESK_SHOP_API_URL`: 'https://shop.example' and
    'https://shop.example/rest' give '.../rest/V1'; '.../rest/default' keeps its store code."""
    parts = urlsplit(url.strip().rstrip("/"))
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] == API_VERSION:
        segments.pop()
    if REST_SEGMENT not in segments:
        segments.append(REST_SEGMENT)
    path = "/" + "/".join([*segments, API_VERSION])
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def search_criteria(
    field: str | None = None,
    value: str | None = None,
    *,
    page_size: int | None = None,
    page: int | None = None,
) -> dict[str, str]:
    """The query of a `getList` call: one `eq` filter, and a page (Magento counts from 1)."""
    params: dict[str, str] = {}
    if field is not None and value is not None:
        prefix = "searchCriteria[filter_groups][0][filters][0]"
        params[f"{prefix}[field]"] = field
        params[f"{prefix}[value]"] = value
        params[f"{prefix}[condition_type]"] = "eq"
    if page_size is not None:
        params["searchCriteria[pageSize]"] = str(page_size)
    if page is not None:
        params["searchCriteria[currentPage]"] = str(page)
    return params


# --- reading Magento's payloads: each accessor names what was wrong, as a ShopError ----------


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShopError(f"{SYSTEM_NAME} sent {what} that is not a list")
    return value


def _text(record: Mapping[str, Any], key: str, what: str) -> str:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ShopError(f"{SYSTEM_NAME} sent {what} without {key}")
    return str(value)


def _cents(value: object, what: str) -> int:
    """A Magento amount (a JSON number of currency units) in cents, rounded half up."""
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise ShopError(f"{SYSTEM_NAME} sent {what} with an amount that is not a number") from None
    return int((amount * CENTS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _quantity(value: object) -> int:
    try:
        return int(Decimal(str(value if value is not None else 0)))
    except InvalidOperation:
        return 0


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _items(answer: object, what: str) -> list[dict[str, Any]]:
    """The `items` of a search result ({"items": [...], "search_criteria": .., "total_count"})."""
    return [_dict(item, what) for item in _list(_dict(answer, what).get("items"), what)]


def _custom(product: Mapping[str, Any]) -> dict[str, Any]:
    """A product's `custom_attributes` list as {attribute_code: value}."""
    found: dict[str, Any] = {}
    for entry in _list(product.get("custom_attributes"), "custom_attributes"):
        if isinstance(entry, dict) and isinstance(entry.get("attribute_code"), str):
            found[entry["attribute_code"]] = entry.get("value")
    return found


def _plain(markup: object) -> str:
    """Magento's HTML description as one line of text."""
    if not isinstance(markup, str):
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _day(value: object) -> date | None:
    moment = _time(value) if isinstance(value, str) and " " in value else None
    if moment is not None:
        return moment.date()
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class MagentoOrders:
    """`OrderSystem` and `ProductSource` for a Magento 2 or Adobe Commerce store."""

    name = SYSTEM_NAME
    capabilities: frozenset[Capability] = frozenset({Capability.CANCEL, Capability.CHANGE_ADDRESS})

    def __init__(self, client: ShopClient, *, page_size: int = PRODUCTS_PAGE_SIZE) -> None:
        self._client = client
        self._page_size = page_size

    @classmethod
    def from_settings(cls, settings: ConnectorSettings) -> MagentoOrders:
        """Reads SHOPDESK_SHOP_API_URL and the integration's access token (never logged)."""
        client = ShopClient(
            SYSTEM_NAME,
            rest_base(settings.url()),
            {"Authorization": f"{AUTH_SCHEME} {settings.token()}"},
            timeout_s=settings.timeout_s,
            retries=settings.retries,
        )
        return cls(client)

    def close(self) -> None:
        self._client.close()

    # --- OrderSystem: reading --------------------------------------------------------------

    def order_number(self, typed: str) -> str | None:
        """'1', '#1' and '000000001' are 000000001; a prefixed id ('WA0003003') stays as typed
        (Magento's database compares it without regard to case, and so does `find_order`)."""
        text = typed.strip().lstrip("#").strip()
        if not ORDER_NUMBER_PATTERN.fullmatch(text):
            return None
        return text.zfill(ORDER_NUMBER_WIDTH) if text.isdigit() else text

    def find_order(self, number: str, email: str) -> Order | None:
        normalised = self.order_number(number)
        if normalised is None:
            return None
        record = self._search(normalised)
        if record is None or not same_email_of(record, email):
            return None
        return self._order(record)

    # --- OrderSystem: changes ---------------------------------------------------------------

    def cancel(self, order: Order, *, fee_cents: int, now: datetime) -> Cancellation:
        """Magento cancels what is not invoiced; its `false` is NotAllowed. No fee is charged:
        nothing was paid for an order Magento agrees to cancel."""
        _, current = self._unshipped(order)
        entity_id = current.extra[ENTITY_ID]
        answer = self._client.request("POST", f"/orders/{entity_id}/cancel", idempotent=False)
        if answer is not True:
            log.info("%s refused to cancel order %s (%r)", SYSTEM_NAME, current.number, answer)
            raise NotAllowed(REFUSED_CANCEL)
        return Cancellation(order=self._order(self._record(entity_id)), fee_cents=0, refund=None)

    def change_address(self, order: Order, address: Address, *, now: datetime) -> Order:
        record, current = self._unshipped(order)
        stored = _shipping_address(record)
        if stored is None:
            raise ShopError(f"{SYSTEM_NAME} order {current.number} has no shipping address")
        entity_id = current.extra[ENTITY_ID]
        entity = _address_entity(stored, address)
        # Saving the same address twice leaves it as once: safe to retry.
        self._client.request(
            "PUT", f"/orders/{entity_id}", json={"entity": entity}, idempotent=True
        )
        return self._order(self._record(entity_id))

    def start_return(
        self, order: Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> ReturnRequest:
        raise Unsupported(SYSTEM_NAME, Capability.START_RETURN)

    # --- ProductSource ----------------------------------------------------------------------

    def products(self) -> Iterator[ProductRecord]:
        """Every enabled product shown in the catalog, configurable ones with their children as
        variants. Pages are read until `total_count` (Magento answers a page past the end with
        the last page again, so an empty page cannot be the signal)."""
        listed = list(self._all_products())
        by_id = {p.get("id"): p for p in listed}
        paths = self._category_paths()
        labels = {code: self._option_labels(code) for code in (SIZE, COLOR)}
        for position, product in enumerate(listed, start=1):
            if product.get("status") != ProductStatus.ENABLED:
                continue
            if product.get("visibility") == Visibility.NOT_VISIBLE_INDIVIDUALLY:
                continue
            if product.get("type_id") not in SOLD_TYPES:
                continue
            record = _product_record(product, position, paths, labels)
            if record is None:
                continue
            if product.get("type_id") == ProductType.CONFIGURABLE:
                extension = _dict(product.get("extension_attributes") or {}, "extension")
                links = _list(extension.get("configurable_product_links"), "product links")
                record.variants = [_variant(by_id[i], labels) for i in links if i in by_id]
            else:
                record.variants = [_variant(product, labels)]
            yield record

    # --- inside ------------------------------------------------------------------------------

    def _all_products(self) -> Iterator[dict[str, Any]]:
        page, seen = 1, 0
        while True:
            criteria = search_criteria(page_size=self._page_size, page=page)
            answer = _dict(self._client.get("/products", criteria), "a product page")
            items = _items(answer, "a product page")
            total = _quantity(answer.get("total_count"))
            yield from items
            seen += len(items)
            if not items or seen >= total:
                return
            page += 1

    def _category_paths(self) -> dict[str, str]:
        """{category id: "Men/Tops/Jackets"} from the category tree."""
        paths: dict[str, str] = {}

        def walk(node: dict[str, Any], above: tuple[str, ...]) -> None:
            level = _quantity(node.get("level"))
            here = (*above, str(node.get("name", "")).replace("/", "-").strip())
            if level >= FIRST_SHOP_LEVEL:
                paths[str(node.get("id"))] = "/".join(p for p in here if p)
            for child in _list(node.get("children_data"), "children_data"):
                walk(_dict(child, "a category"), here if level >= FIRST_SHOP_LEVEL else ())

        tree = self._client.get("/categories")
        if tree is not None:
            walk(_dict(tree, "the category tree"), ())
        return paths

    def _option_labels(self, code: str) -> dict[str, str]:
        answer = self._client.get(f"/products/attributes/{code}/options")
        return {
            str(option.get("value")): str(option.get("label", "")).strip()
            for option in _list(answer, f"the {code} options")
            if isinstance(option, dict) and str(option.get("value", "")).strip()
        }

    def _record(self, entity_id: str) -> dict[str, Any]:
        answer = self._client.get(f"/orders/{entity_id}")
        if answer is None:
            raise ShopError(f"{SYSTEM_NAME} no longer has order {entity_id}")
        return _dict(answer, "an order")

    def _search(self, number: str) -> dict[str, Any] | None:
        answer = self._client.get("/orders", search_criteria("increment_id", number))
        found = _items(answer, "an order search")
        return next(
            (r for r in found if str(r.get("increment_id", "")).casefold() == number.casefold()),
            None,
        )

    def _unshipped(self, order: Order) -> tuple[dict[str, Any], Order]:
        """Magento's record of the order and the order it is now, if it has not shipped: a
        change is decided on this, not on what the conversation read minutes ago."""
        entity_id = order.extra.get(ENTITY_ID)
        record = self._record(entity_id) if entity_id else self._search(order.number)
        if record is None:
            raise ShopError(f"{SYSTEM_NAME} no longer has order {order.number}")
        current = self._order(record)
        if not can_cancel(current):
            raise NotAllowed(ALREADY_SHIPPED)
        return record, current

    def _related(self, path: str, entity_id: str) -> list[dict[str, Any]]:
        return _items(self._client.get(path, search_criteria("order_id", entity_id)), path)

    def _order(self, record: dict[str, Any]) -> Order:
        number = _text(record, "increment_id", "an order")
        entity_id = _text(record, "entity_id", f"order {number}")
        state = str(record.get("state") or "")
        status = STATE_STATUS.get(state)
        if status is None:
            raise ShopError(f"{SYSTEM_NAME} order {number} is in an unknown state {state!r}")
        shipments = tuple(
            parcel
            for shipment in self._related("/shipments", entity_id)
            for parcel in _parcels(shipment)
        )
        if status == OrderStatus.PROCESSING and shipments:
            status = OrderStatus.SHIPPED  # partly shipped: the first parcel is on its way
        payment = record.get("payment")
        method = _payment_title(payment) if isinstance(payment, dict) else ""
        return Order(
            number=number,
            email=str(record.get("customer_email") or ""),
            status=status,
            currency=str(record.get("order_currency_code") or SHOP_CURRENCY),
            total_cents=_cents(record.get("grand_total"), f"order {number}"),
            lines=tuple(_line(item) for item in _top_level_items(record)),
            placed_at=_time(record.get("created_at")),
            customer_name=_customer_name(record),
            shop_status=" / ".join(s for s in (state, str(record.get("status") or "")) if s),
            shipments=shipments,
            invoices=tuple(
                _invoice(i)
                for i in self._related("/invoices", entity_id)
                if i.get("state") != DocumentState.CANCELED
            ),
            refunds=tuple(
                _refund(memo, method)
                for memo in self._related("/creditmemos", entity_id)
                if memo.get("state") != DocumentState.CANCELED
            ),
            shipping_address=_to_address(_shipping_address(record)),
            extra={ENTITY_ID: entity_id},
        )


ENTITY_ID: Final = "entity_id"  # Order.extra: Magento's own key for the order, for the changes


def same_email_of(record: Mapping[str, Any], typed: str) -> bool:
    return orders.same_email(str(record.get("customer_email") or ""), typed)


def _top_level_items(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lines a shopper sees: a configurable or bundle item, not the children it carries
    (`parent_item_id`), which repeat it with a price of 0."""
    return [
        item
        for item in (_dict(i, "an order item") for i in _list(record.get("items"), "items"))
        if not item.get("parent_item_id")
    ]


def _line(item: Mapping[str, Any]) -> orders.OrderLine:
    item_id = _text(item, "item_id", "an order item")
    return orders.OrderLine(
        line_id=item_id,
        name=str(item.get("name") or ""),
        qty=_quantity(item.get("qty_ordered")),
        sku=str(item.get("sku")) if item.get("sku") else None,
        price_cents=_cents(item.get("price"), f"order item {item_id}"),
    )


def _customer_name(record: Mapping[str, Any]) -> str:
    parts = (record.get("customer_firstname"), record.get("customer_lastname"))
    named = " ".join(str(p) for p in parts if p)
    if named:
        return named
    address = _shipping_address(record) or record.get("billing_address") or {}
    return " ".join(str(address.get(k)) for k in ("firstname", "lastname") if address.get(k))


def _shipping_address(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """extension_attributes.shipping_assignments[0].shipping.address (None: a virtual order)."""
    extension = record.get("extension_attributes")
    if not isinstance(extension, dict):
        return None
    for assignment in _list(extension.get("shipping_assignments"), "shipping_assignments"):
        shipping = assignment.get("shipping") if isinstance(assignment, dict) else None
        address = shipping.get("address") if isinstance(shipping, dict) else None
        if isinstance(address, dict):
            return address
    return None


def _to_address(address: Mapping[str, Any] | None) -> Address | None:
    if address is None:
        return None
    street = [str(s).strip() for s in _list(address.get("street"), "street") if str(s).strip()]
    return Address(
        name=" ".join(str(address.get(k)) for k in ("firstname", "lastname") if address.get(k)),
        street=", ".join(street),
        city=str(address.get("city") or ""),
        region=str(address.get("region_code") or address.get("region") or ""),
        postcode=str(address.get("postcode") or ""),
        country=str(address.get("country_id") or orders.DEFAULT_COUNTRY),
    )


def _address_entity(stored: Mapping[str, Any], new: Address) -> dict[str, Any]:
    """The order address to save: Magento's own record (ids, phone, e-mail kept) with the new
    place. The name splits at its last space; the region id is dropped when the region changes
    (Magento then keeps the code and name as given)."""
    entity = dict(stored)
    first, _, last = new.name.strip().rpartition(" ")
    entity["firstname"], entity["lastname"] = (first, last) if first else (last, last)
    entity["street"] = [new.street]
    entity["city"] = new.city
    entity["postcode"] = new.postcode
    entity["country_id"] = new.country
    if new.region != stored.get("region_code"):
        entity.pop("region_id", None)
        entity["region_code"] = new.region
        entity["region"] = new.region
    return entity


def _parcels(shipment: Mapping[str, Any]) -> list[orders.Shipment]:
    """One parcel per tracking number; a shipment without one is a parcel without tracking."""
    shipped_at = _time(shipment.get("created_at"))
    tracks = [t for t in _list(shipment.get("tracks"), "tracks") if isinstance(t, dict)]
    if not tracks:
        return [orders.Shipment(carrier=None, tracking_number=None, shipped_at=shipped_at)]
    parcels = []
    for track in tracks:
        code = str(track.get("carrier_code") or "").lower()
        number = str(track.get("track_number") or "").strip() or None
        carrier = CARRIERS.get(code) or str(track.get("title") or code) or None
        parcels.append(
            orders.Shipment(
                carrier=carrier,
                tracking_number=number,
                tracking_url=orders.tracking_url(carrier, number) if carrier and number else None,
                shipped_at=_time(track.get("created_at")) or shipped_at,
            )
        )
    return parcels


def _invoice(invoice: Mapping[str, Any]) -> orders.Invoice:
    number = _text(invoice, "increment_id", "an invoice")
    issued = _time(invoice.get("created_at"))
    if issued is None:
        raise ShopError(f"{SYSTEM_NAME} sent invoice {number} without created_at")
    return orders.Invoice(number, issued, _cents(invoice.get("grand_total"), f"invoice {number}"))


def _payment_title(payment: Mapping[str, Any]) -> str:
    """The payment method as the shop names it ('Check / Money order'), else its code."""
    info = _list(payment.get("additional_information"), "additional_information")
    title = str(info[0]).strip() if info and info[0] else ""
    return title or str(payment.get("method") or "")


def _refund(memo: Mapping[str, Any], method: str) -> orders.Refund:
    number = _text(memo, "increment_id", "a credit memo")
    created = _time(memo.get("created_at"))
    if created is None:
        raise ShopError(f"{SYSTEM_NAME} sent credit memo {number} without created_at")
    done = memo.get("state") == DocumentState.DONE
    return orders.Refund(
        amount_cents=_cents(memo.get("grand_total"), f"credit memo {number}"),
        status=RefundStatus.PROCESSED if done else RefundStatus.PENDING,
        method=method,
        created_at=created,
        processed_at=(_time(memo.get("updated_at")) or created) if done else None,
    )


def _product_record(
    product: Mapping[str, Any],
    position: int,
    paths: Mapping[str, str],
    labels: Mapping[str, Mapping[str, str]],
) -> ProductRecord | None:
    sku = str(product.get("sku") or "").strip()
    name = str(product.get("name") or "").strip()
    if not sku or not name:
        log.warning("%s product #%d has no sku or name; left out", SYSTEM_NAME, position)
        return None
    custom = _custom(product)
    extension = product.get("extension_attributes")
    links = extension.get("category_links") if isinstance(extension, dict) else None
    ids = [
        str(link.get("category_id"))
        for link in _list(links, "category_links")
        if isinstance(link, dict)
    ] or [str(i) for i in _list(custom.get("category_ids"), "category_ids")]
    images = [
        str(entry["file"])
        for entry in _list(product.get("media_gallery_entries"), "media_gallery_entries")
        if isinstance(entry, dict) and entry.get("file") and not entry.get("disabled")
    ]
    special = custom.get("special_price")
    special_cents = _cents(special, f"product {sku}") if special not in (None, "") else None
    return ProductRecord(
        sku=sku,
        name=name,
        price_cents=_cents(product.get("price"), f"product {sku}"),
        file=SYSTEM_NAME,
        line=position,
        description=_plain(custom.get("description")),
        special_price_cents=special_cents,
        special_from=_day(custom.get("special_from_date")),
        special_to=_day(custom.get("special_to_date")),
        url_key=str(custom.get("url_key") or ""),
        image=images[0] if images else None,
        images=images,
        categories=list(dict.fromkeys(paths[i] for i in ids if i in paths)),
        attributes=[
            (code, labels[code].get(str(custom[code]), str(custom[code])))
            for code in (SIZE, COLOR)
            if custom.get(code) not in (None, "")
        ],
    )


def _variant(product: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]]) -> VariantRecord:
    custom = _custom(product)
    extension = product.get("extension_attributes")
    stock = extension.get("stock_item") if isinstance(extension, dict) else None

    def label(code: str) -> str | None:
        value = custom.get(code)
        return labels[code].get(str(value), str(value)) if value not in (None, "") else None

    return VariantRecord(
        sku=str(product.get("sku") or ""),
        size=label(SIZE),
        color=label(COLOR),
        qty=_quantity(stock.get("qty")) if isinstance(stock, dict) else 0,
    )


def connect(settings: ConnectorSettings) -> MagentoOrders:
    """The Magento connector for `SHOPDESK_ORDERS=magento`."""
    return MagentoOrders.from_settings(settings)
