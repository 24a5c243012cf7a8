"""A demo order book over the real Luma catalog, so every order question has an order to ask about.

The Luma sample data has one customer and two undated orders; a service desk needs orders in
every state, with parcels, invoices, returns and refunds. `generate_order_book` makes them
from a seed and a day: the same seed, day and catalog give the same rows, because products
are taken in SKU order with one `random.Random(seed)` and nothing depends on row ids or on
set order. Dates are relative to `today`, so a shipped order is always still on its way.
Shipping is charged as the shop's settings say (shop.yml: the Luma fee bands).

Orders 000000100 to 000000108 are a fixed showcase (see `showcase()`) that testers and the
docs rely on; the generator owns every order numbered from 000000100 up and the customers
that only those orders have. It writes nothing when such orders are already there (the
showcase first among them), unless `replace=True`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, selectinload

from catalog.customer_service import REFUND_METHOD
from catalog.models import (
    Customer,
    Invoice,
    NewsletterSubscriber,
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    Shipment,
)
from catalog.orders import (
    CARRIER_TRACKING_URLS,
    ORDER_NUMBER_WIDTH,
    ORDER_WITH_DETAILS,
    PAYMENT_METHODS,
)
from catalog.policies import Delivery, policies
from catalog.statuses import NOT_SHIPPED, OrderStatus, RefundStatus, ReturnStatus, ShipmentStatus
from catalog.support import set_newsletter

FIRST_NUMBER = 100  # after the Luma sample orders 000000001 and 000000002
STATUSES = tuple(OrderStatus)  # in their life-cycle order
# How often each status comes up after the showcase (pending: a check is in the post).
STATUS_WEIGHTS = (4, 14, 14, 40, 8, 8, 12)
# The shop's delivery methods (shop.yml) with how often they are chosen and how many
# business days each takes from shipping to the door, fewest and most.
METHOD_WEIGHTS = {"Standard": 70, "Priority": 20, "Overnight": 10}
TRANSIT_DAYS = {"Standard": (5, 7), "Priority": (2, 3), "Overnight": (1, 1)}
UPS_SERVICE_CODES = {"Standard": "03", "Priority": "02", "Overnight": "01"}
DIGITS = "0123456789"
LINE_COUNT_WEIGHTS = (55, 25, 12, 8)  # 1, 2, 3 or 4 lines
DOMAINS = ("example.com", "example.net", "example.org")  # reserved for examples (RFC 2606)

FIRST_NAMES = (
    "Aaron", "Abigail", "Andrew", "Angela", "Benjamin", "Brianna", "Caleb", "Chloe",
    "Christopher", "Dana", "David", "Elena", "Ethan", "Grace", "Hannah", "Isaac", "Jacob",
    "Jasmine", "Jennifer", "Jordan", "Kevin", "Laura", "Lucas", "Madison", "Marcus", "Megan",
    "Nathan", "Nicole", "Oscar", "Paige", "Rachel", "Ryan", "Samantha", "Tyler", "Victoria",
    "William", "Zoe", "Luis", "Priya", "Wei",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Alvarez", "Baker", "Campbell", "Chen", "Collins", "Davis", "Edwards", "Flores",
    "Garcia", "Gonzalez", "Hall", "Harris", "Hernandez", "Hill", "Jackson", "Johnson", "Lee",
    "Lopez", "Miller", "Mitchell", "Moore", "Murphy", "Nelson", "Ortiz", "Parker", "Perez",
    "Reed", "Rivera", "Roberts", "Sanchez", "Scott", "Shah", "Stewart", "Turner", "Walker",
    "Ward", "White", "Wilson", "Young",
)  # fmt: skip
STREETS = (
    "Maple Avenue", "Oak Street", "Cedar Lane", "Pine Street", "Elm Street",
    "Washington Avenue", "Lake Drive", "Hillcrest Road", "Park Place", "River Road",
    "Highland Avenue", "Willow Way", "Main Street", "Church Street", "Jefferson Street",
    "Lincoln Avenue", "Meadow Lane", "Ridge Road", "Spring Street", "Sunset Boulevard",
)  # fmt: skip
# (city, state, a real ZIP code of it, its area code); phone numbers use 555-0100..0199,
# the range kept for fiction.
CITIES = (
    ("Austin", "TX", "78701", "512"), ("Portland", "OR", "97205", "503"),
    ("Denver", "CO", "80202", "303"), ("Columbus", "OH", "43215", "614"),
    ("Madison", "WI", "53703", "608"), ("Raleigh", "NC", "27601", "919"),
    ("Boise", "ID", "83702", "208"), ("Burlington", "VT", "05401", "802"),
    ("Ann Arbor", "MI", "48104", "734"), ("Sacramento", "CA", "95814", "916"),
    ("San Diego", "CA", "92101", "619"), ("Seattle", "WA", "98101", "206"),
    ("Phoenix", "AZ", "85004", "602"), ("Salt Lake City", "UT", "84111", "801"),
    ("Minneapolis", "MN", "55401", "612"), ("Kansas City", "MO", "64105", "816"),
    ("Nashville", "TN", "37203", "615"), ("Atlanta", "GA", "30303", "404"),
    ("Charleston", "SC", "29401", "843"), ("Richmond", "VA", "23219", "804"),
    ("Pittsburgh", "PA", "15222", "412"), ("Albany", "NY", "12207", "518"),
    ("Providence", "RI", "02903", "401"), ("Portland", "ME", "04101", "207"),
    ("Omaha", "NE", "68102", "402"), ("Tulsa", "OK", "74103", "918"),
    ("Albuquerque", "NM", "87102", "505"), ("Louisville", "KY", "40202", "502"),
    ("Des Moines", "IA", "50309", "515"), ("New Orleans", "LA", "70112", "504"),
    ("Baltimore", "MD", "21202", "410"), ("Hartford", "CT", "06103", "860"),
    ("Chicago", "IL", "60601", "312"), ("Anchorage", "AK", "99501", "907"),
    ("Honolulu", "HI", "96813", "808"),
)  # fmt: skip


@dataclass(frozen=True)
class ShowcaseOrder:
    """An order the generator always makes, the same for every seed."""

    number: str
    email: str
    first_name: str
    last_name: str
    status: OrderStatus
    note: str  # what it is there to show
    lines: int = 1
    delivered_days_ago: int | None = None
    carrier: str | None = None
    payment: str = "card"
    newsletter: bool | None = None  # None: never signed up


SHOWCASE = (
    ShowcaseOrder("000000100", "emily.carter@example.com", "Emily", "Carter",
                  OrderStatus.PROCESSING,
                  "paid, not shipped: can be cancelled or sent elsewhere", newsletter=True),
    ShowcaseOrder("000000101", "james.nguyen@example.net", "James", "Nguyen",
                  OrderStatus.SHIPPED,
                  "on its way with UPS, arriving after today", carrier="UPS", newsletter=False),
    ShowcaseOrder("000000102", "sophia.martinez@example.org", "Sophia", "Martinez",
                  OrderStatus.DELIVERED, "delivered 5 days ago: returnable", lines=2,
                  delivered_days_ago=5),
    ShowcaseOrder("000000103", "michael.brooks@example.com", "Michael", "Brooks",
                  OrderStatus.DELIVERED,
                  "delivered 60 days ago: outside the 30-day return window",
                  delivered_days_ago=60, payment="paypal"),
    ShowcaseOrder("000000104", "olivia.bennett@example.net", "Olivia", "Bennett",
                  OrderStatus.CANCELLED, "cancelled after payment: refunded in full"),
    ShowcaseOrder("000000105", "daniel.kim@example.org", "Daniel", "Kim", OrderStatus.RETURNED,
                  "one of two items returned and received, refund pending", lines=2,
                  payment="paypal"),
    ShowcaseOrder("000000106", "ava.thompson@example.com", "Ava", "Thompson",
                  OrderStatus.REFUNDED, "returned, refund processed", payment="checkmo"),
    ShowcaseOrder("000000107", "noah.patel@example.net", "Noah", "Patel", OrderStatus.PROCESSING,
                  "two different products, not shipped", lines=2, payment="checkmo"),
    ShowcaseOrder("000000108", "mia.robinson@example.org", "Mia", "Robinson",
                  OrderStatus.SHIPPED,
                  "on its way with FedEx", lines=3, carrier="FedEx", payment="paypal"),
)  # fmt: skip


def showcase() -> tuple[ShowcaseOrder, ...]:
    """The fixed showcase orders: number, customer e-mail, status and what each shows."""
    return SHOWCASE


class OrderBookError(Exception):
    """The order book cannot be made (an empty catalog)."""


@dataclass(frozen=True)
class OrderBookReport:
    created: bool  # False: the order book was there already and nothing changed
    customers: int
    orders: int
    by_status: dict[str, int]
    invoices: int
    shipments: int
    returns: int
    refunds: int
    subscribers: int  # newsletter addresses currently subscribed

    def summary(self) -> str:
        statuses = ", ".join(f"{count} {status}" for status, count in self.by_status.items())
        what = "generated" if self.created else "already there, unchanged"
        return (
            f"order book {what}: {self.orders} orders of {self.customers} customers "
            f"({statuses}); {self.invoices} invoices, {self.shipments} shipments, "
            f"{self.returns} returns, {self.refunds} refunds; "
            f"{self.subscribers} newsletter subscribers"
        )


@dataclass
class _Timeline:
    """When each thing happened to one order; None: it did not happen."""

    created: datetime
    shipped: datetime | None = None
    eta: date | None = None
    delivered: datetime | None = None
    cancelled: datetime | None = None
    return_requested: datetime | None = None
    return_received: datetime | None = None
    refund_processed: datetime | None = None

    def last(self) -> datetime:
        moments = (
            self.created, self.shipped, self.delivered, self.cancelled, self.return_requested,
            self.return_received, self.refund_processed,
        )  # fmt: skip
        return max(m for m in moments if m is not None)


@dataclass
class _Plan:
    customer: Customer
    status: OrderStatus
    method: str
    payment: str
    lines: int
    timeline: _Timeline
    carrier: str | None = None


def _number(value: int) -> str:
    return f"{value:0{ORDER_NUMBER_WIDTH}d}"


def _in_book() -> ColumnElement[bool]:
    """Orders the generator owns; numbers are zero-padded, so text order is number order."""
    return Order.number >= _number(FIRST_NUMBER)


def _moment(rng: random.Random, day: date) -> datetime:
    """A time of the working day on `day`."""
    return datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59)))


def _timeline(
    rng: random.Random,
    status: OrderStatus,
    method: str,
    today: date,
    delivered_days_ago: int | None,
) -> _Timeline:
    """Dates that fit the status, all before today; a parcel in transit arrives after it."""
    fewest, most = TRANSIT_DAYS[method]

    def delivery(days_ago: int) -> _Timeline:
        delivered = _moment(rng, today - timedelta(days=days_ago))
        shipped = _moment(rng, delivered.date() - timedelta(days=rng.randint(fewest, most)))
        created = _moment(rng, shipped.date() - timedelta(days=rng.randint(1, 2)))
        return _Timeline(created, shipped=shipped, delivered=delivered)

    if status in NOT_SHIPPED:
        return _Timeline(_moment(rng, today - timedelta(days=rng.randint(1, 2))))
    if status == OrderStatus.SHIPPED:  # callers avoid overnight: that parcel would have arrived
        shipped = _moment(rng, today - timedelta(days=rng.randint(1, max(1, fewest - 1))))
        created = _moment(rng, shipped.date() - timedelta(days=rng.randint(1, 2)))
        eta = shipped.date() + timedelta(days=rng.randint(fewest, most))
        return _Timeline(created, shipped=shipped, eta=max(eta, today + timedelta(days=1)))
    if status == OrderStatus.DELIVERED:
        days_ago = rng.randint(1, 120) if delivered_days_ago is None else delivered_days_ago
        return delivery(days_ago)
    if status == OrderStatus.CANCELLED:
        created = _moment(rng, today - timedelta(days=rng.randint(3, 45)))
        return _Timeline(created, cancelled=created + timedelta(hours=rng.randint(1, 20)))
    if status == OrderStatus.RETURNED:  # asked within days, received back, the refund not yet paid
        timeline = delivery(rng.randint(8, 28))
        assert timeline.delivered is not None
        timeline.return_requested = timeline.delivered + timedelta(days=rng.randint(1, 4))
        timeline.return_received = timeline.return_requested + timedelta(days=rng.randint(2, 3))
        return timeline
    timeline = delivery(rng.randint(35, 110))  # refunded
    assert timeline.delivered is not None
    timeline.return_requested = timeline.delivered + timedelta(days=rng.randint(1, 20))
    timeline.return_received = timeline.return_requested + timedelta(days=rng.randint(3, 6))
    timeline.refund_processed = timeline.return_received + timedelta(days=rng.randint(2, 7))
    return timeline


def _tracking_number(rng: random.Random, carrier: str, method: str) -> str:
    """The carrier's format: UPS 1Z + shipper + service + package; FedEx 12 digits; USPS 22."""

    def drawn(alphabet: str, count: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(count))

    if carrier == "UPS":
        shipper = drawn("ABCDEFGHJKLMNPRSTVWXY0123456789", 6)
        return f"1Z{shipper}{UPS_SERVICE_CODES[method]}{drawn(DIGITS, 8)}"
    if carrier == "FedEx":
        return drawn(DIGITS[1:], 1) + drawn(DIGITS, 11)
    return "94001" + drawn(DIGITS, 17)


