"""agent password links: the one-time links an admin gives an agent to set a password (a new
account or a reset), kept only as the token's SHA-256 with its expiry and when it was used

Revision ID: 0010
Revises: 0009

A new table, so nothing existing changes; downgrading drops it, and the links with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "agent_password_links"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index(f"ix_{TABLE}_agent_id", TABLE, ["agent_id"])


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_agent_id", table_name=TABLE)
    op.drop_table(TABLE)
