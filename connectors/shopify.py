"""Shopify, through its Admin GraphQL API: orders for the bot, products for catalog sync.

Every call is one POST to `{SHOPDESK_SHOP_API_URL}/admin/api/{version}/graphql.json` with the
custom app's token in `X-Shopify-Access-Token`, over the shared `ShopClient` (one HTTP stack for
every connector). Queries may be retried after a lost answer (reading twice changes nothing);
mutations may not, because a cancel whose answer was lost may have been done. The one
exception is Shopify's own `THROTTLED` error: a throttled request was refused before it ran,
so it is sent again (queries and mutations alike) after the wait Shopify's cost figures call
for, a few times, then reported as `ShopUnavailable`.

Written against the documented 2025-01 schema and contract-tested on documented payloads
(tests/connectors/test_shopify.py); no live store is reachable from here. What Shopify's
answers mean (the status table, invoices) is in connectors/shopify_payloads.py.

Changes: `orderCancel` (refund and restock, the customer notified), `orderUpdate` (the shipping
address) and `returnRequest` (a return the merchant then approves), each refused by Shopify
with `userErrors`, which become `NotAllowed` with Shopify's reason. A cancellation fee cannot be
kept through `orderCancel` (it refunds all or nothing), so a cancel with a fee raises
`Unsupported` and the bot hands it to a person, who can cancel with a partial refund in the
Shopify admin.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Final

from connectors.errors import NotAllowed, ShopError, ShopUnavailable, Unsupported
from connectors.http import ShopClient
from connectors.orders import (
    Address,
    Cancellation,
    Order,
    Refund,
    ReturnRequest,
    can_cancel,
    returnable_lines,
    returned_qty,
    same_email,
)
from connectors.products import SHOP_CURRENCY, ProductRecord
from connectors.protocol import Capability
from connectors.settings import ConnectorSettings
from connectors.shopify_payloads import (
    ACTIVE,
    ACTIVE_PRODUCTS,
    CANCEL_ORDER,
    CHANGE_ADDRESS,
    FIND_ORDER,
    PRODUCTS,
    REFUND_METHOD,
    RETURN_STATUS,
    RETURNABLE_LINES,
    START_RETURN,
    SYSTEM_NAME,
    edges,
    member,
    order_from,
    product_from,
    read,
)
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus

log = logging.getLogger(__name__)

DEFAULT_API_VERSION: Final = "2025-01"
ACCESS_TOKEN_HEADER: Final = "X-Shopify-Access-Token"
GRAPHQL_PATH: Final = "/admin/api/{version}/graphql.json"
# Shopify names orders "#1001" unless the shop set another prefix in its order settings.
DEFAULT_NAME_PREFIX: Final = "#"
# What a shopper may type as the number part: letters, digits and dashes (custom suffixes).
_NUMBER_BODY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")
THROTTLED: Final = "THROTTLED"
THROTTLE_RETRIES: Final = 3
MIN_THROTTLE_WAIT_S: Final = 0.5
MAX_THROTTLE_WAIT_S: Final = 10.0
PRODUCTS_PER_PAGE: Final = 50
# A return the bot starts carries the shopper's words as the note; Shopify wants a reason code.
RETURN_REASON: Final = "OTHER"
CANCEL_REASON: Final = "CUSTOMER"
CANCEL_STAFF_NOTE: Final = "Cancelled by ShopDesk at the customer's request."


class ShopifyOrders:
    """A Shopify store's orders (`OrderSystem`) and products (`ProductSource`)."""

    name = SYSTEM_NAME
    capabilities = frozenset(
        {Capability.CANCEL, Capability.CHANGE_ADDRESS, Capability.START_RETURN}
    )

    def __init__(
        self,
        client: ShopClient,
        *,
        api_version: str = DEFAULT_API_VERSION,
        name_prefix: str = DEFAULT_NAME_PREFIX,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._path = GRAPHQL_PATH.format(version=api_version)
        self._prefix = name_prefix
        self._sleep = sleep  # tests pass a recorder: a throttle wait is not waited there

    @classmethod
    def from_settings(cls, chosen: ConnectorSettings, **options: Any) -> ShopifyOrders:
        """The store `chosen` names: its address, token and API version (SettingsError when
        the address or token is missing)."""
        client = ShopClient(
            SYSTEM_NAME,
            chosen.url(),
            {ACCESS_TOKEN_HEADER: chosen.token()},
            timeout_s=chosen.timeout_s,
            retries=chosen.retries,
        )
        return cls(client, api_version=chosen.api_version or DEFAULT_API_VERSION, **options)

    def close(self) -> None:
        self._client.close()

    # -- reading ---------------------------------------------------------------------------

    def order_number(self, typed: str) -> str | None:
        """'1001', '#1001', ' # 1001 ' -> '#1001'; None when it cannot be an order name."""
        body = typed.strip()
        while self._prefix and body.startswith(self._prefix):
            body = body.removeprefix(self._prefix).strip()
        if not _NUMBER_BODY.fullmatch(body):
            return None
        return f"{self._prefix}{body}"

    def find_order(self, number: str, email: str) -> Order | None:
        name = self.order_number(number)
        if name is None:
            return None
        data = self._graphql("FindOrder", FIND_ORDER, {"query": f'name:"{name}"'})
        nodes = [edge.get("node") for edge in edges(member(data, "orders"))]
        node = next((n for n in nodes if isinstance(n, dict) and n.get("name") == name), None)
        if node is None or not same_email(str(node.get("email") or ""), email):
            return None  # unknown and wrong e-mail alike
        return read(order_from, node, "FindOrder")

    # -- changes ---------------------------------------------------------------------------

    def cancel(self, order: Order, *, fee_cents: int, now: datetime) -> Cancellation:
        if fee_cents > 0:
            raise Unsupported(self.name, "cancelling while keeping a cancellation fee")
        if not can_cancel(order):
            raise NotAllowed(
                f"Order {order.number} has already shipped, so it can no longer be cancelled."
            )
        variables = {
            "orderId": _order_id(order),
            "reason": CANCEL_REASON,
            "refund": True,
            "restock": True,
            "notifyCustomer": True,
            "staffNote": CANCEL_STAFF_NOTE,
        }
        data = self._graphql("CancelOrder", CANCEL_ORDER, variables, change=True)
        payload = member(data, "orderCancel")
        _refuse_on(payload.get("orderCancelUserErrors"), "cancel", order.number)
        if not isinstance(payload.get("job"), dict):
            raise ShopError(f"{self.name} accepted the cancel of {order.number} but gave no job")
        # The cancel runs as a job: the order is reported as it will be, not re-read.
        owed = _paid_cents(order) - sum(r.amount_cents for r in order.refunds)
        refund = Refund(owed, RefundStatus.PENDING, REFUND_METHOD, now) if owed > 0 else None
        cancelled = replace(
            order,
            status=OrderStatus.CANCELLED,
            shop_status=f"cancelled ({order.shop_status})",
            refunds=order.refunds + ((refund,) if refund else ()),
        )
        return Cancellation(cancelled, 0, refund)

    def change_address(self, order: Order, address: Address, *, now: datetime) -> Order:
        if not can_cancel(order):
            raise NotAllowed(
                f"Order {order.number} has already shipped, so its address can no longer change."
            )
        first, _, last = address.name.strip().rpartition(" ")
        shipping = {
            "firstName": first,
            "lastName": last,
            "address1": address.street,
            "city": address.city,
            "provinceCode": address.region,
            "zip": address.postcode,
            "countryCode": address.country,
        }
        variables = {"input": {"id": _order_id(order), "shippingAddress": shipping}}
        data = self._graphql("ChangeAddress", CHANGE_ADDRESS, variables, change=True)
        payload = member(data, "orderUpdate")
        _refuse_on(payload.get("userErrors"), "change the address of", order.number)
        return read(order_from, member(payload, "order"), "ChangeAddress")

    def start_return(
        self, order: Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> ReturnRequest:
        line = order.line(line_id)
        if line is None:
            raise NotAllowed(f"That item is not part of order {order.number}.")
        if line not in returnable_lines(order, now.date(), window_days):
            raise NotAllowed(
                f"{line.name} from order {order.number} can no longer be returned: it is "
                "not delivered yet, the return window has closed, or it was returned already."
            )
        wanted = line.qty - returned_qty(order, line)
        parts = self._returnable_parts(order, line_id, wanted)
        variables = {
            "input": {
                "orderId": _order_id(order),
                "returnLineItems": [
                    {
                        "fulfillmentLineItemId": part_id,
                        "quantity": qty,
                        "returnReason": RETURN_REASON,
                        "customerNote": reason,
                    }
                    for part_id, qty in parts
                ],
            }
        }
        data = self._graphql("StartReturn", START_RETURN, variables, change=True)
        payload = member(data, "returnRequest")
        _refuse_on(payload.get("userErrors"), "start a return for", order.number)
        created = member(payload, "return")
        return ReturnRequest(
            str(created.get("name") or created.get("id")),
            line_id,
            sum(qty for _, qty in parts),
            RETURN_STATUS.get(str(created.get("status")), ReturnStatus.REQUESTED),
            now,
        )

    def _returnable_parts(self, order: Order, line_id: str, wanted: int) -> list[tuple[str, int]]:
        """The fulfillment line items (Shopify returns those, not order lines) that hold what
        is left of `line_id`, up to `wanted`, as Shopify says they can be returned."""
        data = self._graphql("ReturnableLines", RETURNABLE_LINES, {"orderId": _order_id(order)})
        parts: list[tuple[str, int]] = []
        for fulfillment in edges(member(data, "returnableFulfillments")):
            for item in edges(member(fulfillment.get("node"), "returnableFulfillmentLineItems")):
                node = item.get("node") or {}
                part = node.get("fulfillmentLineItem") or {}
                ours = (part.get("lineItem") or {}).get("id") == line_id and part.get("id")
                qty = min(node.get("quantity") or 0, wanted) if ours else 0
                if isinstance(qty, int) and qty > 0:
                    parts.append((str(part["id"]), qty))
                    wanted -= qty
        if not parts:
            raise NotAllowed(f"Shopify has nothing left to return on that line of {order.number}.")
        return parts

    # -- products --------------------------------------------------------------------------

    def products(self) -> Iterator[ProductRecord]:
        """Every active product, page by page (Shopify's cursor), in Shopify's order."""
        after: str | None = None
        position = 0
        while True:
            variables = {"first": PRODUCTS_PER_PAGE, "after": after, "query": ACTIVE_PRODUCTS}
            data = self._graphql("Products", PRODUCTS, variables)
            currency = str((data.get("shop") or {}).get("currencyCode") or SHOP_CURRENCY)
            page = member(data, "products")
            for edge in edges(page):
                position += 1
                node = edge.get("node")
                if isinstance(node, dict) and node.get("status", ACTIVE) == ACTIVE:
                    yield read(
                        partial(product_from, currency=currency, position=position),
                        node,
                        "Products",
                    )
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
            if not after:
                raise ShopError(f"{self.name} said more products follow but gave no cursor")

    # -- GraphQL ---------------------------------------------------------------------------

    def _graphql(
        self, operation: str, document: str, variables: Mapping[str, Any], *, change: bool = False
    ) -> dict[str, Any]:
        """The `data` of one operation; THROTTLED is waited out and sent again, other
        GraphQL `errors` are a ShopError naming the operation (never the token)."""
        request = {"query": document, "variables": dict(variables), "operationName": operation}
        for attempt in range(THROTTLE_RETRIES + 1):
            body = self._client.request("POST", self._path, json=request, idempotent=not change)
            if body is None:
                raise ShopError(
                    f"{self.name} has no Admin API at {self._path}: check SHOPDESK_SHOP_API_URL "
                    "and SHOPDESK_SHOP_API_VERSION"
                )
            if not isinstance(body, dict):
                raise ShopError(f"{self.name} answered {operation} with something not an object")
            errors = body.get("errors")
            if errors and _throttled(errors):
                if attempt < THROTTLE_RETRIES:
                    wait = _throttle_wait(body)
                    log.warning("%s throttled %s; waiting %.1f s", self.name, operation, wait)
                    self._sleep(wait)
                    continue
                raise ShopUnavailable(f"{self.name} kept throttling {operation}; try again soon")
            if errors:
                raise ShopError(f"{self.name} refused {operation}: {_messages(errors)}")
            data = body.get("data")
            if not isinstance(data, dict):
                raise ShopError(f"{self.name} answered {operation} without data")
            return data
        raise AssertionError("unreachable")  # pragma: no cover


def connect(chosen: ConnectorSettings) -> ShopifyOrders:
    """The connector for SHOPDESK_ORDERS=shopify (catalog.order_system.connect calls this)."""
    return ShopifyOrders.from_settings(chosen)


def _throttled(errors: Any) -> bool:
    items = errors if isinstance(errors, list) else []
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == THROTTLED for e in items
    )


def _throttle_wait(body: Mapping[str, Any]) -> float:
    """Seconds until the bucket holds the query's cost again (Shopify's `extensions.cost`)."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(
            status.get("currentlyAvailable") or 0
        )
        wait = needed / float(status.get("restoreRate") or 0)
    except (TypeError, ValueError, ZeroDivisionError):
        wait = MIN_THROTTLE_WAIT_S
    return min(max(wait, MIN_THROTTLE_WAIT_S), MAX_THROTTLE_WAIT_S)


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        texts = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
        return "; ".join(texts)[:300]
    return str(errors)[:300]


def _refuse_on(user_errors: Any, doing: str, number: str) -> None:
    """Shopify's `userErrors`: its rules said no; the message is a sentence for the shopper."""
    if user_errors:
        why = _messages(user_errors).rstrip(".")
        raise NotAllowed(f"Shopify could not {doing} order {number}: {why}.")


def _order_id(order: Order) -> str:
    gid = order.extra.get("id")
    if not gid:
        raise ShopError(f"order {order.number} was not read from {SYSTEM_NAME}")
    return gid


def _paid_cents(order: Order) -> int:
    return order.total_cents - int(order.extra.get("outstanding_cents", "0"))
