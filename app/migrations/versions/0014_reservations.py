"""reservations: the host's book, tables held in quarter hours, the walk-in waitlist, and the book's settings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:10:00

`reservation` is a party booked for a time on its tables (with the guest on file, and the check it was seated
on); `reservation_slot` holds each quarter hour of each of its tables, unique per (table, quarter hour), which is
what refuses a double booking. `waitlist_entry` is a walk-in party with its quoted wait and status-page token.
`reservation_settings` (one row), `reservation_turn_time` and `table_combination` are what a manager sets.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("starts_at", _time(), nullable=False),
        sa.Column("ends_at", _time(), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("phone", _text(32), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("allergies", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("booked", "seated", "cancelled", "no_show", name="reservationstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "source", sa.Enum("host", "api", name="reservationsource", native_enum=False, length=20), nullable=False
        ),
        sa.Column("table_ids", _text(200), nullable=False),
        sa.Column("guest_id", sa.Integer(), nullable=True),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("seated_at", _time(), nullable=True),
        sa.Column("cancelled_at", _time(), nullable=True),
        sa.Column("no_show_at", _time(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["guest_id"], ["guest.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservation_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservation_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservation_guest_id"), ["guest_id"], unique=False)
    op.create_table(
        "reservation_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("slot_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["reservation_id"], ["reservation.id"]),
        sa.ForeignKeyConstraint(["table_id"], ["dining_table.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("table_id", "slot_at"),
    )
    with op.batch_alter_table("reservation_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservation_slot_reservation_id"), ["reservation_id"], unique=False)
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("phone", _text(32), nullable=False),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("allergies", sa.Text(), nullable=False),
        sa.Column("quoted_minutes", sa.Integer(), nullable=False),
        sa.Column("token", _text(64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("waiting", "ready", "seated", "left", name="waitstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("guest_id", sa.Integer(), nullable=True),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", _time(), nullable=False),
        sa.Column("ready_at", _time(), nullable=True),
        sa.Column("seated_at", _time(), nullable=True),
        sa.Column("left_at", _time(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["guest_id"], ["guest.id"]),
        sa.ForeignKeyConstraint(["table_id"], ["dining_table.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_entry_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_waitlist_entry_joined_at"), ["joined_at"], unique=False)
    op.create_table(
        "reservation_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("first_seating", sa.Time(), nullable=False),
        sa.Column("last_seating", sa.Time(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("max_party_size", sa.Integer(), nullable=False),
        sa.Column("max_covers_per_slot", sa.Integer(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reservation_turn_time",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("max_party", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("max_party"),
    )
    op.create_table(
        "table_combination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(40), nullable=False),
        sa.Column("table_ids", _text(200), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("archived_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("table_combination")
    op.drop_table("reservation_turn_time")
    op.drop_table("reservation_settings")
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_joined_at"))
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_status"))
    op.drop_table("waitlist_entry")
    with op.batch_alter_table("reservation_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_slot_reservation_id"))
    op.drop_table("reservation_slot")
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_guest_id"))
        batch_op.drop_index(batch_op.f("ix_reservation_status"))
        batch_op.drop_index(batch_op.f("ix_reservation_starts_at"))
    op.drop_table("reservation")
