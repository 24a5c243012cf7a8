"""Demo data for the Luma showcase: made-up orders, customers and parcels over the real Luma
catalog, so every order question has an order to ask about.

Kept apart from the shop's real services (orders, support, search beside it in `catalog/`): a
real shop loads its own catalog and connects its own orders, and nothing outside the demo
setup (`catalog.cli load`, tests, benchmarks) imports this package.
"""
