"""promotions: scheduled price rules, the items they cover, and the promotion each line was rung in under

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 05:20:00

`promotion` is a rule (percent off, set price, quantity deal, set menu) with its schedule;
`promotion_item` the items it covers (a set menu's with their course); `line_promotion` what a check line
kept of its rule when it was rung in. A venue with a posting chart gets the account 4520 Promotions
(contra revenue) and the `promotions` house-account role mapped to it, unless a person already chose.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db
from app.lib.clock import utcnow

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE, CODE, NAME, PARENT = "promotions", "4520", "Promotions (contra revenue)", "4000"

ledger_account = sa.table(
    "ledger_account",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("type", sa.String()),
    sa.column("parent_id", sa.Integer()),
    sa.column("description", sa.String()),
    sa.column("archived_at", app.lib.db.UTCDateTime()),
    sa.column("created_at", app.lib.db.UTCDateTime()),
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


def _kind() -> sa.Enum:
    return sa.Enum("percent", "set_price", "quantity", "set_menu", name="rulekind", native_enum=False, length=20)


def _account(bind: sa.Connection, code: str) -> Any:
    query = sa.select(ledger_account.c.id, ledger_account.c.type, ledger_account.c.archived_at)
    return bind.execute(query.where(ledger_account.c.code == code)).first()


def upgrade() -> None:
    op.create_table(
        "promotion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(60), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("deal_size", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("weekdays", _text(7), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("archived_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["menu_category.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "promotion_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("menu_item_id", sa.Integer(), nullable=False),
        sa.Column("slot", _text(20), nullable=True),
        sa.ForeignKeyConstraint(["menu_item_id"], ["menu_item.id"]),
        sa.ForeignKeyConstraint(["promotion_id"], ["promotion.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("promotion_id", "menu_item_id", name="uq_promotion_item"),
    )
    with op.batch_alter_table("promotion_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotion_item_promotion_id"), ["promotion_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_promotion_item_menu_item_id"), ["menu_item_id"], unique=False)
    op.create_table(
        "line_promotion",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("name", _text(60), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("unit_off_cents", sa.Integer(), nullable=False),
        sa.Column("deal_size", sa.Integer(), nullable=False),
        sa.Column("deal_price_cents", sa.Integer(), nullable=False),
        sa.Column("slot", _text(20), nullable=True),
        sa.Column("applied_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["check_line.id"]),
        sa.ForeignKeyConstraint(["promotion_id"], ["promotion.id"]),
        sa.PrimaryKeyConstraint("line_id"),
    )
    with op.batch_alter_table("line_promotion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_promotion_promotion_id"), ["promotion_id"], unique=False)

    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(posting_mapping)).scalar_one() == 0:
        return  # no chart mapped yet: seeding maps the role with the rest
    mapped = bind.execute(
        sa.select(posting_mapping.c.id).where(posting_mapping.c.kind == "account", posting_mapping.c.subject == ROLE)
    ).first()
    if mapped is not None:
        return
    now = utcnow()
    account = _account(bind, CODE)
    if account is None:
        parent = _account(bind, PARENT)
        usable = parent is not None and parent.archived_at is None and parent.type == "income"
        bind.execute(
            sa.insert(ledger_account).values(
                code=CODE,
                name=NAME,
                type="income",
                parent_id=parent.id if usable else None,
                description="",
                created_at=now,
            )
        )
    elif account.archived_at is not None or account.type != "income":
        return  # the venue uses this code for something else: a person picks the account
    bind.execute(sa.insert(posting_mapping).values(kind="account", subject=ROLE, account_code=CODE, updated_at=now))


def downgrade() -> None:
    op.execute(
        sa.delete(posting_mapping).where(
            posting_mapping.c.kind == "account",
            posting_mapping.c.subject == ROLE,
            posting_mapping.c.updated_by.is_(None),
        )
    )
    op.drop_table("line_promotion")
    op.drop_table("promotion_item")
    op.drop_table("promotion")
