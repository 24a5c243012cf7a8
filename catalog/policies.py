"""The shop's settings (shop.yml): delivery, returns, payment, promotions, accounts, support.

Typed and checked once at load, so a typo in the shop's file is a clear error at start-up and
not a wrong answer to a shopper later.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from catalog.settings import CatalogSettings


class ShopSettingsError(ValueError):
    """shop.yml is missing, unreadable or lacks a field."""


@dataclass(frozen=True)
class DeliveryMethod:
    name: str
    days: str
    fees_cents: tuple[int, ...]


@dataclass(frozen=True)
class Delivery:
    cutoff: str
    processing_note: str
    remote_surcharge_cents: int
    remote_regions: tuple[str, ...]
    ships_to: tuple[str, ...]
    methods: tuple[DeliveryMethod, ...]
    bands_cents: tuple[int, ...]

    def fee_cents(self, method: str, merchandise_cents: int) -> int:
        """The charge for a method and merchandise total, by the shop's fee bands."""
        chosen = next((m for m in self.methods if m.name.lower() == method.lower()), None)
        if chosen is None:
            raise KeyError(method)
        band = sum(1 for bound in self.bands_cents if merchandise_cents > bound)
        return chosen.fees_cents[band]


@dataclass(frozen=True)
class Support:
    email: str
    phone: str
    hours: str
    handoff_wait_minutes: int


@dataclass(frozen=True)
class Returns:
    window_days: int
    processing_days: str
    conditions: str
    reasons: tuple[str, ...]
    refund_to: str
    # False: no direct swap; the shopper returns the item and orders the size or colour anew.
    exchanges: bool


@dataclass(frozen=True)
class Promotions:
    """How discount codes work, so the bot answers the rules and a person checks one code."""

    entry_field: str  # the field's label on the shop's pages
    entry_pages: tuple[str, ...]  # names under `pages` where the field is
    codes_per_order: int
    not_valid_on: tuple[str, ...]
    minimum_spend_cents: int  # 0: no minimum beyond a code's own terms
    expiry: str
    added_after_order: bool  # can a code still be applied once the order is placed


@dataclass(frozen=True)
class Accounts:
    """Sign-in limits (Magento's lockout settings), quoted when a shopper can't sign in."""

    lockout_failures: int  # wrong passwords in a row that lock the account
    lockout_minutes: int


@dataclass(frozen=True)
class ShopPolicies:
    name: str
    shop_url: str
    support: Support
    pages: dict[str, str]
    delivery: Delivery
    returns: Returns
    promotions: Promotions
    accounts: Accounts
    cancellation_fee_cents: int
    payment_methods: tuple[str, ...]
    payment_problems: str
    invoice_note: str
    currency: str = "USD"  # ISO 4217: how the bot writes fees and thresholds (core.money)

    def page(self, name: str) -> str:
        """The shop's full URL of a named page (shop.yml `pages`)."""
        return self.shop_url + self.pages[name]


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ShopSettingsError(f"shop settings: `{where}{key}` is missing")
    return data[key]


