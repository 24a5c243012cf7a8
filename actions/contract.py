"""The bot's contract: every intent, entity, slot, form and custom action name that Python
code and `bot/domain.yml` share, as `StrEnum`s, so a typo is a NameError at import time and
not a silently empty slot at run time.

`tests/actions/test_contract.py` checks both directions: every name here is declared in the
domain, every name the domain declares is here, and every action, slot, response and form the
actions use exists in the domain. Add a name to the domain and here together.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Intent(StrEnum):
    """Intents the NLU pipeline predicts (domain `intents`)."""

    GREET = "greet"
    GOODBYE = "goodbye"
    THANKS = "thanks"
    AFFIRM = "affirm"
    DENY = "deny"
    BOT_CHALLENGE = "bot_challenge"
    INFORM = "inform"
    OUT_OF_SCOPE = "out_of_scope"
    SEARCH_PRODUCT = "search_product"
    REFINE_SEARCH = "refine_search"
    SHOW_MORE = "show_more"
    SELECT_PRODUCT = "select_product"
    COMPARE_PRODUCTS = "compare_products"
    SIMILAR_PRODUCTS = "similar_products"
    COMPLEMENTARY_PRODUCTS = "complementary_products"
    PRODUCT_QUESTION = "product_question"
    PRODUCT_REVIEWS = "product_reviews"
    CHECK_AVAILABILITY = "check_availability"
    RECOMMEND_FOR_ME = "recommend_for_me"
    CANCEL_ORDER = "cancel_order"
    CHANGE_ORDER = "change_order"
    CHANGE_SHIPPING_ADDRESS = "change_shipping_address"
    CHECK_CANCELLATION_FEE = "check_cancellation_fee"
    CHECK_INVOICE = "check_invoice"
    CHECK_PAYMENT_METHODS = "check_payment_methods"
    CHECK_REFUND_POLICY = "check_refund_policy"
    COMPLAINT = "complaint"
    CONTACT_CUSTOMER_SERVICE = "contact_customer_service"
    CONTACT_HUMAN_AGENT = "contact_human_agent"
    CREATE_ACCOUNT = "create_account"
    DELETE_ACCOUNT = "delete_account"
    DELIVERY_OPTIONS = "delivery_options"
    DELIVERY_PERIOD = "delivery_period"
    EDIT_ACCOUNT = "edit_account"
    GET_INVOICE = "get_invoice"
    GET_REFUND = "get_refund"
    NEWSLETTER_SUBSCRIPTION = "newsletter_subscription"
    PAYMENT_ISSUE = "payment_issue"
    PLACE_ORDER = "place_order"
    RECOVER_PASSWORD = "recover_password"
    REGISTRATION_PROBLEMS = "registration_problems"
    REVIEW = "review"
    SET_UP_SHIPPING_ADDRESS = "set_up_shipping_address"
    SWITCH_ACCOUNT = "switch_account"
    TRACK_ORDER = "track_order"
    TRACK_REFUND = "track_refund"
    PROMO_CODE = "promo_code"
    LOGIN_TROUBLE = "login_trouble"
    EXCHANGE_ITEM = "exchange_item"
    LEAVE_MESSAGE = "leave_message"
    CONTINUE_WITH_BOT = "continue_with_bot"
    HANDOFF_TIMEOUT = "handoff_timeout"
    RATE_CONVERSATION = "rate_conversation"
    CLASSIFIER_UNAVAILABLE = "classifier_unavailable"


class Entity(StrEnum):
    """Entities the extractors fill (domain `entities`)."""

    ORDER_NUMBER = "order_number"
    EMAIL = "email"
    PRICE_MIN = "price_min"
    PRICE_MAX = "price_max"
    COLOR = "color"
    SIZE = "size"
    GENDER = "gender"
    CATEGORY = "category"
    PRODUCT = "product"
    ORDINAL = "ordinal"
    CONVERSATION_RATING = "conversation_rating"


class Slot(StrEnum):
    """Slots the tracker keeps (domain `slots`)."""

    ORDER_NUMBER = "order_number"
    EMAIL = "email"
    VERIFIED_ORDER_NUMBER = "verified_order_number"
    VERIFIED_CUSTOMER_EMAIL = "verified_customer_email"
    VERIFICATION_FAILURES = "verification_failures"
    CANCEL_CONFIRMED = "cancel_confirmed"
    STREET = "street"
    CITY = "city"
    REGION = "region"
    POSTCODE = "postcode"
    ADDRESS_CONFIRMED = "address_confirmed"
    RETURN_ITEM = "return_item"
    RETURN_REASON = "return_reason"
    DELETE_CONFIRMED = "delete_confirmed"
    NEWSLETTER_CHOICE = "newsletter_choice"
    NEWSLETTER_EMAIL = "newsletter_email"
    COMPLAINT_TEXT = "complaint_text"
    REVIEW_PRODUCT = "review_product"
    REVIEW_RATING = "review_rating"
    REVIEW_TEXT = "review_text"
    HANDOFF_STATUS = "handoff_status"
    MESSAGE_TEXT = "message_text"
    CONTACT_EMAIL = "contact_email"
    SEARCH_REQUEST = "search_request"
    SHOWN_PRODUCTS = "shown_products"
    FOCUSED_PRODUCT = "focused_product"
    SEARCH_HITS = "search_hits"
    HANDOFF_REASON = "handoff_reason"
    CONVERSATION_RATING = "conversation_rating"
    SHOP_NAME = "shop_name"  # shop.yml `name`, the slot's initial value (launcher/shop_domain.py)


class Form(StrEnum):
    """Forms (domain `forms`)."""

    TRACK_ORDER_FORM = "track_order_form"
    TRACK_REFUND_FORM = "track_refund_form"
    INVOICE_FORM = "invoice_form"
    CANCEL_ORDER_FORM = "cancel_order_form"
    CHANGE_ADDRESS_FORM = "change_address_form"
    RETURN_FORM = "return_form"
    DELETE_ACCOUNT_FORM = "delete_account_form"
    NEWSLETTER_FORM = "newsletter_form"
    COMPLAINT_FORM = "complaint_form"
    REVIEW_FORM = "review_form"
    LEAVE_MESSAGE_FORM = "leave_message_form"


class Action(StrEnum):
    """Custom actions and form validators the action server runs (domain `actions`)."""

    ACTION_SEARCH_PRODUCTS = "action_search_products"
    ACTION_ROUTE_INFORM = "action_route_inform"
    ACTION_REFINE_SEARCH = "action_refine_search"
    ACTION_SHOW_MORE = "action_show_more"
    ACTION_SELECT_PRODUCT = "action_select_product"
    ACTION_COMPARE_PRODUCTS = "action_compare_products"
    ACTION_SIMILAR_PRODUCTS = "action_similar_products"
    ACTION_COMPLEMENTARY_PRODUCTS = "action_complementary_products"
    ACTION_PRODUCT_QUESTION = "action_product_question"
    ACTION_PRODUCT_REVIEWS = "action_product_reviews"
    ACTION_CHECK_AVAILABILITY = "action_check_availability"
    ACTION_RECOMMEND_FOR_ME = "action_recommend_for_me"
    ACTION_SHOP_ANSWER = "action_shop_answer"
    VALIDATE_TRACK_ORDER_FORM = "validate_track_order_form"
    VALIDATE_TRACK_REFUND_FORM = "validate_track_refund_form"
    VALIDATE_INVOICE_FORM = "validate_invoice_form"
    VALIDATE_CANCEL_ORDER_FORM = "validate_cancel_order_form"
    VALIDATE_CHANGE_ADDRESS_FORM = "validate_change_address_form"
    VALIDATE_RETURN_FORM = "validate_return_form"
    ACTION_ORDER_STATUS = "action_order_status"
    ACTION_REFUND_STATUS = "action_refund_status"
    ACTION_INVOICE = "action_invoice"
    ACTION_CANCEL_ORDER = "action_cancel_order"
    ACTION_CHANGE_ADDRESS = "action_change_address"
    ACTION_SUBMIT_RETURN = "action_submit_return"
    ACTION_ASK_CANCEL_CONFIRMED = "action_ask_cancel_confirmed"
    ACTION_ASK_ADDRESS_CONFIRMED = "action_ask_address_confirmed"
    ACTION_ASK_RETURN_ITEM = "action_ask_return_item"
    ACTION_ASK_RETURN_REASON = "action_ask_return_reason"
    VALIDATE_DELETE_ACCOUNT_FORM = "validate_delete_account_form"
    VALIDATE_NEWSLETTER_FORM = "validate_newsletter_form"
    VALIDATE_COMPLAINT_FORM = "validate_complaint_form"
    VALIDATE_REVIEW_FORM = "validate_review_form"
    ACTION_DELETE_ACCOUNT = "action_delete_account"
    ACTION_NEWSLETTER = "action_newsletter"
    ACTION_SUBMIT_COMPLAINT = "action_submit_complaint"
    ACTION_SUBMIT_REVIEW = "action_submit_review"
    ACTION_RECORD_RATING = "action_record_rating"
    ACTION_ASK_DELETE_CONFIRMED = "action_ask_delete_confirmed"
    ACTION_ASK_NEWSLETTER_CHOICE = "action_ask_newsletter_choice"
    ACTION_ASK_REVIEW_PRODUCT = "action_ask_review_product"
    ACTION_ASK_REVIEW_RATING = "action_ask_review_rating"
    ACTION_OFFER_HUMAN = "action_offer_human"
    ACTION_HANDOFF = "action_handoff"
    ACTION_NO_HUMAN = "action_no_human"
    ACTION_FALLBACK = "action_fallback"
    ACTION_STOP = "action_stop"
    ACTION_HANDOFF_TIMEOUT = "action_handoff_timeout"
    VALIDATE_LEAVE_MESSAGE_FORM = "validate_leave_message_form"
    ACTION_LEAVE_MESSAGE = "action_leave_message"


# Actions Rasa 3.6 logs on its own around every turn; they are not the bot's behaviour, so the
# story replay (launcher/stories) does not compare them and learning/story_writer.py leaves them out
# of the stories it writes. (action_extract_slots runs after every user message but is not
# logged as an action; its slot events come right after the user event, before the first one.)
IGNORED_ACTIONS: Final[frozenset[str]] = frozenset(
    {"action_listen", "action_session_start", "action_extract_slots"}
)
