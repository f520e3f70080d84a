"""purchasing: suppliers, their items and weekday pars, purchase orders, receipts and credit notes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 05:00:00

Adds the purchasing tables, and the purchase price variance account (5040) with its
`price_variance` posting role on any database that already has a posting mapping, as 0004 did for
accounts payable: a receipt whose invoice differs from the order would otherwise stop as a posting
exception. A database without a mapping is left alone: the demo and the mappings page seed it.
"""

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db
from app.lib.clock import utcnow

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE, CODE, NAME, PARENT = "price_variance", "5040", "Purchase price variance", "5000"

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
TABLES: Final = (
    "purchase_receipt_line",
    "supplier_credit",
    "purchase_receipt",
    "purchase_order_line",
    "weekday_par",
    "supplier_item",
    "purchase_order",
    "supplier",
)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("email", _text(120), nullable=True),
        sa.Column("phone", _text(40), nullable=True),
        sa.Column("archived_at", _time(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "purchase_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sent",
                "partial",
                "received",
                "closed",
                "cancelled",
                name="orderstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("note", _text(200), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("sent_at", _time(), nullable=True),
        sa.Column("closed_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_purchase_order_status"), "purchase_order", ["status"], unique=False)
    op.create_index(op.f("ix_purchase_order_supplier_id"), "purchase_order", ["supplier_id"], unique=False)
    op.create_table(
        "supplier_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("code", _text(40), nullable=True),
        sa.Column("pack_label", _text(60), nullable=False),
        sa.Column("pack_milli", sa.BigInteger(), nullable=False),
        sa.Column("pack_cost_cents", sa.BigInteger(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("archived_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supplier_id", "stock_item_id"),
    )
    op.create_index(op.f("ix_supplier_item_stock_item_id"), "supplier_item", ["stock_item_id"], unique=False)
    op.create_index(op.f("ix_supplier_item_supplier_id"), "supplier_item", ["supplier_id"], unique=False)
    op.create_table(
        "weekday_par",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("par_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stock_item_id", "location_id", "weekday"),
    )
    op.create_index(op.f("ix_weekday_par_stock_item_id"), "weekday_par", ["stock_item_id"], unique=False)
    op.create_table(
        "purchase_order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_item_id", sa.Integer(), nullable=False),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("packs", sa.Integer(), nullable=False),
        sa.Column("pack_label", _text(60), nullable=False),
        sa.Column("pack_milli", sa.BigInteger(), nullable=False),
        sa.Column("pack_cost_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_item_id"],
            ["supplier_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "supplier_item_id"),
    )
    op.create_index(op.f("ix_purchase_order_line_order_id"), "purchase_order_line", ["order_id"], unique=False)
    op.create_table(
        "purchase_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("stock_operation_id", sa.Integer(), nullable=False),
        sa.Column("reference", _text(80), nullable=True),
        sa.Column("invoice_cents", sa.BigInteger(), nullable=False),
        sa.Column("ordered_cents", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_operation_id"],
            ["stock_operation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stock_operation_id"),
    )
    op.create_index(op.f("ix_purchase_receipt_order_id"), "purchase_receipt", ["order_id"], unique=False)
    op.create_table(
        "supplier_credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind", sa.Enum("return", "damaged", name="creditkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("stock_operation_id", sa.Integer(), nullable=False),
        sa.Column("reference", _text(80), nullable=True),
        sa.Column("credit_cents", sa.BigInteger(), nullable=False),
        sa.Column("stock_cents", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_operation_id"],
            ["stock_operation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stock_operation_id"),
    )
    op.create_index(op.f("ix_supplier_credit_order_id"), "supplier_credit", ["order_id"], unique=False)
    op.create_index(op.f("ix_supplier_credit_supplier_id"), "supplier_credit", ["supplier_id"], unique=False)
    op.create_table(
        "purchase_receipt_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("substitute", sa.Boolean(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("invoice_cents", sa.BigInteger(), nullable=False),
        sa.Column("ordered_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["purchase_order_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["purchase_receipt.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_purchase_receipt_line_receipt_id"), "purchase_receipt_line", ["receipt_id"], unique=False)
    _map_price_variance()


def _map_price_variance() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(posting_mapping)).scalar_one() == 0:
        return
    mapped = bind.execute(
        sa.select(posting_mapping.c.id).where(posting_mapping.c.kind == "account", posting_mapping.c.subject == ROLE)
    ).first()
    if mapped is not None:
        return
    now = utcnow()
    columns = (ledger_account.c.id, ledger_account.c.type, ledger_account.c.archived_at)
    account = bind.execute(sa.select(*columns).where(ledger_account.c.code == CODE)).first()
    if account is None:
        parent = bind.execute(sa.select(*columns).where(ledger_account.c.code == PARENT)).first()
        usable = parent is not None and parent.archived_at is None and parent.type == "expense"
        bind.execute(
            sa.insert(ledger_account).values(
                code=CODE,
                name=NAME,
                type="expense",
                parent_id=parent.id if usable else None,
                description="",
                created_at=now,
            )
        )
    elif account.archived_at is not None or account.type != "expense":
        # The venue uses this code for something else: a person picks the account on the mappings page.
        return
    bind.execute(sa.insert(posting_mapping).values(kind="account", subject=ROLE, account_code=CODE, updated_at=now))


def downgrade() -> None:
    op.get_bind().execute(
        sa.delete(posting_mapping).where(
            posting_mapping.c.kind == "account",
            posting_mapping.c.subject == ROLE,
            posting_mapping.c.account_code == CODE,
            posting_mapping.c.updated_by.is_(None),
        )
    )
    for table in TABLES:
        op.drop_table(table)
