"""The shop's own systems, as ShopDesk talks to them: orders and products behind one interface.

ShopDesk answers order questions and keeps its catalog from whatever system the shop runs: its
built-in SQL order book (the default, catalog/order_system.py), a Django Oscar shop, Shopify or
Magento 2. This package holds what every connector shares and what the actions rely on:

- `orders`: the order as ShopDesk sees it (plain frozen values), and the shop rules that read it
  (cancellable until shipped, the return window);
- `protocol`: `OrderSystem` (find and verify an order, and the changes behind `Capability`s)
  and `ProductSource` (the products, for catalog sync);
- `errors`: what a connector raises, each with what the bot should do;
- `http`: one HTTP client for every remote shop (auth header, timeouts, retries on idempotent
  calls, clear errors, no secrets in logs);
- `settings`: the one place a shop chooses its connector and gives its credentials.

It sits below `catalog` (the catalog's sync reads connectors' products; the built-in order book
in catalog implements the same protocol) and imports only `core`.
"""
