"""The shop's settings (shop.yml): delivery, returns, payment, promotions, accounts, support.

Typed and checked once at load, so a typo in the shop's file is a clear error at start-up and
not a wrong answer to a shopper later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

from catalog.business_hours import (
    ALL_DAY,
    WEEKDAY_KEYS,
    BusinessHours,
    BusinessHoursError,
    parse_business_hours,
)
from catalog.settings import CatalogSettings

DEFAULT_HANDOFF_WAIT_MINUTES: Final = 5
# Every key shop.yml may hold, by section: anything else is refused at load as a likely typo,
# and tests/catalog/test_shop_settings_keys.py checks that each is read by some code.
# fmt: off
TOP_KEYS: Final = frozenset({
    "name", "currency", "support", "pages", "delivery", "returns", "cancellation",
    "promotions", "accounts", "payment", "invoices",
})
SECTION_KEYS: Final[dict[str, frozenset[str]]] = {
    "support": frozenset({
        "email", "phone", "hours", "handoff_wait_minutes", "time_zone", "hours_by_day",
        "holidays",
    }),
    "delivery": frozenset({
        "weekdays_only", "cutoff", "processing_note", "remote_surcharge_cents",
        "remote_regions", "ships_to", "methods", "bands_cents",
    }),
    "delivery.methods[]": frozenset({"name", "days", "fees_cents"}),
    "returns": frozenset({
        "window_days", "processing_days", "conditions", "reasons", "refund_to", "exchanges",
    }),
    "cancellation": frozenset({"fee_cents"}),
    "promotions": frozenset({
        "entry_field", "entry_pages", "codes_per_order", "not_valid_on",
        "minimum_spend_cents", "expiry", "added_after_order",
    }),
    "accounts": frozenset({"lockout_failures", "lockout_minutes"}),
    "payment": frozenset({"methods", "problems"}),
    "invoices": frozenset({"note"}),
}
# fmt: on


class ShopSettingsError(ValueError):
    """shop.yml is missing, unreadable, lacks a field, or has a value or key it can't have."""


@dataclass(frozen=True)
class DeliveryMethod:
    name: str
    days: str
    fees_cents: tuple[int, ...]


@dataclass(frozen=True)
class Delivery:
    weekdays_only: bool  # deliveries on weekdays only, or every day
    cutoff: str
    processing_note: str
    remote_surcharge_cents: int
    remote_regions: tuple[str, ...]  # region codes, as addresses hold them
    ships_to: tuple[str, ...]  # country codes
    methods: tuple[DeliveryMethod, ...]
    bands_cents: tuple[int, ...]
    # How the answers name them ("Alaska"); the code itself where shop.yml gives no name.
    remote_region_names: tuple[str, ...] = ()
    ships_to_names: tuple[str, ...] = ()

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
    hours: str  # the shop's own words for its hours, quoted by the contact answer
    handoff_wait_minutes: int  # the web server's handoff timeout (web/settings.py)
    # None: no hours given, so a person is always offered (as before business hours existed).
    business_hours: BusinessHours | None = None


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


