"""Shopify's Admin GraphQL documents: what the connector asks, and how it reads the answers
into ShopDesk's values (connectors.orders, connectors.products).

Kept apart from connectors/shopify.py (which talks to the store: the client, throttling,
mutations' refusals) so the mapping of Shopify's words can be read and tested on its own, and
both stay short. Written against the documented 2025-01 schema; a record that does not fit it
is a `ShopError` (`read`), never a traceback.

How Shopify's words become ShopDesk's `OrderStatus` (Shopify's own stay in `shop_status`,
e.g. "PAID / UNFULFILLED"), first row that applies:

| Shopify (`displayFinancialStatus`, `displayFulfillmentStatus`, ...) | ShopDesk   |
|---------------------------------------------------------------------|------------|
| `cancelledAt` set, whatever the rest                                | cancelled  |
| financial `REFUNDED`                                                | refunded   |
| a return `CLOSED`, financial not `REFUNDED` / `PARTIALLY_REFUNDED`  | returned   |
| fulfillment `FULFILLED` and every parcel delivered                  | delivered  |
| fulfillment `FULFILLED` or `PARTIALLY_FULFILLED`                    | shipped    |
| other fulfillment; financial `PAID`, `AUTHORIZED`, `PARTIALLY_REFUNDED` | processing |
| other fulfillment; financial `PENDING`, `PARTIALLY_PAID`, `EXPIRED`, `VOIDED`, unknown | pending |

A parcel is a `Fulfillment` whose `status` is not `CANCELLED`, `ERROR` or `FAILURE`; it is
delivered when it has `deliveredAt` or its `displayStatus` is `DELIVERED`. Returns: `REQUESTED`
and `OPEN` are requested, `CLOSED` received, `DECLINED` and `CANCELED` rejected. A refund is
pending while one of its transactions is `PENDING` or `AWAITING_RESPONSE`, else processed.

Shopify keeps no invoice documents: a paid order's receipt is its order status page, which is
what `Order.invoices` links to (`statusPageUrl`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, TypeVar

from connectors.errors import ShopError
from connectors.orders import Address, Invoice, Order, OrderLine, Refund, ReturnRequest, Shipment
from connectors.products import ProductRecord, VariantRecord
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus

T = TypeVar("T")

SYSTEM_NAME: Final = "Shopify"
ORDERS_PER_SEARCH: Final = 5  # "name:" search may match more than one; the exact name is kept
CENTS: Final = Decimal(100)
REFUND_METHOD: Final = "the original payment method"
SIZE_OPTIONS: Final = frozenset({"size"})
COLOR_OPTIONS: Final = frozenset({"color", "colour"})


class Financial(StrEnum):
    """`Order.displayFinancialStatus` (OrderDisplayFinancialStatus)."""

    AUTHORIZED = "AUTHORIZED"
    EXPIRED = "EXPIRED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"


class Fulfillment(StrEnum):
    """`Order.displayFulfillmentStatus` (OrderDisplayFulfillmentStatus), the values that ship."""

    FULFILLED = "FULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"


class ParcelState(StrEnum):
    """`Fulfillment.status` values that mean no parcel left, and the delivered display status."""

    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    FAILURE = "FAILURE"
    DELIVERED = "DELIVERED"


class ShopifyReturn(StrEnum):
    """`Return.status` (ReturnStatus)."""

    CANCELED = "CANCELED"
    CLOSED = "CLOSED"
    DECLINED = "DECLINED"
    OPEN = "OPEN"
    REQUESTED = "REQUESTED"


class TransactionState(StrEnum):
    """`OrderTransaction.status` values of a refund not yet through."""

    PENDING = "PENDING"
    AWAITING_RESPONSE = "AWAITING_RESPONSE"


NOT_SENT: Final = frozenset({ParcelState.CANCELLED, ParcelState.ERROR, ParcelState.FAILURE})
PAID_UNSHIPPED: Final = frozenset(
    {Financial.PAID, Financial.AUTHORIZED, Financial.PARTIALLY_REFUNDED}
)
REFUNDED_SOME: Final = frozenset({Financial.REFUNDED, Financial.PARTIALLY_REFUNDED})
# A paid order has a receipt (its status page) to link as the invoice.
RECEIPTED: Final = frozenset({Financial.PAID, Financial.PARTIALLY_REFUNDED, Financial.REFUNDED})
RETURN_STATUS: Final[dict[str, ReturnStatus]] = {
    ShopifyReturn.REQUESTED: ReturnStatus.REQUESTED,
    ShopifyReturn.OPEN: ReturnStatus.REQUESTED,  # approved, parcel on its way back
    ShopifyReturn.CLOSED: ReturnStatus.RECEIVED,
    ShopifyReturn.DECLINED: ReturnStatus.REJECTED,
    ShopifyReturn.CANCELED: ReturnStatus.REJECTED,
}
PENDING_TRANSACTIONS: Final = frozenset(TransactionState)

_MONEY = "shopMoney { amount currencyCode }"
ORDER_FIELDS: Final = f"""
fragment OrderFields on Order {{
  id name email createdAt cancelledAt statusPageUrl currencyCode
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet {{ {_MONEY} }}
  totalOutstandingSet {{ {_MONEY} }}
  shippingAddress {{ name address1 address2 city provinceCode zip countryCodeV2 }}
  lineItems(first: 100) {{ edges {{ node {{
    id name quantity sku originalUnitPriceSet {{ {_MONEY} }} }} }} }}
  fulfillments(first: 20) {{
    id status displayStatus createdAt inTransitAt estimatedDeliveryAt deliveredAt
    trackingInfo(first: 5) {{ company number url }} }}
  refunds(first: 20) {{
    id createdAt totalRefundedSet {{ {_MONEY} }} return {{ name }}
    transactions(first: 5) {{ edges {{ node {{ status gateway processedAt }} }} }} }}
  returns(first: 20) {{ edges {{ node {{
    id name status
    returnLineItems(first: 50) {{ edges {{ node {{
      quantity ... on ReturnLineItem {{ fulfillmentLineItem {{ lineItem {{ id }} }} }}
    }} }} }}
  }} }} }}
}}
"""
FIND_ORDER: Final = (
    f"query FindOrder($query: String!) {{ orders(first: {ORDERS_PER_SEARCH}, query: $query) "
    "{ edges { node { ...OrderFields } } } }" + ORDER_FIELDS
)
CANCEL_ORDER: Final = """
mutation CancelOrder($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!,
                     $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""
CHANGE_ADDRESS: Final = (
    "mutation ChangeAddress($input: OrderInput!) { orderUpdate(input: $input) "
    "{ order { ...OrderFields } userErrors { field message } } }" + ORDER_FIELDS
)
RETURNABLE_LINES: Final = """
query ReturnableLines($orderId: ID!) {
  returnableFulfillments(orderId: $orderId, first: 20) { edges { node {
    id
    returnableFulfillmentLineItems(first: 100) { edges { node {
      quantity fulfillmentLineItem { id lineItem { id } } } } }
  } } }
}
"""
START_RETURN: Final = """
mutation StartReturn($input: ReturnRequestInput!) {
  returnRequest(input: $input) { return { id name status } userErrors { field message } }
}
"""
PRODUCTS: Final = """
query Products($first: Int!, $after: String, $query: String) {
  shop { currencyCode }
  products(first: $first, after: $after, query: $query) {
    edges { node {
      id title handle description productType vendor status onlineStoreUrl
      featuredMedia { preview { image { url } } }
      collections(first: 10) { edges { node { title } } }
      variants(first: 100) { edges { node {
        sku price compareAtPrice inventoryQuantity selectedOptions { name value } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ACTIVE_PRODUCTS: Final = "status:active"
ACTIVE: Final = "ACTIVE"


# -- reading Shopify's answers -------------------------------------------------------------


def read(build: Callable[[dict[str, Any]], T], node: Any, operation: str) -> T:
    """`build(node)`, with a payload that does not fit the documented schema as a ShopError."""
    if not isinstance(node, dict):
        raise ShopError(f"{SYSTEM_NAME} answered {operation} with a record that is not an object")
    try:
        return build(node)
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
        raise ShopError(
            f"{SYSTEM_NAME} answered {operation} with a record this connector cannot read "
            f"({type(error).__name__}: {error})"
        ) from None


def member(parent: Any, key: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise ShopError(f"{SYSTEM_NAME}'s answer has no {key}")
    return value


def edges(connection: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    edges = (connection or {}).get("edges") or []
    return [edge for edge in edges if isinstance(edge, dict)]


def nodes(connection: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [e["node"] for e in edges(connection) if isinstance(e.get("node"), dict)]


def cents(money: Any) -> int:
    """A MoneyBag's shop amount ('25.00') in cents."""
    amount = Decimal(str(money["shopMoney"]["amount"]))
    return int((amount * CENTS).to_integral_value())


def _price_cents(amount: Any) -> int:
    return int((Decimal(str(amount)) * CENTS).to_integral_value())


def _when(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def _day(text: Any) -> date | None:
    moment = _when(text)
    return moment.date() if moment else None


def order_from(node: dict[str, Any]) -> Order:
    financial = str(node.get("displayFinancialStatus") or "")
    fulfillment = str(node.get("displayFulfillmentStatus") or "")
    lines = tuple(_line(n) for n in nodes(node.get("lineItems")))
    shipments = _shipments(node.get("fulfillments") or [])
    returns = tuple(r for ret in nodes(node.get("returns")) for r in _returns(ret))
    status = _status(node, financial, fulfillment, shipments)
    total = cents(node["totalPriceSet"])
    placed = _when(node.get("createdAt"))
    address = node.get("shippingAddress")
    page = str(node.get("statusPageUrl") or "") or None
    invoices = (
        (Invoice(str(node["name"]), placed, total, page),)
        if financial in RECEIPTED and placed is not None
        else ()
    )
    shop_status = f"{financial or 'no payment status'} / {fulfillment or 'no fulfillment status'}"
    extra = {"id": str(node["id"]), "outstanding_cents": str(_outstanding(node))}
    return Order(
        number=str(node["name"]),
        email=str(node.get("email") or ""),
        status=status,
        currency=str(node["totalPriceSet"]["shopMoney"]["currencyCode"]),
        total_cents=total,
        lines=lines,
        placed_at=placed,
        customer_name=str((address or {}).get("name") or ""),
        shop_status=("cancelled, " + shop_status) if node.get("cancelledAt") else shop_status,
        shipments=shipments,
        invoices=invoices,
        refunds=tuple(_refund(r) for r in node.get("refunds") or []),
        returns=returns,
        shipping_address=_address(address) if address else None,
        extra=extra,
    )


def _outstanding(node: Mapping[str, Any]) -> int:
    owed = node.get("totalOutstandingSet")
    return cents(owed) if owed else 0


def _status(
    node: Mapping[str, Any], financial: str, fulfillment: str, shipments: tuple[Shipment, ...]
) -> OrderStatus:
    """The table in this module's docstring."""
    if node.get("cancelledAt"):
        return OrderStatus.CANCELLED
    if financial == Financial.REFUNDED:
        return OrderStatus.REFUNDED
    closed = any(ret.get("status") == ShopifyReturn.CLOSED for ret in nodes(node.get("returns")))
    if closed and financial not in REFUNDED_SOME:
        return OrderStatus.RETURNED
    delivered = bool(shipments) and all(s.delivered_at is not None for s in shipments)
    if fulfillment == Fulfillment.FULFILLED and delivered:
        return OrderStatus.DELIVERED
    if fulfillment in (Fulfillment.FULFILLED, Fulfillment.PARTIALLY_FULFILLED):
        return OrderStatus.SHIPPED
    return OrderStatus.PROCESSING if financial in PAID_UNSHIPPED else OrderStatus.PENDING


def _line(node: Mapping[str, Any]) -> OrderLine:
    price = node.get("originalUnitPriceSet")
    return OrderLine(
        line_id=str(node["id"]),
        name=str(node["name"]),
        qty=int(node["quantity"]),
        sku=str(node["sku"]) if node.get("sku") else None,
        price_cents=cents(price) if price else 0,
    )


def _shipments(fulfillments: list[Any]) -> tuple[Shipment, ...]:
    """One Shipment per tracking number (a fulfillment may carry several), or one without
    tracking for a fulfillment sent untracked; cancelled or failed fulfillments are no parcel."""
    shipments: list[Shipment] = []
    for parcel in fulfillments:
        if not isinstance(parcel, dict) or parcel.get("status") in NOT_SENT:
            continue
        delivered = _when(parcel.get("deliveredAt"))
        if delivered is None and parcel.get("displayStatus") == ParcelState.DELIVERED:
            delivered = _when(parcel.get("createdAt"))  # delivered, on a day Shopify did not keep
        eta = _day(parcel.get("estimatedDeliveryAt"))
        shipped = _when(parcel.get("inTransitAt") or parcel.get("createdAt"))
        tracking = [t for t in parcel.get("trackingInfo") or [] if isinstance(t, dict)] or [{}]
        shipments.extend(
            Shipment(t.get("company"), t.get("number"), t.get("url"), eta, shipped, delivered)
            for t in tracking
        )
    return tuple(shipments)


def _refund(node: Mapping[str, Any]) -> Refund:
    transactions = nodes(node.get("transactions"))
    pending = any(t.get("status") in PENDING_TRANSACTIONS for t in transactions)
    processed = [_when(t.get("processedAt")) for t in transactions if t.get("processedAt")]
    gateways = sorted({str(t["gateway"]) for t in transactions if t.get("gateway")})
    created = _when(node["createdAt"])
    assert created is not None  # createdAt is DateTime! in the schema
    return Refund(
        amount_cents=cents(node["totalRefundedSet"]),
        status=RefundStatus.PENDING if pending else RefundStatus.PROCESSED,
        method=", ".join(gateways) or REFUND_METHOD,
        created_at=created,
        processed_at=None if pending else max((p for p in processed if p), default=None),
        return_number=(node.get("return") or {}).get("name"),
    )


def _returns(node: Mapping[str, Any]) -> list[ReturnRequest]:
    """A Shopify return may hold several order lines; ShopDesk keeps one request per line."""
    status = RETURN_STATUS.get(str(node["status"]), ReturnStatus.REQUESTED)
    requests = []
    for item in nodes(node.get("returnLineItems")):
        part = item.get("fulfillmentLineItem") or {}
        line_id = (part.get("lineItem") or {}).get("id")
        if line_id:
            number = str(node.get("name") or node["id"])
            requests.append(ReturnRequest(number, str(line_id), int(item["quantity"]), status))
    return requests


def _address(node: Mapping[str, Any]) -> Address:
    street = ", ".join(str(p) for p in (node.get("address1"), node.get("address2")) if p)
    return Address(
        name=str(node.get("name") or ""),
        street=street,
        city=str(node.get("city") or ""),
        region=str(node.get("provinceCode") or ""),
        postcode=str(node.get("zip") or ""),
        country=str(node.get("countryCodeV2") or ""),
    )


def product_from(node: dict[str, Any], *, currency: str, position: int) -> ProductRecord:
    variants = nodes(node.get("variants"))
    if not variants:
        raise ValueError(f"product {node.get('handle')} has no variants")
    cheapest = min(variants, key=lambda v: Decimal(str(v["price"])))
    price = _price_cents(cheapest["price"])
    was = cheapest.get("compareAtPrice")
    was_cents = _price_cents(was) if was else None
    skus = [str(v["sku"]) for v in variants if v.get("sku")]
    categories = [str(node["productType"])] if node.get("productType") else []
    categories += [str(c["title"]) for c in nodes(node.get("collections")) if c.get("title")]
    image = (((node.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}).get("url")
    records = [_variant(v) for v in variants if v.get("sku")] if len(variants) > 1 else []
    return ProductRecord(
        sku=_parent_sku(skus, str(node["handle"]), several=len(variants) > 1),
        name=str(node["title"]),
        price_cents=was_cents if was_cents and was_cents > price else price,
        special_price_cents=price if was_cents and was_cents > price else None,
        currency=currency,
        file=SYSTEM_NAME,
        line=position,
        description=str(node.get("description") or ""),
        url_key=str(node["handle"]),
        image=image,
        images=[image] if image else [],
        categories=list(dict.fromkeys(categories)),
        brand=str(node["vendor"]) if node.get("vendor") else None,
        attributes=[("url", str(node["onlineStoreUrl"]))] if node.get("onlineStoreUrl") else [],
        variants=records,
    )


def _variant(node: Mapping[str, Any]) -> VariantRecord:
    options = {
        str(o.get("name", "")).lower(): str(o.get("value", ""))
        for o in node.get("selectedOptions") or []
        if isinstance(o, dict)
    }
    size = next((options[k] for k in SIZE_OPTIONS if k in options), None)
    color = next((options[k] for k in COLOR_OPTIONS if k in options), None)
    qty = node.get("inventoryQuantity")
    return VariantRecord(sku=str(node["sku"]), size=size, color=color, qty=int(qty or 0))


def _parent_sku(skus: list[str], handle: str, *, several: bool) -> str:
    """Shopify keeps SKUs on variants only: a one-variant product is its variant's SKU; the
    variants of one product often share a stem ('MH01-XS-Black', 'MH01-S-Blue' -> 'MH01');
    else the product's handle, which is unique in the store."""
    if not several:
        return skus[0] if skus else handle
    if len(skus) > 1:
        parts = [s.split("-") for s in skus]
        stem = []
        for pieces in zip(*parts, strict=False):
            if len(set(pieces)) != 1:
                break
            stem.append(pieces[0])
        if stem and all(len(p) > len(stem) for p in parts):
            return "-".join(stem)
    return handle
