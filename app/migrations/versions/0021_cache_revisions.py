"""revisions of the menu and the floor plan, counted by triggers, so that a process keeps what it built from them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 18:40:00

`cache_revision` holds one counter per subject; triggers on the menu's and the floor plan's tables count every
insert, update and delete into it in the same transaction (see app/lib/revisions.py). A database that already
has a menu and floors starts both counters at 1, so that what is built from them can be kept from the start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.lib.revisions import drop_trigger_ddl, trigger_ddl

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = {
    "menu": ("menu_category", "menu_item", "modifier_group", "menu_item_modifier_group"),
    "floor": ("floor", "dining_table"),
}


def upgrade() -> None:
    op.create_table(
        "cache_revision",
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.execute("INSERT INTO cache_revision (subject, revision) VALUES ('menu', 1), ('floor', 1)")
    dialect = op.get_bind().dialect.name
    for subject, tables in WATCHED.items():
        for table in tables:
            for statement in trigger_ddl(dialect, subject, table):
                op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for tables in WATCHED.values():
        for table in tables:
            for statement in drop_trigger_ddl(dialect, table):
                op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bump_cache_revision()")
    op.drop_table("cache_revision")
