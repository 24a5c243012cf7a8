"""The shop's catalog and order book: SQLAlchemy 2 models, migrations, importers and search.

Nothing here imports other ShopDesk packages; actions and the classifier build on it.
"""