def _customer(
    rng: random.Random, today: date, email: str, first: str, last: str, known: dict[str, Customer]
) -> Customer:
    """The customer with this e-mail (updated if it exists) and a US address and phone."""
    city, region, postcode, area = rng.choice(CITIES)
    street = f"{rng.randint(10, 9899)} {rng.choice(STREETS)}"
    if rng.random() < 0.15:
        street += f" Apt {rng.randint(1, 40)}{rng.choice('ABCD')}"
    customer = known.get(email) or Customer(email=email)
    customer.first_name, customer.last_name = first, last
    customer.phone = f"({area}) 555-01{rng.randint(0, 99):02d}"
    customer.street, customer.city, customer.region = street, city, region
    customer.postcode, customer.country = postcode, "US"
    customer.created_at = _moment(rng, today - timedelta(days=rng.randint(120, 1000)))
    known[email] = customer
    return customer


def _new_email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}"))
    domain = rng.choice(DOMAINS)
    email, suffix = f"{local}@{domain}".lower(), 2
    while email in taken:
        email, suffix = f"{local}{suffix}@{domain}".lower(), suffix + 1
    taken.add(email)
    return email


def _sellable(session: Session) -> list[tuple[Product, list[str]]]:
    """Products in SKU order with their variant SKUs in order, in-stock ones if there are.

    Sorted here, not by the database: PostgreSQL's collation orders "24-MB01" differently."""
    products = session.scalars(select(Product).options(selectinload(Product.variants))).all()
    sellable = []
    for product in sorted(products, key=lambda p: p.sku):
        variants = sorted(product.variants, key=lambda v: v.sku)
        in_stock = [v.sku for v in variants if v.qty > 0] or [v.sku for v in variants]
        if in_stock:
            sellable.append((product, in_stock))
    return sellable


