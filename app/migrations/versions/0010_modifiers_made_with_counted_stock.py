"""modifiers made with counted stock

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:10:00

`modifier.counts_stock` says a modifier's recipe uses counted stock (inventory keeps it), so order entry knows,
with the modifier it already read, that a line with it must be checked against what is left.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("modifier") as batch:
        batch.add_column(sa.Column("counts_stock", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("modifier") as batch:
        batch.drop_column("counts_stock")
