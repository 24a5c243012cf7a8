"""What every ShopDesk process shares and nothing else may own: where the project lives, the
one clock, the one money formatter, the one percentile and the one settings mechanism.

`core` is the lowest layer (docs/architecture.md): it imports no other ShopDesk package, so
any of them can use it without a cycle.
"""