def _shipping_fee(delivery: Delivery, method: str, merchandise_cents: int, region: str) -> int:
    """The shop's fee band, plus the surcharge for remote states, which is for Standard only."""
    remote = method == "Standard" and region in delivery.remote_regions
    return delivery.fee_cents(method, merchandise_cents) + (
        delivery.remote_surcharge_cents if remote else 0
    )


def _order(
    rng: random.Random,
    number: str,
    plan: _Plan,
    catalog: list[tuple[Product, list[str]]],
    delivery: Delivery,
) -> Order:
    """The order with its lines, money, parcel, invoice, returns and refunds."""
    timeline, customer = plan.timeline, plan.customer
    order = Order(
        number=number,
        customer=customer,
        status=plan.status,
        currency="USD",
        shipping_method=plan.method,
        payment_method=plan.payment,
        created_at=timeline.created,
        ship_name=f"{customer.first_name} {customer.last_name}",
        ship_street=customer.street,
        ship_city=customer.city,
        ship_region=customer.region,
        ship_postcode=customer.postcode,
        ship_country=customer.country,
        cancelled_at=timeline.cancelled,
        updated_at=timeline.last(),
    )
    for index in sorted(rng.sample(range(len(catalog)), plan.lines)):
        product, variant_skus = catalog[index]
        order.lines.append(
            OrderLine(
                product_id=product.id,
                sku=rng.choice(variant_skus),
                name=product.name,
                qty=rng.choices((1, 2, 3), (80, 15, 5))[0],
                price_cents=product.price_on(timeline.created.date()),
            )
        )
    order.subtotal_cents = sum(line.qty * line.price_cents for line in order.lines)
    order.shipping_cents = _shipping_fee(
        delivery, plan.method, order.subtotal_cents, customer.region or ""
    )
    order.total_cents = order.subtotal_cents + order.shipping_cents
    cancelled_unpaid = plan.status == OrderStatus.CANCELLED and plan.payment == "checkmo"
    if plan.status != OrderStatus.PENDING and not cancelled_unpaid:
        order.invoices.append(
            Invoice(
                number=f"INV{number}",
                issued_at=timeline.created + timedelta(minutes=rng.randint(1, 30)),
                amount_cents=order.total_cents,
            )
        )
    if timeline.shipped is not None:
        carrier = plan.carrier or rng.choice(tuple(CARRIER_TRACKING_URLS))
        order.shipments.append(
            Shipment(
                carrier=carrier,
                tracking_number=_tracking_number(rng, carrier, plan.method),
                status=(
                    ShipmentStatus.DELIVERED if timeline.delivered else ShipmentStatus.IN_TRANSIT
                ),
                shipped_at=timeline.shipped,
                delivered_at=timeline.delivered,
                eta=timeline.eta,
            )
        )
    if timeline.cancelled is not None and order.invoices:
        paid_back = timeline.cancelled + timedelta(days=1)
        order.refunds.append(_refund(order.total_cents, timeline.cancelled, paid_back))
    if timeline.return_requested is not None:
        _returns(rng, order, plan, timeline)
    return order


