"""guests: the restaurant's guest records, attached to checks with their name and allergies

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:05:00

`guest` holds a guest's contact, allergies, preferences and marketing consent (`erased_at` once their
personal data was removed on request). A check gets `guest_id` and, as they were when attached, the
guest's name and allergies, which the floor reads; each kitchen ticket gets `allergies`, from its check.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "guest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("phone", _text(32), nullable=True),
        sa.Column("phone_digits", _text(32), nullable=True),
        sa.Column("email", _text(254), nullable=True),
        sa.Column("allergies", sa.Text(), nullable=False),
        sa.Column("preferences", sa.Text(), nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("erased_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_phone_digits"), ["phone_digits"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_erased_at"), ["erased_at"], unique=False)
    with op.batch_alter_table("guest_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guest_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("guest_name", _text(80), nullable=True))
        batch_op.add_column(sa.Column("guest_allergies", _text(300), nullable=True))
        batch_op.create_index(batch_op.f("ix_guest_check_guest_id"), ["guest_id"], unique=False)
        batch_op.create_foreign_key("fk_guest_check_guest_id_guest", "guest", ["guest_id"], ["id"])
    op.add_column("kitchen_ticket", sa.Column("allergies", _text(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kitchen_ticket", schema=None) as batch_op:
        batch_op.drop_column("allergies")
    with op.batch_alter_table("guest_check", schema=None) as batch_op:
        batch_op.drop_constraint("fk_guest_check_guest_id_guest", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_guest_check_guest_id"))
        batch_op.drop_column("guest_allergies")
        batch_op.drop_column("guest_name")
        batch_op.drop_column("guest_id")
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_erased_at"))
        batch_op.drop_index(batch_op.f("ix_guest_email"))
        batch_op.drop_index(batch_op.f("ix_guest_phone_digits"))
    op.drop_table("guest")
