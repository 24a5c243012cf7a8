"""The demo Django Oscar shop that ShopDesk's Oscar connector talks to over HTTP.

A small Oscar 3.2 project as Oscar's documentation describes one, plus what a shop that connects
a customer-service desk would configure: django-oscar-api with its admin API open to staff
users (DRF token auth), ShopDesk's order status pipeline, and the order serializer exposing
shipping events (shopdesk_oscar/api/). It runs in .venv-oscar only (requirements/oscar.lock),
for the tests and the demo; ShopDesk's own packages never import it.
"""
