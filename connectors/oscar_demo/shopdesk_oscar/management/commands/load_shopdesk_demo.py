"""`manage.py load_shopdesk_demo DATA.json --token-file PATH`: ShopDesk's demo shop into Oscar.

DATA.json is what launcher/oscar_shop.py exports from ShopDesk's own catalog database (the Luma
products and the built-in order book's sample orders), so the Oscar shop answers about the same
orders as the built-in order book. Its shape (format 1; money as decimal strings in `currency`,
times ISO 8601 with their offset, statuses in ShopDesk's words, mapped here by
shopdesk_oscar/statuses.py):

    {"format": 1, "partner": "Luma", "currency": "USD",
     "products": [{"sku", "title", "description", "price", "categories": ["Men > Tops"],
                   "stock"}],
     "orders": [{"number", "email", "first_name", "last_name", "status", "placed_at" (or null),
                 "shipping_method", "subtotal", "shipping", "total",
                 "shipping_address": {"first_name", "last_name", "line1", "line2", "line4",
                                      "state", "postcode", "country"} or null,
                 "lines": [{"product_sku", "sku", "title", "quantity", "unit_price"}],
                 "shipments": [{"carrier", "tracking_number", "tracking_url", "eta",
                                "shipped_at", "delivered_at"}]}]}

How it lands in Oscar (what the API then shows):
- a product: one standalone product of the product class "Luma product", `upc` = ShopDesk's
  SKU, its categories from the breadcrumbs, and a stock record of the partner "Luma" with
  `partner_sku` = the SKU, the price in USD and the stock (the sum of its variants');
- a customer: a user whose username and e-mail are the customer's e-mail, with first and last
  name; the order belongs to that user, so oscarapi's `email` field is the customer's e-mail;
- an order: its number, status (statuses.FROM_SHOPDESK), `date_placed`, shipping method, totals
  (no tax: incl = excl), a US shipping address; each line with `title`, `partner_sku` (the
  variant's SKU, e.g. MH01-XS-Black), `upc` (the product's SKU), quantity and prices;
- a parcel: a shipping event "Shipped" dated when it shipped, over every line, whose notes are
  `carrier=UPS; tracking_number=1Z...; tracking_url=https://...; eta=2026-12-10` (keys in
  statuses.NOTE_*; a key without a value is left out), and, once delivered, a "Delivered"
  event dated then with the same notes.

It is idempotent: products are updated in place, and an order whose number is in the file is
replaced by the file's (so loading again resets the sample orders). It also makes the staff API
user `shopdesk-api` (with the permissions API_PERMISSIONS only) and its DRF token, written to
`--token-file` (created owner-only, 0600); the token is never printed or logged.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.dateparse import parse_datetime
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model
from rest_framework.authtoken.models import Token

from shopdesk_oscar import statuses

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
Line = get_model("order", "Line")
ShippingAddress = get_model("order", "ShippingAddress")
ShippingEvent = get_model("order", "ShippingEvent")
ShippingEventType = get_model("order", "ShippingEventType")
ShippingEventQuantity = get_model("order", "ShippingEventQuantity")

FORMAT: Final = 1
PRODUCT_CLASS: Final = "Luma product"
API_USERNAME: Final = "shopdesk-api"
API_EMAIL: Final = "shopdesk-api@example.com"
# oscarapi's admin API asks a staff user for Django model permissions as well: the API user may
# read orders and their lines and change orders (status, shipping address), nothing else.
API_PERMISSIONS: Final = (
    ("order", "view_order"),
    ("order", "change_order"),
    ("order", "view_line"),
)
OWNER_ONLY: Final = 0o600
US: Final = {
    "iso_3166_1_a2": "US",
    "iso_3166_1_a3": "USA",
    "iso_3166_1_numeric": "840",
    "printable_name": "United States",
    "name": "United States of America",
    "is_shipping_country": True,
}


class Command(BaseCommand):
    help = "Load ShopDesk's demo products and orders (JSON) and make the staff API user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("data", type=Path, help="the JSON that launcher/oscar_shop.py exports")
        parser.add_argument(
            "--token-file",
            type=Path,
            required=True,
            help="where the staff API user's token is written (owner-only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(Path(options["data"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {options['data']}: {error}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CommandError(f"{options['data']} is not ShopDesk demo data of format {FORMAT}")
        with transaction.atomic():
            country, _ = Country.objects.update_or_create(
                iso_3166_1_a2=US["iso_3166_1_a2"], defaults=US
            )
            partner, _ = Partner.objects.get_or_create(name=data["partner"])
            products = _load_products(data["products"], partner, data["currency"])
            for order in data["orders"]:
                _load_order(order, products, partner, country, data["currency"])
            token = _api_user_token()
        _write_owner_only(Path(options["token_file"]), token)
        self.stdout.write(
            f"loaded {len(products)} products and {len(data['orders'])} orders; "
            f"the API token is in {options['token_file']}"
        )


def _load_products(rows: list[dict[str, Any]], partner: Any, currency: str) -> dict[str, Any]:
    kind, _ = ProductClass.objects.get_or_create(
        name=PRODUCT_CLASS, defaults={"requires_shipping": True, "track_stock": True}
    )
    categories: dict[str, Any] = {}
    products = {}
    for row in rows:
        product, _ = Product.objects.update_or_create(
            upc=row["sku"],
            defaults={
                "title": row["title"],
                "description": row.get("description", ""),
                "structure": Product.STANDALONE,
                "product_class": kind,
                "is_public": True,
            },
        )
        StockRecord.objects.update_or_create(
            product=product,
            partner=partner,
            defaults={
                "partner_sku": row["sku"],
                "price": Decimal(row["price"]),
                "price_currency": currency,
                "num_in_stock": max(0, int(row.get("stock", 0))),
            },
        )
        for breadcrumbs in row.get("categories", []):
            if breadcrumbs not in categories:
                categories[breadcrumbs] = create_from_breadcrumbs(breadcrumbs)
            ProductCategory.objects.get_or_create(product=product, category=categories[breadcrumbs])
        products[row["sku"]] = product
    return products


def _customer(row: dict[str, Any]) -> Any:
    user, _ = get_user_model().objects.update_or_create(
        username=row["email"][:150],
        defaults={
            "email": row["email"],
            "first_name": row.get("first_name", ""),
            "last_name": row.get("last_name", ""),
        },
    )
    return user


def _status(shopdesk_status: str) -> str:
    try:
        return statuses.FROM_SHOPDESK[shopdesk_status]
    except KeyError:
        raise CommandError(f"unknown order status {shopdesk_status!r}") from None


def _load_order(
    row: dict[str, Any], products: dict[str, Any], partner: Any, country: Any, currency: str
) -> None:
    for old in Order.objects.filter(number=row["number"]):
        old_address = old.shipping_address
        old.delete()
        if old_address is not None:
            old_address.delete()
    shipping = _shipping_address(row.get("shipping_address"), country)
    status = _status(row["status"])
    total, shipping_charge = Decimal(row["total"]), Decimal(row["shipping"])
    order = Order.objects.create(
        number=row["number"],
        site_id=1,
        user=_customer(row),
        currency=currency,
        total_incl_tax=total,
        total_excl_tax=total,
        shipping_incl_tax=shipping_charge,
        shipping_excl_tax=shipping_charge,
        shipping_address=shipping,
        shipping_method=row.get("shipping_method", ""),
        shipping_code=row.get("shipping_method", "").lower(),
        status=status,
        date_placed=parse_datetime(row["placed_at"]) if row.get("placed_at") else None,
    )
    lines = []
    for item in row["lines"]:
        product = products.get(item["product_sku"])
        unit = Decimal(item["unit_price"])
        amount = unit * int(item["quantity"])
        lines.append(
            Line.objects.create(
                order=order,
                partner=partner,
                partner_name=partner.name,
                partner_sku=item["sku"],
                stockrecord=product.stockrecords.first() if product else None,
                product=product,
                title=item["title"],
                upc=item["product_sku"],
                quantity=int(item["quantity"]),
                line_price_incl_tax=amount,
                line_price_excl_tax=amount,
                line_price_before_discounts_incl_tax=amount,
                line_price_before_discounts_excl_tax=amount,
                unit_price_incl_tax=unit,
                unit_price_excl_tax=unit,
                status=status,
                num_allocated=int(item["quantity"]),
            )
        )
    for parcel in row.get("shipments", []):
        notes = _notes(parcel)
        for event_name, moment in (
            (statuses.EVENT_SHIPPED, parcel.get("shipped_at")),
            (statuses.EVENT_DELIVERED, parcel.get("delivered_at")),
        ):
            if moment:
                _shipping_event(order, lines, event_name, notes, moment)


def _shipping_address(address: dict[str, str] | None, country: Any) -> Any:
    """The order's shipping address; None for an order without one (Luma's sample orders)."""
    if address is None:
        return None
    return ShippingAddress.objects.create(
        first_name=address["first_name"],
        last_name=address["last_name"],
        line1=address["line1"],
        line2=address.get("line2", ""),
        line4=address["line4"],
        state=address["state"],
        postcode=address["postcode"],
        country=country,
    )


def _notes(parcel: dict[str, Any]) -> str:
    """`carrier=UPS; tracking_number=...; tracking_url=...; eta=YYYY-MM-DD`: what a warehouse
    would type, in a form a program reads back (split on '; ', then on the first '=')."""
    pairs = (
        (statuses.NOTE_CARRIER, parcel.get("carrier")),
        (statuses.NOTE_TRACKING_NUMBER, parcel.get("tracking_number")),
        (statuses.NOTE_TRACKING_URL, parcel.get("tracking_url")),
        (statuses.NOTE_ETA, parcel.get("eta")),
    )
    return statuses.NOTE_SEPARATOR.join(f"{key}={value}" for key, value in pairs if value)


def _shipping_event(order: Any, lines: list[Any], name: str, notes: str, moment: str) -> None:
    kind, _ = ShippingEventType.objects.get_or_create(name=name)
    event = ShippingEvent.objects.create(order=order, event_type=kind, notes=notes)
    for line in lines:
        ShippingEventQuantity.objects.create(event=event, line=line, quantity=line.quantity)
    # date_created is auto_now_add: the parcel's own moment replaces it afterwards.
    ShippingEvent.objects.filter(pk=event.pk).update(date_created=parse_datetime(moment))


def _api_user_token() -> str:
    user, _ = get_user_model().objects.update_or_create(
        username=API_USERNAME,
        defaults={"email": API_EMAIL, "is_staff": True, "is_active": True},
    )
    user.set_unusable_password()  # it signs in with its token only
    user.save()
    user.user_permissions.set(
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in API_PERMISSIONS
    )
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)


def _write_owner_only(path: Path, secret: str) -> None:
    """Create or replace `path` readable by its owner only, before anything is written to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    os.fchmod(descriptor, OWNER_ONLY)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
