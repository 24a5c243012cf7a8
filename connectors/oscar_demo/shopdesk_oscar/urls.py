"""The API under /api/ (what ShopDesk uses) and Oscar's own storefront and dashboard at /."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("api/", include("oscarapi.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
