"""The actions with a connected shop that cannot do everything, or does not answer.

The order system here is a small in-memory double (`ShopDouble`): the real connectors have
their own tests (tests/connectors, tests/catalog/test_order_system.py); what is tested here is
what the actions do with what a connector declares and raises. ShopDesk's own database (failed
tries, audit, outbox, handoffs) is a private copy of the test catalog.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import catalog_access
from actions.catalog_access import ORDERS_UNAVAILABLE_RESPONSE
from actions.contract import Action, Slot
from actions.handoff import ActionHandoff, reason_given_last_turn
from actions.orders import (
    NOT_IN_CHAT,
    ActionCancelOrder,
    ActionChangeAddress,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateChangeAddressForm,
)
from actions.returns import ActionSubmitReturn, ValidateReturnForm
from actions.verification import OrderFormValidation
from catalog import order_system as order_system_module
from catalog.db import session_scope
from catalog.models import AuditEntry, Handoff, OutboxEmail, VerificationFailure
from catalog.policies import policies
from connectors.errors import ShopError, ShopUnavailable, Unsupported
from connectors.orders import (
    Address,
    Cancellation,
    Order,
    OrderLine,
    ReturnRequest,
    Shipment,
    same_email,
)
from connectors.protocol import Capability, OrderSystem
from connectors.statuses import OrderStatus, ReturnStatus
from core.clock import utc_now
from tests.actions.render import template, texts

EMAIL: Final = "roni_cost@example.com"
UNSHIPPED: Final = "1001"
DELIVERED: Final = "1002"
NEW_STREET: Final = "3 Lakeside Drive"
DELIVERED_DAYS_AGO: Final = 3
CONVERSATION: Final = "shopper-orders-1"  # tests/actions/fixtures/order_form.json's sender


def shop_orders() -> dict[str, Order]:
    """One order not shipped yet, one delivered a few days ago (within any return window)."""
    address = Address("Veronica Costello", "6146 Honey Bluff Parkway", "Calder", "MI", "49628")
    placed = utc_now() - timedelta(days=10)
    unshipped = Order(
        number=UNSHIPPED,
        email=EMAIL,
        status=OrderStatus.PROCESSING,
        currency="USD",
        total_cents=5600,
        lines=(OrderLine("11", "Jupiter All-Weather Trainer", 1, "MJ06-M-Blue", 5600),),
        placed_at=placed,
        customer_name="Veronica Costello",
        shipping_address=address,
    )
    arrived = utc_now() - timedelta(days=DELIVERED_DAYS_AGO)
    delivered = dataclasses.replace(
        unshipped,
        number=DELIVERED,
        status=OrderStatus.DELIVERED,
        lines=(OrderLine("21", "Tiberius Gym Tank", 1, "MT03-S-Red", 1800),),
        total_cents=1800,
        shipments=(
            Shipment(
                "UPS",
                "1Z999AA10123456784",
                shipped_at=arrived - timedelta(days=2),
                delivered_at=arrived,
            ),
        ),
    )
    return {UNSHIPPED: unshipped, DELIVERED: delivered}


@dataclass
class ShopDouble:
    """An `OrderSystem` in memory that declares `capabilities` and raises ShopUnavailable on
    the operations named in `down` ("find", "cancel", "change_address", "start_return")."""

    orders: dict[str, Order] = field(default_factory=shop_orders)
    capabilities: frozenset[Capability] = frozenset(Capability)
    down: set[str] = field(default_factory=set)
    failure: type[Exception] = ShopUnavailable
    name: str = "the test shop"
    calls: list[str] = field(default_factory=list)

    def _call(self, operation: str, capability: Capability | None = None) -> None:
        self.calls.append(operation)
        if operation in self.down:
            raise self.failure(f"{self.name} did not answer {operation}")
        if capability is not None and capability not in self.capabilities:
            raise Unsupported(self.name, capability)

    def order_number(self, typed: str) -> str | None:
        digits = typed.strip().lstrip("#")
        return digits if digits.isdigit() else None

    def find_order(self, number: str, email: str) -> Order | None:
        self._call("find")
        order = self.orders.get(number)
        return order if order is not None and same_email(order.email, email) else None

    def cancel(self, order: Order, *, fee_cents: int, now: datetime) -> Cancellation:
        self._call("cancel", Capability.CANCEL)
        cancelled = dataclasses.replace(order, status=OrderStatus.CANCELLED)
        self.orders[order.number] = cancelled
        return Cancellation(cancelled, fee_cents, None)

    def change_address(self, order: Order, address: Address, *, now: datetime) -> Order:
        self._call("change_address", Capability.CHANGE_ADDRESS)
        moved = dataclasses.replace(order, shipping_address=address)
        self.orders[order.number] = moved
        return moved

    def start_return(
        self, order: Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> ReturnRequest:
        self._call("start_return", Capability.START_RETURN)
        return ReturnRequest(f"R{order.number}-1", line_id, 1, ReturnStatus.REQUESTED, now)


@pytest.fixture
def shop_db(luma_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private, writable copy of the test catalog as ShopDesk's own database."""
    copy = tmp_path / "shopdesk.sqlite3"
    with (
        sqlite3.connect(luma_db_url.removeprefix("sqlite:///")) as source,
        sqlite3.connect(copy) as target,
    ):
        source.backup(target)
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", f"sqlite:///{copy}")
    monkeypatch.setenv("SHOPDESK_SHOP_URL", "https://shop.test")
    catalog_access.settings.cache_clear()
    policies.cache_clear()
    yield f"sqlite:///{copy}"
    catalog_access.settings.cache_clear()
    policies.cache_clear()