def _refund(
    amount: int, created: datetime, processed: datetime | None, parcel: Return | None = None
) -> Refund:
    return Refund(
        amount_cents=amount,
        status=RefundStatus.PENDING if processed is None else RefundStatus.PROCESSED,
        method=REFUND_METHOD,
        created_at=created,
        processed_at=processed,
        return_=parcel,
    )


def _returns(rng: random.Random, order: Order, plan: _Plan, timeline: _Timeline) -> None:
    """A refunded order came back whole; a returned one sent back one line, refund pending."""
    assert timeline.return_requested is not None and timeline.return_received is not None
    refunded = plan.status == OrderStatus.REFUNDED
    lines = order.lines if refunded else [rng.choice(order.lines)]
    for position, line in enumerate(lines, start=1):
        parcel = Return(
            number=f"R{order.number}-{position}",
            line=line,
            qty=line.qty,
            reason=rng.choice(("too small", "too large", "not as pictured", "changed my mind")),
            status=ReturnStatus.REFUNDED if refunded else ReturnStatus.RECEIVED,
            created_at=timeline.return_requested,
        )
        order.returns.append(parcel)
        amount = line.qty * line.price_cents
        order.refunds.append(
            _refund(amount, timeline.return_received, timeline.refund_processed, parcel)
        )


