"""agent accounts, their sign-ins, the audit log, notes, left messages and handoff ownership

Revision ID: 0004
Revises: 0003

Existing handoffs keep their status and get no agent: they were never taken in a console.
On SQLite the batch copies `handoffs` to add its foreign key; nothing refers to that table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_TABLES = ("support_messages", "agent_notes", "audit_log", "agent_sessions")  # then agents
HANDOFF_AGENT_FK = "fk_handoffs_agent_id_agents"


def _agent_reference(ondelete: str | None = None, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "agent_id", sa.Integer(), sa.ForeignKey("agents.id", ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        _agent_reference(ondelete="CASCADE"),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        _agent_reference(ondelete="SET NULL", nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "agent_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        _agent_reference(),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_agent_notes_conversation_id", "agent_notes", ["conversation_id"])
    op.create_table(
        "support_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_support_messages_conversation_id", "support_messages", ["conversation_id"])
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("agent_id", sa.Integer()))
        batch.add_column(sa.Column("taken_at", sa.DateTime()))
        batch.add_column(sa.Column("closed_at", sa.DateTime()))
        batch.create_foreign_key(
            HANDOFF_AGENT_FK, "agents", ["agent_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(HANDOFF_AGENT_FK, type_="foreignkey")
        for name in ("closed_at", "taken_at", "agent_id"):
            batch.drop_column(name)
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_table("agents")
