"""gift cards: each card with its balance and every movement of it; their category posts to the liability

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 05:30:00

`gift_card` holds a card's number (random digits and a Luhn check digit), status, what it was sold for and
what it holds; `gift_card_movement` every change of that balance (issue, spend, refund to card, reopen).
The house account role `gift_cards` maps the gift-card sale category to the liability account 2010, where
the chart has it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db
from app.lib.clock import utcnow

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ledger_account = sa.table(
    "ledger_account",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("archived_at", app.lib.db.UTCDateTime()),
)
posting_mapping = sa.table(
    "posting_mapping",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("account_code", sa.String()),
    sa.column("updated_by", sa.Integer()),
    sa.column("updated_at", app.lib.db.UTCDateTime()),
)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gift_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", _text(32), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "active", "void", name="giftcardstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("initial_cents", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("sold_check_id", sa.Integer(), nullable=False),
        sa.Column("sold_by", sa.Integer(), nullable=False),
        sa.Column("sold_at", _time(), nullable=False),
        sa.Column("activated_at", _time(), nullable=True),
        sa.Column("voided_at", _time(), nullable=True),
        sa.CheckConstraint("balance_cents >= 0", name="ck_gift_card_balance_not_negative"),
        sa.ForeignKeyConstraint(["line_id"], ["check_line.id"]),
        sa.ForeignKeyConstraint(["sold_check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["sold_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("line_id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("gift_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gift_card_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_gift_card_sold_check_id"), ["sold_check_id"], unique=False)
    op.create_table(
        "gift_card_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "issue",
                "redeem",
                "refund",
                "unissue",
                "sale_refunded",
                name="movementkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("balance_after_cents", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["gift_card.id"]),
        sa.ForeignKeyConstraint(["check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.ForeignKeyConstraint(["refund_id"], ["check_refund.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gift_card_movement", schema=None) as batch_op:
        batch_op.create_index("ix_gift_card_movement_card", ["card_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gift_card_movement_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gift_card_movement_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gift_card_movement_refund_id"), ["refund_id"], unique=False)
    bind = op.get_bind()
    mapped = bind.execute(
        sa.select(posting_mapping.c.id).where(
            posting_mapping.c.kind == "account", posting_mapping.c.subject == "gift_cards"
        )
    ).first()
    live = bind.execute(
        sa.select(ledger_account.c.id).where(ledger_account.c.code == "2010", ledger_account.c.archived_at.is_(None))
    ).first()
    if mapped is None and live is not None:
        bind.execute(
            sa.insert(posting_mapping).values(
                kind="account", subject="gift_cards", account_code="2010", updated_at=utcnow()
            )
        )


def downgrade() -> None:
    op.execute(
        sa.delete(posting_mapping).where(
            posting_mapping.c.kind == "account",
            posting_mapping.c.subject == "gift_cards",
            posting_mapping.c.updated_by.is_(None),
        )
    )
    op.drop_table("gift_card_movement")
    op.drop_table("gift_card")
