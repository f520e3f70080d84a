"""a restaurant group: head office's venues and their records, a venue's link and sync outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:40:00

Head office keeps `group_venue` (only hashes of a venue's enrolment token and credential) and
`group_venue_record`, each (venue, sequence) once. A venue keeps `head_office_link` (its own
credential and the acknowledged mark) and `sync_record`, the records owed to head office, written
with the change they describe and numbered when first sent. See docs/adr/0010-venue-sync-protocol.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "group_venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", _text(20), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("timezone", _text(64), nullable=False),
        sa.Column("currency", _text(3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "enrolled", "revoked", name="venuestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("token_hash", _text(64), nullable=True),
        sa.Column("credential_hash", _text(64), nullable=True),
        sa.Column("acked_sequence", sa.Integer(), nullable=False),
        sa.Column("highest_sequence", sa.Integer(), nullable=False),
        sa.Column("records_received", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("enrolled_at", _time(), nullable=True),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.Column("last_contact_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("credential_hash"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "group_venue_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", _text(40), nullable=False),
        sa.Column("key", _text(200), nullable=False),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["venue_id"], ["group_venue.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("venue_id", "sequence"),
    )
    op.create_index(op.f("ix_group_venue_record_kind"), "group_venue_record", ["kind"], unique=False)
    op.create_table(
        "head_office_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", _text(300), nullable=False),
        sa.Column("venue_code", _text(20), nullable=False),
        sa.Column("venue_name", _text(80), nullable=False),
        sa.Column("credential", _text(100), nullable=False),
        sa.Column(
            "status", sa.Enum("linked", "revoked", name="linkstatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column("joined_at", _time(), nullable=False),
        sa.Column("acked_sequence", sa.Integer(), nullable=False),
        sa.Column("numbered_sequence", sa.Integer(), nullable=False),
        sa.Column("last_contact_at", _time(), nullable=True),
        sa.Column("last_error", _text(2000), nullable=True),
        sa.Column("last_error_at", _time(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _time(), nullable=True),
        sa.Column("catalog_release", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _text(200), nullable=False),
        sa.Column("kind", _text(40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("sequence"),
    )


def downgrade() -> None:
    op.drop_table("sync_record")
    op.drop_table("head_office_link")
    op.drop_index(op.f("ix_group_venue_record_kind"), table_name="group_venue_record")
    op.drop_table("group_venue_record")
    op.drop_table("group_venue")
