"""Alembic environment for the shop database.

Two ways in: `catalog.db.migrate` hands over an open connection (the programs and tests), and
Alembic's command line (`alembic.ini` at the root: `alembic revision --autogenerate`, `alembic
check`) opens the database itself: `-x url=...`, else the catalog's configured database.

Autogenerate compares the models with what the migrations made, minus what lives outside the
models on purpose: the search tables and the vector index tables (catalog/search_index.py,
catalog/vector_index.py), so a clean tree autogenerates an empty migration. New revisions are
numbered after the newest one (0007 -> 0008), as the existing files are.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Final, Literal

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.schema import ForeignKeyConstraint, SchemaItem

from catalog.models import Base

ObjectType = Literal[
    "schema",
    "table",
    "column",
    "index",
    "unique_constraint",
    "foreign_key_constraint",
    "check_constraint",
]
SQLITE_UNSEEN_FOREIGN_KEYS: Final = {("order_lines", "product_id")}
"""Foreign keys that 0002 adds with ADD COLUMN ... REFERENCES, which SQLite keeps but does not
report back (PostgreSQL does, and tests/catalog/test_schema.py checks it there)."""


def include_object(
    item: SchemaItem,
    name: str | None,
    type_: ObjectType,
    reflected: bool,
    compare_to: SchemaItem | None,
) -> bool:
    """Only what the models declare: tables, columns and indexes that the database has but
    the models do not (full-text search, vector index) are not the models' to remove."""
    if reflected and compare_to is None:
        return False
    if isinstance(item, ForeignKeyConstraint) and context.get_bind().dialect.name == "sqlite":
        columns = tuple(column.name for column in item.columns)
        return (item.table.name, *columns) not in SQLITE_UNSEEN_FOREIGN_KEYS
    return True


def number_revisions(
    migration: MigrationContext, revision: object, directives: list[MigrationScript]
) -> None:
    """Give a new revision the next four-digit number, like 0001 ... 0007."""
    if not directives:
        return
    script = directives[0]
    head = ScriptDirectory.from_config(context.config).get_current_head()
    if head is not None and head.isdigit():
        script.rev_id = f"{int(head) + 1:04d}"


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_object=include_object,
        process_revision_directives=number_revisions,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    if url := context.get_x_argument(as_dictionary=True).get("url"):
        return url
    from catalog.settings import CatalogSettings

    return CatalogSettings.from_env().database_url


handed_over = context.config.attributes.get("connection")
if handed_over is not None:
    run(handed_over)
else:
    if context.config.config_file_name is not None:  # alembic.ini's logging for the CLI
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    from catalog.db import engine_for

    with engine_for(database_url()).begin() as opened:
        run(opened)
