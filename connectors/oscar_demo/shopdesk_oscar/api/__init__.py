"""The demo shop's overrides of django-oscar-api classes (`OSCARAPI_OVERRIDE_MODULES`).

django-oscar-api looks up each serializer and view first in these modules, then in its own;
this is how its documentation says a shop changes its API. What the demo shop changes, on the
admin order API only (staff users), as a shop that connects a customer-service desk would:

- `GET /api/admin/orders/?number=000000100`: the orders with that number (the stock list
  ignores the parameter and lists every order);
- each order also shows `id`, `customer_name` and `shipping_events` (Oscar's ShippingEvent:
  type name, notes, date, lines and quantities); the notes of a "Shipped" event read
  `carrier=UPS; tracking_number=1Z...; tracking_url=https://...; eta=2026-12-10`;
- `PATCH /api/admin/orders/<id>/` with `{"status": "Cancelled"}` and/or
  `{"shipping_address": {...}}`: a status change goes through Oscar's own `Order.set_status`
  (the status pipeline); a change the pipeline forbids, or an address change after shipping,
  answers 409 with `{"detail": "<a sentence>"}`; a malformed body answers 400.
"""
