"""Answers to the shop's questions (delivery, payment, accounts, policies) from shop.yml.

One action answers every such intent, so a shop changes its settings, not the bot: the
sentences are responses of bot/domain.yml (`utter_answer_<what>`), shop.yml fills their
variables (pages, fees in the shop's currency, days, addresses). Asked in
the middle of a form, Rasa's RulePolicy runs the form again after the answer, and the form asks
its question again. Where only a person can finish (one particular discount code, an account
that won't sign in) the rules offer one after the answer (bot/data/rules.yml); an exchange's
answer carries buttons for the two ways on: start a return, or talk to a person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contract import Action as ActionName
from actions.contract import Intent
from actions.forms import latest_intent
from actions.handoff import ActionFallback, previous_turn_actions
from actions.inform import as_shopping
from actions.replies import Reply
from catalog.policies import ShopPolicies, ShopSettingsError, policies
from core.money import format_money


def _money(p: ShopPolicies, cents: int) -> str:
    return format_money(cents, p.currency)


def _listed(names: tuple[str, ...]) -> str:
    """ "Alaska, Hawaii and Guam": shop.yml's names as one phrase."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# (weekdays only, a remote surcharge) -> the response that says so; shop.yml picks.
_DELIVERY_OPTIONS = {
    (True, True): "utter_answer_delivery_options",
    (False, True): "utter_answer_delivery_options_every_day",
    (True, False): "utter_answer_delivery_options_no_remote",
    (False, False): "utter_answer_delivery_options_every_day_no_remote",
}


def _delivery_options(p: ShopPolicies) -> Reply:
    """Where, how and from what fee; the remote regions' surcharge only where a shop has one."""
    delivery = p.delivery
    methods = "; ".join(
        f"{m.name} ({m.days}) from {_money(p, m.fees_cents[0])}" for m in delivery.methods
    )
    variables: dict[str, Any] = {
        "ships_to": _listed(delivery.ships_to_names or delivery.ships_to),
        "methods": methods,
        "first_band": _money(p, delivery.bands_cents[0]),
        "fees_page": p.page("customer_service"),
    }
    remote = bool(delivery.remote_surcharge_cents and delivery.remote_regions)
    if remote:
        variables |= {
            "remote_regions": _listed(delivery.remote_region_names or delivery.remote_regions),
            "remote_surcharge": _money(p, delivery.remote_surcharge_cents),
            # the surcharge applies to the first method (catalog/demo/order_book.py)
            "remote_method": delivery.methods[0].name,
        }
    return Reply(_DELIVERY_OPTIONS[delivery.weekdays_only, remote], variables)


def _delivery_period(p: ShopPolicies) -> Reply:
    times = "; ".join(f"{m.name}: {m.days}" for m in p.delivery.methods)
    return Reply(
        "utter_answer_delivery_period"
        if p.delivery.weekdays_only
        else "utter_answer_delivery_period_every_day",
        {
            "times": times,
            "cutoff": p.delivery.cutoff,
            "processing_note": p.delivery.processing_note,
        },
    )


def _returns(p: ShopPolicies) -> dict[str, Any]:
    r = p.returns
    return {
        "window_days": r.window_days,
        "conditions": r.conditions,
        "processing_days": r.processing_days,
        "refund_to": r.refund_to,
    }


def _cancellation_fee(p: ShopPolicies) -> Reply:
    window = {"window_days": p.returns.window_days}
    if p.cancellation_fee_cents == 0:
        return Reply("utter_answer_cancellation_free", window)
    fee = _money(p, p.cancellation_fee_cents)
    return Reply("utter_answer_cancellation_fee", {**window, "fee": fee})


# How a page holding the discount-code field is named in a sentence; others by their key.
_PAGE_PHRASES = {"cart": "in your cart", "checkout": "at checkout"}


def _promo_code(p: ShopPolicies) -> Reply:
    """The rules of discount codes; whether one code is valid, a person checks (offered next).

    The response has a variant for codes added after ordering; the optional limits (more than
    one code, exclusions, a minimum spend) are phrased here, from shop.yml's lists."""
    promo = p.promotions
    where = " or ".join(
        f"{_PAGE_PHRASES.get(page, f'on the {page} page')} ({p.page(page)})"
        for page in promo.entry_pages
    )
    per_order = (
        "one code per order"
        if promo.codes_per_order == 1
        else f"up to {promo.codes_per_order} codes per order"
    )
    exclusions = ""
    if promo.not_valid_on:
        exclusions = f", and codes don't apply to {' or '.join(promo.not_valid_on)}"
    minimum = ""
    if promo.minimum_spend_cents:
        minimum = f" Codes need an order of at least {_money(p, promo.minimum_spend_cents)}."
    late = promo.added_after_order
    return Reply(
        "utter_answer_promo_code_late" if late else "utter_answer_promo_code",
        {
            "entry_field": promo.entry_field,
            "where": where,
            "per_order": per_order,
            "exclusions": exclusions,
            "minimum": minimum,
            "expiry": promo.expiry,
        },
    )


