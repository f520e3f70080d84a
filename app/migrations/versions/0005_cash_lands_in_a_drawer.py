"""cash lands in a drawer: a payment or refund in cash records the drawer session it went into or out of

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 01:40:00

Cash is taken only into an open drawer now, and the drawer it went into is written on the payment
(or the refund it came out of), so a drawer's expected cash is what was put in it, not what happened
to be taken while it was open. Rows from before keep no drawer and are placed by the time they were
taken, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("payment", "check_refund"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("drawer_id", sa.Integer(), nullable=True))
            batch.create_index(f"ix_{table}_drawer_id", ["drawer_id"])


def downgrade() -> None:
    for table in ("payment", "check_refund"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_drawer_id")
            batch.drop_column("drawer_id")