def _remove_book(session: Session) -> None:
    """Delete the generated orders and the customers who have no other order."""
    orders = session.scalars(select(Order).where(_in_book()).options(*ORDER_WITH_DETAILS)).all()
    customer_ids = sorted({order.customer_id for order in orders})
    for order in orders:
        session.delete(order)
    session.flush()  # before new rows take the same numbers
    orphans = session.scalars(
        select(Customer).where(
            Customer.id.in_(customer_ids), ~exists().where(Order.customer_id == Customer.id)
        )
    ).all()
    for subscriber in session.scalars(
        select(NewsletterSubscriber).where(
            NewsletterSubscriber.customer_id.in_([c.id for c in orphans])
        )
    ):
        session.delete(subscriber)
    for customer in orphans:
        session.delete(customer)
    session.flush()


def check_sizes(customers: int, orders: int) -> None:
    """ValueError, saying why, for sizes that cannot hold the showcase."""
    if customers < len(SHOWCASE):
        raise ValueError(f"at least {len(SHOWCASE)} customers are needed for the showcase")
    if orders < customers:
        raise ValueError("every customer needs an order: orders must be at least customers")
    if orders > len(SHOWCASE) and customers == len(SHOWCASE):
        raise ValueError(f"orders beyond the showcase need customers beyond its {len(SHOWCASE)}")