def _login_trouble(p: ShopPolicies) -> Reply:
    """Concrete steps for the common causes, before a person looks at the account."""
    return Reply(
        "utter_answer_login_trouble",
        {
            "sign_in_page": p.page("sign_in"),
            "lockout_failures": p.accounts.lockout_failures,
            "lockout_minutes": p.accounts.lockout_minutes,
            "forgot_password_page": p.page("forgot_password"),
        },
    )


def _exchange_item(p: ShopPolicies) -> Reply:
    """Without direct exchanges, the way to another size is a return plus a new order."""
    if p.returns.exchanges:
        return Reply("utter_answer_exchange_by_person", _returns(p))
    return Reply("utter_answer_exchange_by_return", _returns(p))


def _pages(response: str, *names: str) -> Callable[[ShopPolicies], Reply]:
    """An answer that names only shop pages: `{<name>_page}` for each of `names`."""
    return lambda p: Reply(response, {f"{name}_page": p.page(name) for name in names})


ANSWERS: dict[str, Callable[[ShopPolicies], Reply]] = {
    Intent.DELIVERY_OPTIONS: _delivery_options,
    Intent.DELIVERY_PERIOD: _delivery_period,
    Intent.CHECK_PAYMENT_METHODS: lambda p: Reply(
        "utter_answer_payment_methods", {"methods": "; ".join(p.payment_methods)}
    ),
    Intent.PAYMENT_ISSUE: lambda p: Reply(
        "utter_answer_payment_issue",
        {"payment_problems": p.payment_problems, "support_email": p.support.email},
    ),
    Intent.CHECK_REFUND_POLICY: lambda p: Reply("utter_answer_refund_policy", _returns(p)),
    Intent.CHECK_CANCELLATION_FEE: _cancellation_fee,
    Intent.PLACE_ORDER: _pages("utter_answer_place_order", "checkout"),
    Intent.CHANGE_ORDER: lambda p: Reply("utter_answer_change_order"),
    Intent.CREATE_ACCOUNT: _pages("utter_answer_create_account", "create_account"),
    Intent.EDIT_ACCOUNT: _pages("utter_answer_edit_account", "edit_account", "address_book"),
    Intent.SWITCH_ACCOUNT: _pages("utter_answer_switch_account", "account", "sign_in"),
    Intent.RECOVER_PASSWORD: _pages("utter_answer_recover_password", "forgot_password"),
    Intent.REGISTRATION_PROBLEMS: lambda p: Reply(
        "utter_answer_registration_problems",
        {"forgot_password_page": p.page("forgot_password"), "support_email": p.support.email},
    ),
    Intent.SET_UP_SHIPPING_ADDRESS: _pages("utter_answer_shipping_address", "address_book"),
    Intent.CONTACT_CUSTOMER_SERVICE: lambda p: Reply(
        "utter_answer_contact",
        {
            "support_email": p.support.email,
            "support_phone": p.support.phone,
            "support_hours": p.support.hours,
            "contact_page": p.page("contact"),
        },
    ),
    Intent.BOT_CHALLENGE: lambda p: Reply("utter_answer_bot_challenge", {"shop_name": p.name}),
    Intent.OUT_OF_SCOPE: lambda p: Reply("utter_answer_out_of_scope", {"shop_name": p.name}),
    Intent.THANKS: lambda p: Reply("utter_answer_thanks"),
    Intent.AFFIRM: lambda p: Reply("utter_answer_affirm"),
    Intent.PROMO_CODE: _promo_code,
    Intent.LOGIN_TROUBLE: _login_trouble,
    Intent.EXCHANGE_ITEM: _exchange_item,
}


class Button(TypedDict):
    title: str
    payload: str  # an intent as Rasa reads a button: "/get_refund"


# Quick replies after an answer, where the shopper's next step is one of a few tasks.
BUTTONS: dict[str, list[Button]] = {
    Intent.EXCHANGE_ITEM: [
        {"title": "Start a return", "payload": f"/{Intent.GET_REFUND}"},
        {"title": "Talk to a person", "payload": f"/{Intent.CONTACT_HUMAN_AGENT}"},
    ],
}


class ActionShopAnswer(Action):
    def name(self) -> str:
        return ActionName.ACTION_SHOP_ANSWER

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent, _ = latest_intent(tracker)
        if intent == Intent.OUT_OF_SCOPE and not (tracker.active_loop or {}).get("name"):
            # "do you still sell the hero hoodie" read as none of the shop's business
            shopping = as_shopping(dispatcher, tracker, domain)
            if shopping is not None:
                return shopping
            if ActionFallback().name() in previous_turn_actions(tracker):
                # not understood, and then nothing the shop does: the shopper is stuck, so
                # the fallback's second stage offers a person
                return ActionFallback().run(dispatcher, tracker, domain)
        answer = ANSWERS.get(intent or "")
        try:
            reply = answer(policies()) if answer else None
        except (ShopSettingsError, KeyError):
            reply = None
        if reply is None:
            dispatcher.utter_message(response="utter_answer_unavailable")
        else:
            reply.send(dispatcher, buttons=list(BUTTONS.get(intent or "", [])))
        return []
