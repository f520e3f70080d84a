"""device enrolment and PIN lockouts by source address and venue-wide

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:00:00

Staff PINs now work only on a device a manager enrolled, so a browser that throws its cookie away
starts over as a stranger instead of with a clean slate. A device records who enrolled it, when,
whether it was revoked, and where it was last seen. PIN attempts record their source address, and
a browser asking to be enrolled has no device yet. Lockouts by address, and venue-wide pauses, get
a table of their own. Devices on which somebody has already logged in are counted as enrolled, so
the tablets in service keep working after the upgrade; the rest must be enrolled by a manager.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("enrolled_at", app.lib.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("enrolled_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("revoked_at", app.lib.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_seen_at", app.lib.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_foreign_key("fk_device_enrolled_by_id_staff", "staff", ["enrolled_by_id"], ["id"])
    with op.batch_alter_table("pin_attempt") as batch:
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_index("ix_pin_attempt_address", ["address"])
    op.create_table(
        "pin_lockout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("started_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lifted_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lifted_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pin_lockout") as batch:
        batch.create_index("ix_pin_lockout_address", ["address"])
        batch.create_index("ix_pin_lockout_until", ["until"])
    # The devices already in service: somebody logged in on them before enrolment existed.
    op.execute(
        "UPDATE device SET enrolled_at = first_seen_at, last_seen_at = first_seen_at "
        "WHERE id IN (SELECT device_id FROM pin_attempt WHERE success)"
    )


def downgrade() -> None:
    with op.batch_alter_table("pin_lockout") as batch:
        batch.drop_index("ix_pin_lockout_until")
        batch.drop_index("ix_pin_lockout_address")
    op.drop_table("pin_lockout")
    op.execute("DELETE FROM pin_attempt WHERE device_id IS NULL")
    with op.batch_alter_table("pin_attempt") as batch:
        batch.drop_index("ix_pin_attempt_address")
        batch.drop_column("address")
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("device") as batch:
        batch.drop_constraint("fk_device_enrolled_by_id_staff", type_="foreignkey")
        batch.drop_column("last_address")
        batch.drop_column("last_seen_at")
        batch.drop_column("revoked_at")
        batch.drop_column("enrolled_by_id")
        batch.drop_column("enrolled_at")
