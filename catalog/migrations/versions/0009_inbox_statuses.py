"""the agents' inbox: complaints' "open" becomes "new" (one status vocabulary for the inbox's
messages, complaints and return requests), return requests get their own inbox status beside
the order book's, and a watermark per kind records what the support address was told about

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# What an upgrade found and marks as already told, so a shop's first start after it does not
# e-mail its support address about its whole history (catalog/inbox.py NoticeKind).
WATERMARKS = (
    ("message", "support_messages"),
    ("complaint", "complaints"),
    ("return", "returns"),
    ("review", "reviews"),
    ("handoff", "handoffs"),
)


def upgrade() -> None:
    op.execute("UPDATE complaints SET status = 'new' WHERE status = 'open'")
    with op.batch_alter_table("returns") as batch:
        batch.add_column(sa.Column("inbox_status", sa.String(length=16), nullable=True))
    op.execute("UPDATE returns SET inbox_status = 'new' WHERE status = 'requested'")
    watermarks = op.create_table(
        "inbox_watermarks",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )
    connection = op.get_bind()
    rows = [
        {
            "kind": kind,
            "last_id": connection.execute(
                sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # the constants above
            ).scalar_one(),
        }
        for kind, table in WATERMARKS
    ]
    op.bulk_insert(watermarks, rows)


def downgrade() -> None:
    op.drop_table("inbox_watermarks")
    with op.batch_alter_table("returns") as batch:
        batch.drop_column("inbox_status")
    op.execute("UPDATE complaints SET status = 'open' WHERE status = 'new'")
