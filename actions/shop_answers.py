"""Answers to the shop's questions (delivery, payment, accounts, policies) from shop.yml.

One action answers every such intent, so a shop changes its settings, not the bot. Asked in
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

from actions.forms import latest_intent
from actions.handoff import ActionFallback, previous_turn_actions
from actions.inform import as_shopping
from catalog.policies import ShopPolicies, ShopSettingsError, policies

OUT_OF_SCOPE = "out_of_scope"


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _delivery_options(p: ShopPolicies) -> str:
    methods = "; ".join(
        f"{m.name} ({m.days}) from {money(m.fees_cents[0])}" for m in p.delivery.methods
    )
    return (
        f"We deliver on weekdays within the {', '.join(p.delivery.ships_to)}: {methods} for "
        f"merchandise up to {money(p.delivery.bands_cents[0])}; larger orders pay a little more "
        f"(see {p.page('customer_service')}). Alaska, Hawaii, Puerto Rico and Guam add "
        f"{money(p.delivery.remote_surcharge_cents)} to Standard."
    )


def _delivery_period(p: ShopPolicies) -> str:
    times = "; ".join(f"{m.name}: {m.days}" for m in p.delivery.methods)
    return (
        f"Delivery times after processing: {times}. The estimate assumes you order before "
        f"{p.delivery.cutoff}, and deliveries happen on weekdays only. "
        f"{p.delivery.processing_note}"
    )


def _payment_methods(p: ShopPolicies) -> str:
    return "You can pay with: " + "; ".join(p.payment_methods) + "."


def _refund_policy(p: ShopPolicies) -> str:
    r = p.returns
    return (
        f"We gladly accept returns of {r.conditions} within {r.window_days} days of delivery. "
        f"Once we receive the items, allow {r.processing_days} to process the return; the "
        f'refund goes to {r.refund_to}. I can start a return for you: just say "I want to '
        'return an item".'
    )


def _cancellation_fee(p: ShopPolicies) -> str:
    fee = "free" if p.cancellation_fee_cents == 0 else f"{money(p.cancellation_fee_cents)}"
    return (
        f"Cancelling an order is {fee} as long as it has not shipped. Once it has shipped it "
        f"can't be cancelled, but you can return it within {p.returns.window_days} days of "
        'delivery. I can cancel an order for you: say "cancel my order".'
    )


# How a page holding the discount-code field is named in a sentence; others by their key.
_PAGE_PHRASES = {"cart": "in your cart", "checkout": "at checkout"}


def _promo_code(p: ShopPolicies) -> str:
    """The rules of discount codes; whether one code is valid, a person checks (offered next)."""
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
    parts = [f"Enter a discount code in the “{promo.entry_field}” field {where}."]
    limits = f"You can use {per_order}"
    if promo.not_valid_on:
        limits += f", and codes don't apply to {' or '.join(promo.not_valid_on)}"
    parts.append(limits + ".")
    if promo.minimum_spend_cents:
        parts.append(f"Codes need an order of at least {money(promo.minimum_spend_cents)}.")
    parts.append(promo.expiry)
    if promo.added_after_order:
        parts.append("Forgot a code? Our team can still apply it to an order that hasn't shipped.")
    else:
        parts.append("A code can't be added to an order that is already placed.")
    parts.append("If your code should work and doesn't, our team can check it.")
    return " ".join(parts)


def _login_trouble(p: ShopPolicies) -> str:
    """Concrete steps for the common causes, before a person looks at the account."""
    a = p.accounts
    return (
        f"Sorry you can't sign in. At {p.page('sign_in')} use the e-mail address your account "
        "was created with (check its spelling) and your password, which is case-sensitive "
        "(check Caps Lock). Signing in needs cookies: allow them for our site or try a "
        f"private window. After {a.lockout_failures} wrong passwords in a row the account is "
        f"locked for {a.lockout_minutes} minutes; wait, then try again. If it says your "
        f"password is wrong, choose a new one at {p.page('forgot_password')}. If it still "
        "fails, our team can check your account."
    )


def _exchange_item(p: ShopPolicies) -> str:
    """Without direct exchanges, the way to another size is a return plus a new order."""
    r = p.returns
    if r.exchanges:
        return (
            "You can exchange an item for another size or colour within "
            f"{r.window_days} days of delivery (we accept {r.conditions}). A person from our "
            "team arranges the exchange; if you'd rather have your money back, say \"I want to "
            'return an item".'
        )
    return (
        "We don't swap items directly. For another size or colour, return the item within "
        f"{r.window_days} days of delivery ({r.conditions}) and place a new order for the one "
        "you want: it ships right away. Once we receive the return, allow "
        f"{r.processing_days} for the refund to {r.refund_to}. I can start the return for "
        'you: say "I want to return an item".'
    )


def _contact(p: ShopPolicies) -> str:
    s = p.support
    return (
        f"You can reach our customer service at {s.email} or {s.phone} ({s.hours}), or through "
        f"{p.page('contact')}."
    )


ANSWERS: dict[str, Callable[[ShopPolicies], str]] = {
    "delivery_options": _delivery_options,
    "delivery_period": _delivery_period,
    "check_payment_methods": _payment_methods,
    "payment_issue": lambda p: (
        f"Sorry about the trouble with your payment. {p.payment_problems} If it still fails, "
        f"our team can help: {p.support.email}."
    ),
    "check_refund_policy": _refund_policy,
    "check_cancellation_fee": _cancellation_fee,
    "place_order": lambda p: (
        'To place an order, open a product, choose its colour and size, press "Add to Cart", '
        f"then check out at {p.page('checkout')}. I can help you find products: tell me what "
        "you are looking for."
    ),
    "change_order": lambda p: (
        "Items of an order can't be changed once it is placed. While it has not shipped I can "
        "cancel it so you can order again, or change its shipping address; after delivery you "
        "can return items."
    ),
    "create_account": lambda p: (
        f"You can create an account at {p.page('create_account')}: enter your name, e-mail "
        "address and a password. Your orders, invoices and addresses are then in one place."
    ),
    "edit_account": lambda p: (
        f"Sign in and open {p.page('edit_account')} to change your name, e-mail address or "
        f"password; addresses are in your address book ({p.page('address_book')})."
    ),
    "switch_account": lambda p: (
        f"To use another account, sign out from {p.page('account')} and sign in with the "
        f"other account's e-mail address at {p.page('sign_in')}."
    ),
    "recover_password": lambda p: (
        f"Open {p.page('forgot_password')}, enter your account's e-mail address and we'll send "
        "you a link to choose a new password. The link works for 24 hours; check your spam "
        "folder if it doesn't arrive."
    ),
    "registration_problems": lambda p: (
        f"Sorry that signing up isn't working. Check that the e-mail address isn't already "
        f"registered (then use {p.page('forgot_password')}), that the password has at least 8 "
        "characters with letters and digits, and that both password fields match. If it still "
        f"fails, write to {p.support.email}."
    ),
    "set_up_shipping_address": lambda p: (
        f"Add or change your saved addresses in your address book at {p.page('address_book')}; "
        "at checkout you can also enter a new one. To change the address of an order that "
        'hasn\'t shipped, say "change the shipping address of my order".'
    ),
    "contact_customer_service": _contact,
    "bot_challenge": lambda p: (
        f"I'm {p.name}'s virtual assistant, a bot. I can pass you to a person whenever you "
        "like: just ask."
    ),
    "out_of_scope": lambda p: (
        f"Sorry, I can't help with that. I'm the {p.name} shop's assistant: I can find "
        "products, track, cancel or return orders and answer questions about delivery, payment "
        "and your account."
    ),
    "thanks": lambda p: "You're welcome! Is there anything else I can do for you?",
    "affirm": lambda p: "Great. What can I do for you?",
    "promo_code": _promo_code,
    "login_trouble": _login_trouble,
    "exchange_item": _exchange_item,
}


class Button(TypedDict):
    title: str
    payload: str  # an intent as Rasa reads a button: "/get_refund"


# Quick replies after an answer, where the shopper's next step is one of a few tasks.
BUTTONS: dict[str, list[Button]] = {
    "exchange_item": [
        {"title": "Start a return", "payload": "/get_refund"},
        {"title": "Talk to a person", "payload": "/contact_human_agent"},
    ],
}


class ActionShopAnswer(Action):
    def name(self) -> str:
        return "action_shop_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent, _ = latest_intent(tracker)
        if intent == OUT_OF_SCOPE and not (tracker.active_loop or {}).get("name"):
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
            text = answer(policies()) if answer else None
        except (ShopSettingsError, KeyError):
            text = None
        if text is None:
            dispatcher.utter_message(
                text="Sorry, I can't answer that right now. Please try our Contact Us page."
            )
        else:
            dispatcher.utter_message(text=text, buttons=list(BUTTONS.get(intent or "", [])))
        return []
