"""Settings of the demo Oscar shop: Oscar 3.2's minimal project, plus ShopDesk's API needs.

Everything it writes (the SQLite database, the generated secret key, media) lives in one
folder, `OSCAR_DEMO_HOME` (default: var/oscar_demo/ under the repository), so tests give each
run its own. DEBUG is off and logs say only warnings: it is a shop that answers an API, as a
real one would, not a development server. `SECRET_KEY` comes from `OSCAR_DEMO_SECRET_KEY`, or
is generated once into an owner-only file in the home folder (never on a command line).

What a shop connecting ShopDesk configures beyond Oscar's defaults:
- django-oscar-api with `OSCARAPI_BLOCK_ADMIN_API_ACCESS = False`, so staff users reach
  `/api/admin/orders/`; DRF token auth (`Authorization: Token <key>`) for the API user;
- the order status pipeline of shopdesk_oscar/statuses.py;
- `OSCARAPI_OVERRIDE_MODULES` (shopdesk_oscar/api/): the admin order API also shows the
  customer's name and shipping events, finds an order by `?number=`, and lets staff PATCH an
  order's status and shipping address under the pipeline's rules;
- `OSCARAPI_ORDERLINE_FIELDS`: order lines also show their id, title, SKU and line price.
"""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

from oscar.defaults import *  # noqa: F403 (Oscar's documented way: its defaults, then ours)

from shopdesk_oscar import statuses

PROJECT_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = PROJECT_DIR.parent.parent
HOME = Path(os.environ.get("OSCAR_DEMO_HOME") or REPO_ROOT / "var" / "oscar_demo").resolve()
SECRET_KEY_FILE = HOME / "secret_key"
SECRET_KEY_BYTES = 48
OWNER_ONLY = 0o600


def _secret_key() -> str:
    """The environment's key, else the one generated into an owner-only file at first start."""
    given = os.environ.get("OSCAR_DEMO_SECRET_KEY", "").strip()
    if given:
        return given
    HOME.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(SECRET_KEY_BYTES))
    return SECRET_KEY_FILE.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "django_tables2",
    "rest_framework",
    "rest_framework.authtoken",
    "oscarapi",
    "shopdesk_oscar",  # its management command load_shopdesk_demo
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
ROOT_URLCONF = "shopdesk_oscar.urls"
WSGI_APPLICATION = "shopdesk_oscar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(HOME / "oscar.sqlite3"),
        "ATOMIC_REQUESTS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = str(HOME / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = str(HOME / "media")

# The shop: US dollars, ShopDesk's order states.
OSCAR_SHOP_NAME = "Luma (ShopDesk demo)"
OSCAR_DEFAULT_CURRENCY = "USD"
OSCAR_INITIAL_ORDER_STATUS = statuses.PENDING
OSCAR_INITIAL_LINE_STATUS = statuses.PENDING
OSCAR_ORDER_STATUS_PIPELINE = statuses.ORDER_STATUS_PIPELINE
OSCAR_ORDER_STATUS_CASCADE = statuses.ORDER_STATUS_CASCADE
OSCAR_LINE_STATUS_PIPELINE = statuses.LINE_STATUS_PIPELINE

# The API: staff may use the admin API, with a token (DRF) or a session (the browsable API).
OSCARAPI_BLOCK_ADMIN_API_ACCESS = False
OSCARAPI_INITIAL_ORDER_STATUS = statuses.PENDING
OSCARAPI_OVERRIDE_MODULES = ["shopdesk_oscar.api"]
OSCARAPI_ORDERLINE_FIELDS = (
    "id",
    "url",
    "product",
    "stockrecord",
    "title",
    "upc",
    "partner_sku",
    "quantity",
    "status",
    "price_currency",
    "price_excl_tax",
    "price_incl_tax",
    "price_incl_tax_excl_discounts",
    "price_excl_tax_excl_discounts",
    "unit_price_incl_tax",
    "line_price_incl_tax",
    "order",
    "attributes",
)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
}

# Quiet: warnings and errors only, to stderr (the launcher keeps it in a log file).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Haystack's simple backend (no search server) warns each time Oscar asks it to index a product.
warnings.filterwarnings("ignore", message="update is not implemented", module="haystack")