def connected(monkeypatch: pytest.MonkeyPatch, shop: ShopDouble) -> ShopDouble:
    """The process's order system is `shop`, whatever the settings say."""
    monkeypatch.setattr(order_system_module, "_connected", lambda current: shop)
    return shop


def rows(url: str, model: type[Any]) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def verified(tracker_from: Callable[..., Tracker], number: str, **slots: Any) -> Tracker:
    return tracker_from(
        "order_form",
        slots={
            Slot.ORDER_NUMBER: number,
            Slot.EMAIL: EMAIL,
            Slot.VERIFIED_ORDER_NUMBER: number,
            Slot.VERIFIED_CUSTOMER_EMAIL: EMAIL,
            **slots,
        },
    )


def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def required(form: OrderFormValidation, tracker: Tracker) -> list[str]:
    return asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, {}))


ADDRESS_SLOTS: Final[dict[str, Any]] = {
    Slot.STREET: NEW_STREET,
    Slot.CITY: "Ann Arbor",
    Slot.REGION: "MI",
    Slot.POSTCODE: "48104",
    Slot.ADDRESS_CONFIRMED: True,
}
# capability -> (the form, its submit action, the order, the slots the form would have filled)
CHANGES: Final[dict[Capability, tuple[Any, Any, str, dict[str, Any]]]] = {
    Capability.CANCEL: (
        ValidateCancelOrderForm,
        ActionCancelOrder,
        UNSHIPPED,
        {Slot.CANCEL_CONFIRMED: True},
    ),
    Capability.CHANGE_ADDRESS: (
        ValidateChangeAddressForm,
        ActionChangeAddress,
        UNSHIPPED,
        ADDRESS_SLOTS,
    ),
    Capability.START_RETURN: (
        ValidateReturnForm,
        ActionSubmitReturn,
        DELIVERED,
        {Slot.RETURN_ITEM: "21", Slot.RETURN_REASON: "Too small"},
    ),
}


def test_the_double_is_an_order_system() -> None:
    shop: OrderSystem = ShopDouble()  # mypy checks the signatures against the Protocol
    assert isinstance(shop, OrderSystem)


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"event": kind, **fields}


