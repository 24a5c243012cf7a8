"""embedding revision: a counter on each product vector, raised whenever it is re-embedded, so
the vector caches of every process (and the sqlite-vec / pgvector indexes built from them) see a
changed vector even when the number of vectors and the highest product id stay the same

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("product_embeddings") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("product_embeddings") as batch:
        batch.drop_column("revision")