def _plans(rng: random.Random, today: date, count: int, people: list[Customer]) -> list[_Plan]:
    """The orders after the showcase, oldest first (they are numbered in that order)."""
    owners = people + [rng.choice(people) for _ in range(count - len(people))]
    plans = []
    for customer in owners:
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        methods = tuple(METHOD_WEIGHTS)
        weights = tuple(METHOD_WEIGHTS.values())
        if status == OrderStatus.SHIPPED:
            methods, weights = methods[:2], weights[:2]
        method = rng.choices(methods, weights)[0]
        payment = "checkmo" if status == OrderStatus.PENDING else rng.choice(tuple(PAYMENT_METHODS))
        lines = rng.choices((1, 2, 3, 4), LINE_COUNT_WEIGHTS)[0]
        timeline = _timeline(rng, status, method, today, None)
        plans.append(_Plan(customer, status, method, payment, lines, timeline))
    return sorted(plans, key=lambda plan: plan.timeline.created)


def _report(session: Session, created: bool) -> OrderBookReport:
    book = _in_book()
    counted = dict(
        session.execute(select(Order.status, func.count()).where(book).group_by(Order.status)).all()
    )
    # Known statuses in their life-cycle order, then any others (set in the chat, by hand).
    ordered = [s for s in STATUSES if s in counted] + sorted(set(counted) - set(STATUSES))
    by_status = {status: counted[status] for status in ordered}

    def documents(model: type[Invoice | Shipment | Return | Refund]) -> int:
        query = select(func.count()).select_from(model).join(Order, model.order_id == Order.id)
        return session.scalar(query.where(book)) or 0

    customers = select(func.count(func.distinct(Order.customer_id))).where(book)
    subscribed = (
        select(func.count())
        .select_from(NewsletterSubscriber)
        .where(NewsletterSubscriber.subscribed.is_(True))
    )
    return OrderBookReport(
        created=created,
        customers=session.scalar(customers) or 0,
        orders=sum(by_status.values()),
        by_status=by_status,
        invoices=documents(Invoice),
        shipments=documents(Shipment),
        returns=documents(Return),
        refunds=documents(Refund),
        subscribers=session.scalar(subscribed) or 0,
    )


def generate_order_book(
    session: Session,
    *,
    seed: int = 7,
    customers: int = 40,
    orders: int = 160,
    today: date,
    replace: bool = False,
) -> OrderBookReport:
    """Write the order book within the caller's transaction; nothing if it is already there.

    ValueError for sizes that cannot hold the showcase; OrderBookError for an empty catalog.
    """
    check_sizes(customers, orders)
    present = session.scalar(select(exists().where(_in_book())))
    if present and not replace:
        return _report(session, created=False)
    catalog = _sellable(session)
    if len(catalog) < len(LINE_COUNT_WEIGHTS):  # an order has up to that many products
        raise OrderBookError("the catalog has too few products: load it first")
    if present:
        _remove_book(session)
    rng = random.Random(seed)
    known = {c.email: c for c in session.scalars(select(Customer))}
    taken = {email.lower() for email in known}
    plans = []
    for entry in SHOWCASE:
        taken.add(entry.email)
        person = _customer(rng, today, entry.email, entry.first_name, entry.last_name, known)
        method = (
            "Standard"
            if entry.status == OrderStatus.SHIPPED
            else rng.choice(("Standard", "Priority"))
        )
        timeline = _timeline(rng, entry.status, method, today, entry.delivered_days_ago)
        plans.append(
            _Plan(person, entry.status, method, entry.payment, entry.lines, timeline, entry.carrier)
        )
    people = []
    for _ in range(customers - len(SHOWCASE)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = _new_email(rng, first, last, taken)
        people.append(_customer(rng, today, email, first, last, known))
    plans += _plans(rng, today, orders - len(SHOWCASE), people) if people else []
    delivery = policies().delivery
    for offset, plan in enumerate(plans):
        session.add(_order(rng, _number(FIRST_NUMBER + offset), plan, catalog, delivery))
    session.flush()
    _subscribe(session, rng, today, [(entry.email, entry.newsletter) for entry in SHOWCASE], people)
    return _report(session, created=True)


def _subscribe(
    session: Session,
    rng: random.Random,
    today: date,
    fixed: list[tuple[str, bool | None]],
    people: list[Customer],
) -> None:
    """Newsletter choices: the showcase's fixed ones, then about a third of the others."""
    choices = list(fixed)
    for person in people:
        draw = rng.random()
        choices.append((person.email, True if draw < 0.35 else False if draw < 0.45 else None))
    for email, subscribed in choices:
        if subscribed is not None:
            day = today - timedelta(days=rng.randint(1, 100))
            set_newsletter(session, email, subscribed, _moment(rng, day))
