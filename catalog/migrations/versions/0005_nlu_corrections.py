"""agents' corrections of misread shopper messages, for the learning loop

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("message_at", sa.Float(), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("predicted_intent", sa.String(64), nullable=False),
        sa.Column("correct_intent", sa.String(64), nullable=False),
        sa.Column("is_new_intent", sa.Boolean(), nullable=False),
        sa.Column(
            "agent_id", sa.Integer(), sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("conversation_id", "message_at"),
    )
    op.create_index("ix_nlu_corrections_conversation_id", "nlu_corrections", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("nlu_corrections")
