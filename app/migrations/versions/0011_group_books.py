"""the group's books: venue mappings to the group chart and warehouses, and each venue record's booking

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:10:00

Head office keeps `group_venue_mapping` (a venue's account, tender or stock location, and the group
account or warehouse it lands on) and `group_venue_posting`, one row per (venue, sequence) booked: posted
(with the group journal entry it made) or an exception with its reason. Posted entries carry the venue as
the `venue` dimension of each line, so the ledger's own tables need no change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "group_venue_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("account", "tender", "location", name="mapkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("subject", _text(80), nullable=False),
        sa.Column("label", _text(120), nullable=False),
        sa.Column("target", _text(80), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "kind", "subject"),
    )
    op.create_index(op.f("ix_group_venue_mapping_venue_id"), "group_venue_mapping", ["venue_id"], unique=False)
    op.create_table(
        "group_venue_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", _text(40), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("posted", "exception", name="postingstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reason", _text(300), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("warehouse", _text(80), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"]),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "sequence"),
    )
    op.create_index("ix_group_venue_posting_day", "group_venue_posting", ["venue_id", "business_day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_group_venue_posting_day", table_name="group_venue_posting")
    op.drop_table("group_venue_posting")
    op.drop_index(op.f("ix_group_venue_mapping_venue_id"), table_name="group_venue_mapping")
    op.drop_table("group_venue_mapping")
