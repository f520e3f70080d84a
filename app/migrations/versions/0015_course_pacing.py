"""course pacing: prep times, courses that fire by themselves, stations that finish together

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:30:00

`menu_item.prep_minutes` (snapshotted on `check_line`) is how long a dish takes from fire to the pass.
`course_pacing` holds a held course's rule for firing by itself; `guest_check.paced` says a check has one
waiting. `station.pacing` says whether a station gets its part of a course at once or timed to finish
with the slowest station, and `kitchen_ticket.fire_at` is when such a station should start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


COURSES = ("drinks", "starters", "mains", "dessert")


def upgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.add_column(sa.Column("prep_minutes", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("check_line") as batch:
        batch.add_column(sa.Column("prep_minutes", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("guest_check") as batch:
        batch.add_column(sa.Column("paced", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("station") as batch:
        batch.add_column(
            sa.Column(
                "pacing", _enum("stationpacing", "at_once", "finish_together"), nullable=False, server_default="at_once"
            )
        )
    with op.batch_alter_table("kitchen_ticket") as batch:
        batch.add_column(sa.Column("fire_at", _time(), nullable=True))
    op.create_table(
        "course_pacing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("course", _enum("course", *COURSES), nullable=False),
        sa.Column("after_course", _enum("course", *COURSES), nullable=False),
        sa.Column("trigger", _enum("pacingtrigger", "bumped", "after_fire", "timed"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("pushed_minutes", sa.Integer(), nullable=False),
        sa.Column("state", _enum("pacingstate", "waiting", "fired", "cancelled", "skipped"), nullable=False),
        sa.Column("due_at", _time(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", _time(), nullable=False),
        sa.Column("ended_at", _time(), nullable=True),
        sa.Column("fire_id", sa.Integer(), nullable=True),
        sa.Column("outcome", _text(200), nullable=True),
        sa.ForeignKeyConstraint(["check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["fire_id"], ["kitchen_fire.id"]),
        sa.ForeignKeyConstraint(["set_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("course_pacing") as batch:
        batch.create_index(batch.f("ix_course_pacing_check_id"), ["check_id"], unique=False)
        batch.create_index(batch.f("ix_course_pacing_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("course_pacing")
    with op.batch_alter_table("kitchen_ticket") as batch:
        batch.drop_column("fire_at")
    with op.batch_alter_table("station") as batch:
        batch.drop_column("pacing")
    with op.batch_alter_table("guest_check") as batch:
        batch.drop_column("paced")
    with op.batch_alter_table("check_line") as batch:
        batch.drop_column("prep_minutes")
    with op.batch_alter_table("menu_item") as batch:
        batch.drop_column("prep_minutes")
