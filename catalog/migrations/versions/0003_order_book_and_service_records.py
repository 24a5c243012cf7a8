"""order book details (addresses, totals, invoices, refunds) and the service desk's records

Revision ID: 0003
Revises: 0002

Reviews already in the database were imported, so they are approved (server default); a
return gets a number, which existing returns take from their order and id.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CUSTOMER_COLUMNS = (
    ("phone", 40), ("street", 255), ("city", 120), ("region", 120), ("postcode", 20),
    ("country", 2),
)  # fmt: skip
SHIP_COLUMNS = (
    ("ship_name", 255), ("ship_street", 255), ("ship_city", 120), ("ship_region", 120),
    ("ship_postcode", 20), ("ship_country", 2),
)  # fmt: skip
ORDER_AMOUNTS = ("subtotal_cents", "shipping_cents", "total_cents", "cancellation_fee_cents")
NEW_TABLES = (
    "erasure_requests", "handoffs", "complaints", "newsletter_subscribers", "refunds", "invoices",
)  # fmt: skip


def _order_reference() -> sa.Column[int]:
    return sa.Column(
        "order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )


def _customer_reference() -> sa.Column[int]:
    return sa.Column(
        "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="SET NULL")
    )


def upgrade() -> None:
    for name, length in CUSTOMER_COLUMNS:
        op.add_column("customers", sa.Column(name, sa.String(length)))
    op.add_column("customers", sa.Column("created_at", sa.DateTime()))
    for name, length in SHIP_COLUMNS:
        op.add_column("orders", sa.Column(name, sa.String(length)))
    for name in ORDER_AMOUNTS:
        op.add_column("orders", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.add_column("orders", sa.Column("cancelled_at", sa.DateTime()))
    op.add_column("orders", sa.Column("updated_at", sa.DateTime()))
    op.add_column("shipments", sa.Column("eta", sa.Date()))
    op.add_column(
        "reviews", sa.Column("status", sa.String(16), nullable=False, server_default="approved")
    )
    op.add_column("reviews", sa.Column("created_at", sa.DateTime()))
    op.add_column("reviews", sa.Column("conversation_id", sa.String(64)))

    # Before `refunds` refers to it: on SQLite the batch copies the table to make it NOT NULL.
    op.add_column("returns", sa.Column("number", sa.String(32)))
    op.execute(
        "UPDATE returns SET number = 'R' || "
        "(SELECT number FROM orders WHERE orders.id = returns.order_id) || '-' || id"
    )
    with op.batch_alter_table("returns") as batch:
        batch.alter_column("number", existing_type=sa.String(32), nullable=False)
    op.create_index("ix_returns_number", "returns", ["number"], unique=True)

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), primary_key=True),
        _order_reference(),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
    )
    op.create_index("ix_invoices_order_id", "invoices", ["order_id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        _order_reference(),
        sa.Column("return_id", sa.Integer(), sa.ForeignKey("returns.id", ondelete="SET NULL")),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime()),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_table(
        "newsletter_subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        _customer_reference(),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("order_number", sa.String(32)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        _customer_reference(),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_index("ix_returns_number", "returns")
    op.drop_column("returns", "number")
    for name in ("conversation_id", "created_at", "status"):
        op.drop_column("reviews", name)
    op.drop_column("shipments", "eta")
    for name in ("updated_at", "cancelled_at", *ORDER_AMOUNTS, *(n for n, _ in SHIP_COLUMNS)):
        op.drop_column("orders", name)
    for name in ("created_at", *(n for n, _ in CUSTOMER_COLUMNS)):
        op.drop_column("customers", name)
