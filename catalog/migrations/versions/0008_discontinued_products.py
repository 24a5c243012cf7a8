"""discontinued products: when a catalog sync found a product gone from its source, it is
marked rather than deleted (orders refer to it) and left out of search and recommendations

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("discontinued_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("discontinued_at")
