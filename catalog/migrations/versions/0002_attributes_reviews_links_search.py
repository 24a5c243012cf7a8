"""attributes, prices, images, reviews, links, embeddings, shipments, returns, search index

Revision ID: 0002
Revises: 0001

The search index is dialect-specific: an FTS5 table on SQLite; a tsvector column with a GIN
index plus pg_trgm on PostgreSQL. Both are written by catalog/search_index.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str, on_delete: str | None = None) -> None:
    """A nullable foreign-key column; SQLite accepts it inline, Alembic only in batch mode."""
    if op.get_bind().dialect.name == "sqlite":
        action = f" ON DELETE {on_delete}" if on_delete else ""
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target}(id){action}"
        )
    else:
        op.add_column(
            table,
            sa.Column(column, sa.Integer(), sa.ForeignKey(f"{target}.id", ondelete=on_delete)),
        )


def upgrade() -> None:
    _add_reference("categories", "parent_id", "categories")
    for column in (
        sa.Column("special_price_cents", sa.Integer()),
        sa.Column("special_from", sa.Date()),
        sa.Column("special_to", sa.Date()),
        sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column("brand", sa.String(120)),
        sa.Column("source", sa.String(40), nullable=False, server_default="magento"),
        sa.Column("rating_avg", sa.Float()),
        sa.Column("review_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("units_sold", sa.Integer(), nullable=False, server_default="0"),
    ):
        op.add_column("products", column)
    op.create_index("ix_variants_product_id", "variants", ["product_id"])
    op.create_index("ix_products_popularity", "products", ["units_sold", "review_count", "id"])
    op.create_index("ix_product_categories_category_id", "product_categories", ["category_id"])
    op.add_column("orders", sa.Column("created_at", sa.DateTime()))
    _add_reference("order_lines", "product_id", "products", on_delete="SET NULL")
    op.create_table(
        "product_attributes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.UniqueConstraint("product_id", "name", "value"),
    )
    op.create_index("ix_product_attributes_name_value", "product_attributes", ["name", "value"])
    op.create_table(
        "product_images",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("label", sa.String(255)),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(120), nullable=False),
    )
    op.create_index("ix_reviews_product_id", "reviews", ["product_id"])
    op.create_table(
        "product_links",
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "linked_product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "product_embeddings",
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("tracking_number", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("shipped_at", sa.DateTime()),
        sa.Column("delivered_at", sa.DateTime()),
    )
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "order_line_id", sa.Integer(), sa.ForeignKey("order_lines.id", ondelete="SET NULL")
        ),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime()),
    )
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(64), primary_key=True),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("title_products", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        op.execute(
            "CREATE TABLE product_search ("
            " product_id INTEGER PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,"
            " document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_product_search_document ON product_search USING GIN (document)")
        op.execute(
            # on lower(word), not word: else the planner takes it for the known-word lookups
            # (word IN (...)) that the primary key answers a hundred times faster
            "CREATE INDEX ix_search_words_trgm ON search_words USING GIN (lower(word) gin_trgm_ops)"
        )
    else:
        # rowid is the place among best sellers; porter stems 'hoodies' and 'hoodie' alike.
        op.execute(
            "CREATE VIRTUAL TABLE product_search USING fts5("
            "name, categories, keywords, description, facets, product_id UNINDEXED,"
            " tokenize = 'porter unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS product_search")
    for table in (
        "search_words", "returns", "shipments", "product_embeddings", "product_links",
        "reviews", "product_images", "product_attributes",
    ):  # fmt: skip
        op.drop_table(table)
    op.drop_column("order_lines", "product_id")
    op.drop_column("orders", "created_at")
    op.drop_index("ix_variants_product_id", "variants")
    op.drop_index("ix_products_popularity", "products")
    op.drop_index("ix_product_categories_category_id", "product_categories")
    for name in (
        "units_sold", "review_count", "rating_avg", "source", "brand", "currency",
        "special_to", "special_from", "special_price_cents",
    ):  # fmt: skip
        op.drop_column("products", name)
    op.drop_column("categories", "parent_id")