def _whole(data: dict[str, Any], key: str, where: str, minimum: int) -> int:
    """A whole number of at least `minimum`; anything else is named as the shop's mistake."""
    value = _require(data, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ShopSettingsError(
            f"shop settings: `{where}{key}` must be a whole number of at least {minimum}"
        )
    return value


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = _require(data, key, where)
    if not isinstance(value, bool):
        raise ShopSettingsError(f"shop settings: `{where}{key}` must be true or false")
    return value


def _promotions(data: dict[str, Any], pages: dict[str, str]) -> Promotions:
    where = "promotions."
    entry_pages = tuple(str(p) for p in _require(data, "entry_pages", where))
    unknown = [p for p in entry_pages if p not in pages]
    if not entry_pages or unknown:
        raise ShopSettingsError(
            f"shop settings: `{where}entry_pages` must name pages listed under `pages` "
            f"(unknown: {', '.join(unknown) or 'none given'})"
        )
    return Promotions(
        entry_field=str(_require(data, "entry_field", where)),
        entry_pages=entry_pages,
        codes_per_order=_whole(data, "codes_per_order", where, 1),
        not_valid_on=tuple(str(x) for x in data.get("not_valid_on") or []),
        minimum_spend_cents=_whole(data, "minimum_spend_cents", where, 0),
        expiry=str(_require(data, "expiry", where)),
        added_after_order=_flag(data, "added_after_order", where),
    )


def parse_policies(data: dict[str, Any], shop_url: str) -> ShopPolicies:
    support = _require(data, "support", "")
    delivery = _require(data, "delivery", "")
    returns = _require(data, "returns", "")
    payment = _require(data, "payment", "")
    accounts = _require(data, "accounts", "")
    pages = {str(k): str(v) for k, v in _require(data, "pages", "").items()}
    methods = tuple(
        DeliveryMethod(
            name=str(_require(m, "name", "delivery.methods[].")),
            days=str(_require(m, "days", "delivery.methods[].")),
            fees_cents=tuple(int(f) for f in _require(m, "fees_cents", "delivery.methods[].")),
        )
        for m in _require(delivery, "methods", "delivery.")
    )
    bands = tuple(int(b) for b in _require(delivery, "bands_cents", "delivery."))
    if any(len(m.fees_cents) != len(bands) + 1 for m in methods):
        raise ShopSettingsError("shop settings: each delivery method needs one fee per band + 1")
    return ShopPolicies(
        name=str(_require(data, "name", "")),
        shop_url=shop_url,
        support=Support(
            email=str(_require(support, "email", "support.")),
            phone=str(_require(support, "phone", "support.")),
            hours=str(_require(support, "hours", "support.")),
            handoff_wait_minutes=int(support.get("handoff_wait_minutes", 5)),
        ),
        pages=pages,
        delivery=Delivery(
            cutoff=str(_require(delivery, "cutoff", "delivery.")),
            processing_note=str(delivery.get("processing_note", "")),
            remote_surcharge_cents=int(delivery.get("remote_surcharge_cents", 0)),
            remote_regions=tuple(str(r) for r in delivery.get("remote_regions", [])),
            ships_to=tuple(str(c) for c in _require(delivery, "ships_to", "delivery.")),
            methods=methods,
            bands_cents=bands,
        ),
        returns=Returns(
            window_days=int(_require(returns, "window_days", "returns.")),
            processing_days=str(_require(returns, "processing_days", "returns.")),
            conditions=str(_require(returns, "conditions", "returns.")),
            reasons=tuple(str(r) for r in _require(returns, "reasons", "returns.")),
            refund_to=str(_require(returns, "refund_to", "returns.")),
            exchanges=_flag(returns, "exchanges", "returns."),
        ),
        promotions=_promotions(_require(data, "promotions", ""), pages),
        accounts=Accounts(
            lockout_failures=_whole(accounts, "lockout_failures", "accounts.", 1),
            lockout_minutes=_whole(accounts, "lockout_minutes", "accounts.", 1),
        ),
        cancellation_fee_cents=int(_require(data, "cancellation", "").get("fee_cents", 0)),
        payment_methods=tuple(str(m) for m in _require(payment, "methods", "payment.")),
        payment_problems=str(_require(payment, "problems", "payment.")),
        invoice_note=str(_require(data, "invoices", "").get("note", "")),
        currency=str(data.get("currency", "USD")).upper(),
    )


def load_policies(path: Path | None = None, shop_url: str | None = None) -> ShopPolicies:
    """Read shop.yml (or `SHOPDESK_SHOP_SETTINGS`); ShopSettingsError says what is wrong."""
    path = path or CatalogSettings.from_env().shop_settings
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ShopSettingsError(f"shop settings: cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise ShopSettingsError(f"shop settings: {path} is not a mapping")
    return parse_policies(data, shop_url or CatalogSettings.from_env().shop_url)


@cache
def policies() -> ShopPolicies:
    """The settings of this process's shop, read once."""
    return load_policies()
