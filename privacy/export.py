"""A shopper's right of access: everything the shop keeps about an e-mail address, as JSON
(`export_shopper`). Only what is theirs (privacy/holdings.py) is exported; records that name
another address are left out, and other addresses in their transcripts are hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from catalog.models import Customer, Order
from core.clock import utc_now
from privacy.holdings import Holdings, holdings
from privacy.personal import ANY_EMAIL, OTHER_EMAIL
from privacy.transcripts import transcripts


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _customer_record(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "created_at": _iso(customer.created_at),
    }


def _order_record(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "currency": order.currency,
        "shipping_method": order.shipping_method,
        "payment_method": order.payment_method,
        "ship_to": {
            "name": order.ship_name,
            "street": order.ship_street,
            "city": order.ship_city,
            "region": order.ship_region,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
        },
        "subtotal_cents": order.subtotal_cents,
        "shipping_cents": order.shipping_cents,
        "total_cents": order.total_cents,
        "cancelled_at": _iso(order.cancelled_at),
        "cancellation_fee_cents": order.cancellation_fee_cents,
        "lines": [
            {"sku": line.sku, "name": line.name, "qty": line.qty, "price_cents": line.price_cents}
            for line in order.lines
        ],
        "shipments": [
            {
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "status": s.status,
                "shipped_at": _iso(s.shipped_at),
                "delivered_at": _iso(s.delivered_at),
                "eta": s.eta.isoformat() if s.eta else None,
            }
            for s in order.shipments
        ],
        "returns": [
            {
                "number": r.number,
                "qty": r.qty,
                "reason": r.reason,
                "status": r.status,
                "created_at": _iso(r.created_at),
            }
            for r in order.returns
        ],
        "invoices": [
            {"number": i.number, "issued_at": _iso(i.issued_at), "amount_cents": i.amount_cents}
            for i in order.invoices
        ],
        "refunds": [
            {
                "amount_cents": r.amount_cents,
                "status": r.status,
                "method": r.method,
                "created_at": _iso(r.created_at),
                "processed_at": _iso(r.processed_at),
            }
            for r in order.refunds
        ],
    }


def _addresses(held: Holdings) -> list[dict[str, Any]]:
    """The default address, then each different address an order was sent to."""
    found: list[dict[str, Any]] = []
    seen: set[tuple[str | None, ...]] = set()
    rows: list[tuple[str, tuple[str | None, ...]]] = []
    if held.customer is not None:
        c = held.customer
        name = f"{c.first_name} {c.last_name}".strip()
        rows.append(("default", (name, c.street, c.city, c.region, c.postcode, c.country)))
    for o in held.orders:
        shipped = (o.ship_name, o.ship_street, o.ship_city, o.ship_region, o.ship_postcode)
        rows.append(("shipping", (*shipped, o.ship_country)))
    keys = ("name", "street", "city", "region", "postcode", "country")
    for kind, parts in rows:
        if not parts[1] or parts in seen:
            continue
        seen.add(parts)
        found.append({"kind": kind, **dict(zip(keys, parts, strict=True))})
    return found


def _hide_other_emails(text: str, address: str) -> str:
    """A transcript may name someone else's address (a typo, a gift): it is not theirs."""
    return ANY_EMAIL.sub(
        lambda match: match.group(0) if match.group(0).lower() == address else OTHER_EMAIL, text
    )


def export_shopper(session: Session, tracker_url: str, email: str) -> dict[str, Any]:
    """Everything kept about the address, JSON-ready (strings, numbers, lists, dicts).

    Money is in cents with the order's currency; every time is UTC, ISO. Records that name
    another address are left out, and other addresses in the transcripts are hidden. An
    address the shop does not know gives a record with empty lists. ValueError for a
    malformed address.
    """
    held = holdings(session, tracker_url, email)
    talks = transcripts(tracker_url, held.conversations)
    subscription = next(
        (row for row in held.newsletter if row.email.lower() == held.address), None
    ) or (held.newsletter[0] if held.newsletter else None)
    return {
        "email": held.address,
        "exported_at": utc_now().isoformat(),
        "customer": _customer_record(held.customer) if held.customer is not None else None,
        "addresses": _addresses(held),
        "orders": [_order_record(order) for order in held.orders],
        "reviews": [
            {
                "product_sku": review.product.sku,
                "product_name": review.product.name,
                "rating": review.rating,
                "title": review.title,
                "text": review.text,
                "nickname": review.reviewer,
                "status": review.status,
                "created_at": _iso(review.created_at),
            }
            for review in held.reviews
        ],
        "complaints": [
            {
                "order_number": c.order_number,
                "text": c.text,
                "status": c.status,
                "created_at": _iso(c.created_at),
            }
            for c in held.complaints
        ],
        "newsletter": (
            {
                "email": subscription.email,
                "subscribed": subscription.subscribed,
                "changed_at": _iso(subscription.changed_at),
            }
            if subscription is not None
            else None
        ),
        "messages": [
            {
                "email": m.email,
                "text": m.text,
                "status": m.status,
                "created_at": _iso(m.created_at),
            }
            for m in held.messages
        ],
        "erasure_requests": [
            {"status": r.status, "requested_at": _iso(r.requested_at)} for r in held.requests
        ],
        "conversations": [
            {
                "id": conversation,
                "messages": [
                    {**message, "text": _hide_other_emails(message["text"], held.address)}
                    for message in talks.get(conversation, [])
                ],
            }
            for conversation in held.conversations
        ],
    }
