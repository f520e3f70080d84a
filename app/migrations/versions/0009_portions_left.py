"""portions left of dishes made with counted stock

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:00:00

`menu_item.portions_left` is how many more of a dish the counted stock it is made with allows, after what
open checks have rung in; NULL for a dish made with no counted stock. Inventory keeps it; order entry reads it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.add_column(sa.Column("portions_left", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.drop_column("portions_left")