def _known(data: object, section: str) -> dict[str, Any]:
    """`data` as a mapping holding only the keys shop.yml may have there."""
    where = f"`{section}`" if section else "the top level"
    if not isinstance(data, Mapping):
        raise ShopSettingsError(f"shop settings: {where} must be a mapping of settings")
    allowed = SECTION_KEYS[section] if section else TOP_KEYS
    unknown = sorted(str(key) for key in data if str(key) not in allowed)
    if unknown:
        raise ShopSettingsError(
            f"shop settings: unknown key {', '.join(unknown)} in {where} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    return {str(key): value for key, value in data.items()}


def _named(value: object, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Codes and how the answers name them: a list of codes, or a mapping code -> name."""
    if isinstance(value, Mapping):
        if any(isinstance(code, bool) for code in value):
            # YAML reads a bare NO (Norway) or ON as true or false
            raise ShopSettingsError(f'shop settings: quote the codes in `{where}` ("NO": Norway)')
        return tuple(str(k) for k in value), tuple(str(v) for v in value.values())
    if isinstance(value, list):
        codes = tuple(str(code) for code in value)
        return codes, codes
    raise ShopSettingsError(
        f"shop settings: `{where}` must be a list of codes or a mapping of code to name"
    )


def _support(data: object) -> Support:
    where = "support."
    support = _known(data, "support")
    hours = None
    if "hours_by_day" in support:
        try:
            hours = parse_business_hours(
                support["hours_by_day"],
                _require(support, "time_zone", where),
                support.get("holidays"),
                where,
            )
        except BusinessHoursError as error:
            raise ShopSettingsError(f"shop settings: {error}") from None
    elif "time_zone" in support or "holidays" in support:
        raise ShopSettingsError(
            f"shop settings: `{where}time_zone` and `{where}holidays` need `{where}hours_by_day`"
        )
    return Support(
        email=str(_require(support, "email", where)),
        phone=str(_require(support, "phone", where)),
        hours=str(_require(support, "hours", where)),
        handoff_wait_minutes=(
            _whole(support, "handoff_wait_minutes", where, 1)
            if "handoff_wait_minutes" in support
            else DEFAULT_HANDOFF_WAIT_MINUTES
        ),
        business_hours=hours,
    )


def _promotions(data: dict[str, Any], pages: dict[str, str]) -> Promotions:
    where = "promotions."
    data = _known(data, "promotions")
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
    data = _known(data, "")
    support = _require(data, "support", "")
    delivery = _known(_require(data, "delivery", ""), "delivery")
    returns = _known(_require(data, "returns", ""), "returns")
    payment = _known(_require(data, "payment", ""), "payment")
    accounts = _known(_require(data, "accounts", ""), "accounts")
    pages = {str(k): str(v) for k, v in _require(data, "pages", "").items()}
    methods = tuple(
        DeliveryMethod(
            name=str(_require(m, "name", "delivery.methods[].")),
            days=str(_require(m, "days", "delivery.methods[].")),
            fees_cents=tuple(int(f) for f in _require(m, "fees_cents", "delivery.methods[].")),
        )
        for m in (
            _known(method, "delivery.methods[]")
            for method in _require(delivery, "methods", "delivery.")
        )
    )
    bands = tuple(int(b) for b in _require(delivery, "bands_cents", "delivery."))
    if any(len(m.fees_cents) != len(bands) + 1 for m in methods):
        raise ShopSettingsError("shop settings: each delivery method needs one fee per band + 1")
    remote_regions, remote_names = _named(
        delivery.get("remote_regions", []), "delivery.remote_regions"
    )
    ships_to, ships_to_names = _named(
        _require(delivery, "ships_to", "delivery."), "delivery.ships_to"
    )
    return ShopPolicies(
        name=str(_require(data, "name", "")),
        shop_url=shop_url,
        support=_support(support),
        pages=pages,
        delivery=Delivery(
            weekdays_only=_flag(delivery, "weekdays_only", "delivery."),
            cutoff=str(_require(delivery, "cutoff", "delivery.")),
            processing_note=str(delivery.get("processing_note", "")),
            remote_surcharge_cents=int(delivery.get("remote_surcharge_cents", 0)),
            remote_regions=remote_regions,
            ships_to=ships_to,
            methods=methods,
            bands_cents=bands,
            remote_region_names=remote_names,
            ships_to_names=ships_to_names,
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
        cancellation_fee_cents=int(
            _known(_require(data, "cancellation", ""), "cancellation").get("fee_cents", 0)
        ),
        payment_methods=tuple(str(m) for m in _require(payment, "methods", "payment.")),
        payment_problems=str(_require(payment, "problems", "payment.")),
        invoice_note=str(_known(_require(data, "invoices", ""), "invoices").get("note", "")),
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


def write_always_open(source: Path, target: Path) -> Path:
    """A copy of the shop settings `source` whose support is in at every hour, for stacks of
    their own (tests, stories, benchmarks): what a handoff does must not depend on the hour
    they happen to run at. Everything else stays the shop's."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    support = data.get("support") if isinstance(data, dict) else None
    if isinstance(support, dict) and "hours_by_day" in support:
        support["hours_by_day"] = dict.fromkeys(WEEKDAY_KEYS, ALL_DAY)
        support["holidays"] = []
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return target


@cache
def policies() -> ShopPolicies:
    """The settings of this process's shop, read once."""
    return load_policies()
