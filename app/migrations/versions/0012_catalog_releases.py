"""catalog releases: head office publishes the group's menu, venues apply each release whole

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:20:00

Head office keeps `group_catalog_release` (numbered, immutable snapshots of its menu tables),
`group_catalog_assortment` (an item a venue does not sell, or sells at its own price) and
`group_catalog_venue` (the release each venue trades on, and one that failed there, with why). A venue
keeps `catalog_release_received`, each release as received, applied or waiting. See
docs/adr/0011-catalog-releases.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "group_catalog_assortment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Boolean(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["menu_item.id"]),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "item_id"),
    )
    op.create_table(
        "group_catalog_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("note", _text(300), nullable=False),
        sa.Column("effective_day", sa.Date(), nullable=True),
        sa.Column("allow_local_items", sa.Boolean(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", _time(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["published_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "group_catalog_venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("applied_release", sa.Integer(), nullable=True),
        sa.Column("failed_release", sa.Integer(), nullable=True),
        sa.Column("error", _text(2000), nullable=True),
        sa.Column("reported_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id"),
    )
    op.create_table(
        "catalog_release_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("note", _text(300), nullable=False),
        sa.Column("effective_day", sa.Date(), nullable=True),
        sa.Column("published_at", _time(), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("applied_at", _time(), nullable=True),
        sa.Column("error", _text(2000), nullable=True),
        sa.Column("failed_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )


def downgrade() -> None:
    op.drop_table("catalog_release_received")
    op.drop_table("group_catalog_venue")
    op.drop_table("group_catalog_release")
    op.drop_table("group_catalog_assortment")