@pytest.mark.parametrize("capability", list(Capability))
def test_a_change_the_shop_cannot_make_offers_a_person_with_the_order(
    capability: Capability,
    shop_db: str,
    tracker_from: Callable[..., Tracker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = connected(monkeypatch, ShopDouble(capabilities=frozenset(Capability) - {capability}))
    form, submit, number, task_slots = CHANGES[capability]
    # the form asks nothing more of the shopper: the change cannot be made here anyway
    assert required(form(), verified(tracker_from, number)) == [Slot.ORDER_NUMBER, Slot.EMAIL]
    messages, events = run(submit(), verified(tracker_from, number, **task_slots))
    assert texts(messages) == [template(NOT_IN_CHAT[capability]).format(order_number=number)]
    reason = next(e["value"] for e in events if e.get("name") == Slot.HANDOFF_REASON)
    assert reason.endswith(f": order {number}")
    assert FollowupAction(Action.ACTION_OFFER_HUMAN) in events
    assert set(shop.calls) == {"find"}  # read for the form and the submit; no change tried
    assert shop.orders == shop_orders() or capability == Capability.START_RETURN
    assert rows(shop_db, AuditEntry) == rows(shop_db, OutboxEmail) == 0

    # the shopper says yes to the person offered: the handoff carries the reason and order
    tracker = verified(tracker_from, number)
    tracker.events = [
        event("user", text="…", parse_data={"intent": {"name": "inform"}}),
        event("action", name=submit().name()),
        *events,
        event("action", name=Action.ACTION_OFFER_HUMAN),
        event("action", name="action_listen"),
        event("user", text="yes", parse_data={"intent": {"name": "affirm"}}),
    ]
    assert reason_given_last_turn(tracker) == reason
    _, handed = run(ActionHandoff(), tracker)
    assert SlotSet(Slot.HANDOFF_REASON, reason) in handed
    with session_scope(shop_db) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.conversation_id, handoff.reason) == (CONVERSATION, reason)


def test_a_shop_that_declares_the_change_but_refuses_it_offers_a_person(
    shop_db: str, tracker_from: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connector may only learn at the call that its shop cannot (`Unsupported`)."""
    shop = connected(monkeypatch, ShopDouble())
    unsupported = Unsupported(shop.name, Capability.CANCEL)

    def refuse(*args: Any, **kwargs: Any) -> Cancellation:
        raise unsupported

    monkeypatch.setattr(shop, "cancel", refuse)
    messages, events = run(
        ActionCancelOrder(), verified(tracker_from, UNSHIPPED, cancel_confirmed=True)
    )
    assert [m["response"] for m in messages] == [NOT_IN_CHAT[Capability.CANCEL]]
    assert FollowupAction(Action.ACTION_OFFER_HUMAN) in events
    assert rows(shop_db, AuditEntry) == rows(shop_db, OutboxEmail) == 0


def validate_email(
    tracker_from: Callable[..., Tracker], number: str, email: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tracker = tracker_from(
        "order_form", slots={Slot.ORDER_NUMBER: number, "requested_slot": Slot.EMAIL}
    )
    dispatcher = CollectingDispatcher()
    slots = ValidateCancelOrderForm().validate_email(email, dispatcher, tracker, {})
    return dispatcher.messages, slots


@pytest.mark.parametrize("failure", [ShopUnavailable, ShopError])
def test_a_shop_down_during_verification_counts_no_failed_try(
    failure: type[Exception],
    shop_db: str,
    tracker_from: Callable[..., Tracker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = connected(monkeypatch, ShopDouble(down={"find"}, failure=failure))
    for typed in (EMAIL, "someone.else@example.com"):  # right or wrong: nothing is decided
        messages, slots = validate_email(tracker_from, UNSHIPPED, typed)
        assert [m["response"] for m in messages] == [ORDERS_UNAVAILABLE_RESPONSE]
        assert slots == {Slot.ORDER_NUMBER: UNSHIPPED, Slot.EMAIL: None}  # the number is kept
    assert rows(shop_db, VerificationFailure) == 0
    assert shop.calls == ["find", "find"]

    shop.down.clear()  # back: the same conversation carries on
    messages, slots = validate_email(tracker_from, UNSHIPPED, EMAIL)
    assert messages == [] and slots[Slot.VERIFIED_ORDER_NUMBER] == UNSHIPPED
    assert slots[Slot.VERIFICATION_FAILURES] == 0.0


def test_a_shop_down_after_verification_is_told_politely(
    shop_db: str, tracker_from: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    connected(monkeypatch, ShopDouble(down={"find"}))
    messages, events = run(ActionOrderStatus(), verified(tracker_from, DELIVERED))
    assert [m["response"] for m in messages] == [ORDERS_UNAVAILABLE_RESPONSE]
    assert events == []
    # the forms do not ask for more, and do not fail: the submit tells the shopper
    assert required(ValidateReturnForm(), verified(tracker_from, DELIVERED)) == [
        Slot.ORDER_NUMBER,
        Slot.EMAIL,
    ]


def test_a_shop_down_during_a_cancel_changes_nothing(
    shop_db: str, tracker_from: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = connected(monkeypatch, ShopDouble(down={"cancel"}))
    tracker = verified(tracker_from, UNSHIPPED, cancel_confirmed=True)
    messages, events = run(ActionCancelOrder(), tracker)
    assert texts(messages) == [template(ORDERS_UNAVAILABLE_RESPONSE)]
    assert shop.calls == ["find", "cancel"]
    assert shop.orders == shop_orders()  # not cancelled
    assert SlotSet(Slot.CANCEL_CONFIRMED, None) not in events  # the answer is kept for a retry
    assert rows(shop_db, AuditEntry) == rows(shop_db, OutboxEmail) == 0

    shop.down.clear()  # back: the same confirmed cancel goes through, and is recorded once
    messages, events = run(ActionCancelOrder(), tracker)
    assert [m["response"] for m in messages] == ["utter_order_cancelled"]
    assert shop.orders[UNSHIPPED].status == OrderStatus.CANCELLED
    assert events == [SlotSet(Slot.CANCEL_CONFIRMED, None)]
    assert rows(shop_db, AuditEntry) == rows(shop_db, OutboxEmail) == 1
    with session_scope(shop_db) as session:
        [notice] = session.scalars(select(OutboxEmail)).all()
        [entry] = session.scalars(select(AuditEntry)).all()
        assert (notice.to_address, entry.conversation_id) == (EMAIL, CONVERSATION)
        assert UNSHIPPED in entry.detail and shop.name in entry.detail


def test_a_shop_down_during_an_address_change_changes_nothing(
    shop_db: str, tracker_from: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = connected(monkeypatch, ShopDouble(down={"change_address"}))
    messages, _ = run(ActionChangeAddress(), verified(tracker_from, UNSHIPPED, **ADDRESS_SLOTS))
    assert [m["response"] for m in messages] == [ORDERS_UNAVAILABLE_RESPONSE]
    assert shop.orders == shop_orders()
    assert rows(shop_db, AuditEntry) == rows(shop_db, OutboxEmail) == 0


def test_a_shop_connector_without_its_settings_is_told_politely(
    shop_db: str, tracker_from: Callable[..., Tracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SHOPDESK_ORDERS names a remote shop but not its address: the operator's log says what
    to set (catalog/order_system.py connect); the shopper is not shown a traceback."""
    monkeypatch.setenv("SHOPDESK_ORDERS", "oscar")
    monkeypatch.delenv("SHOPDESK_SHOP_API_URL", raising=False)
    order_system_module._connected.cache_clear()
    tracker = tracker_from("order_form", slots={"requested_slot": Slot.ORDER_NUMBER})
    dispatcher = CollectingDispatcher()
    slots = ValidateCancelOrderForm().validate_order_number("1001", dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == [ORDERS_UNAVAILABLE_RESPONSE]
    assert slots == {Slot.ORDER_NUMBER: None}
    messages, _ = run(ActionOrderStatus(), verified(tracker_from, UNSHIPPED))
    assert [m["response"] for m in messages] == [ORDERS_UNAVAILABLE_RESPONSE]
