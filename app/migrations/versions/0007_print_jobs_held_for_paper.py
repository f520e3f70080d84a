"""print jobs held for paper

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:30:00

A print job that no printer can take because it is out of paper or has its cover open is held
(state "held") instead of failed, and prints marked LATE once its printer reports it is ready.
`held_at` says when it began to wait. The job and printer states are plain strings, so the new
"held" state and the "cover_open" printer health need no type change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.lib.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("print_job") as batch:
        batch.add_column(sa.Column("held_at", app.lib.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # a held job goes back to the state it had before holding existed: failed, for a manager to send again
    op.execute("UPDATE print_job SET state = 'failed', failed_at = held_at WHERE state = 'held'")
    with op.batch_alter_table("print_job") as batch:
        batch.drop_column("held_at")
