"""how far each venue's records are booked at head office, so posting looks only above it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 05:10:00

`group_venue_posted_mark` holds, per venue, the sequence at or below which every record has its posting
row. Posting then reads one index range above the mark instead of the venue's whole history. A database
without marks starts each venue at 0: the first posting run reads the history once and sets the mark.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_venue_posted_mark",
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("venue_id"),
    )


def downgrade() -> None:
    op.drop_table("group_venue_posted_mark")
