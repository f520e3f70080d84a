"""house accounts and customer invoices: charge accounts with their statements, invoices and credit notes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 05:40:00

`customer_account` is a house account (charge account) with its credit limit and running balance;
`customer_account_entry` its statement (charges, refunds, payments received). A payment gets the house
account it was charged to. `invoice_series` holds each numbered series' last number (locked to take the
next); `customer_invoice` the issued invoices and credit notes, which a trigger keeps from changing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db
from app.invoices.models import immutability_ddl

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time() -> app.lib.db.UTCDateTime:
    return app.lib.db.UTCDateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "customer_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(80), nullable=False),
        sa.Column("contact_name", _text(80), nullable=False),
        sa.Column("email", _text(120), nullable=False),
        sa.Column("phone", _text(40), nullable=False),
        sa.Column("billing_address", _text(300), nullable=False),
        sa.Column("vat_number", _text(40), nullable=False),
        sa.Column("credit_limit_cents", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=False),
        sa.Column("status", _enum("customeraccountstatus", "active", "closed"), nullable=False),
        sa.Column("note", _text(300), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("closed_at", _time(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["closed_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "customer_account_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("accountentrykind", "charge", "refund", "payment"), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("balance_after_cents", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("check_number", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("method", _enum("receiptmethod", "cash", "card", "bank_transfer"), nullable=True),
        sa.Column("reference", _text(64), nullable=False),
        sa.Column("memo", _text(200), nullable=False),
        sa.Column("ledger_account_code", _text(20), nullable=False),
        sa.Column("journal_entry_id", sa.Integer(), nullable=True),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["customer_account.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["journal_entry_id"], ["journal_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payment_id"),
        sa.UniqueConstraint("refund_id"),
    )
    with op.batch_alter_table("customer_account_entry", schema=None) as batch_op:
        batch_op.create_index("ix_customer_account_entry_account", ["account_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_account_entry_check_id"), ["check_id"], unique=False)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("house_account_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_payment_house_account_id"), ["house_account_id"], unique=False)
    op.create_table(
        "invoice_series",
        sa.Column("key", _text(20), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "customer_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("invoicekind", "invoice", "credit_note"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document_number", _text(30), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("check_number", sa.Integer(), nullable=False),
        sa.Column("invoiced_check_id", sa.Integer(), nullable=True),
        sa.Column("credits_invoice_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("house_account_id", sa.Integer(), nullable=True),
        sa.Column("company_name", _text(120), nullable=False),
        sa.Column("company_address", _text(300), nullable=False),
        sa.Column("vat_number", _text(40), nullable=False),
        sa.Column("venue_name", _text(120), nullable=False),
        sa.Column("venue_address", _text(300), nullable=False),
        sa.Column("venue_vat_number", _text(40), nullable=False),
        sa.Column("currency", _text(3), nullable=False),
        sa.Column("net_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("taxes", sa.JSON(), nullable=False),
        sa.Column("reason", _text(200), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("issued_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["guest_check.id"]),
        sa.ForeignKeyConstraint(["credits_invoice_id"], ["customer_invoice.id"]),
        sa.ForeignKeyConstraint(["house_account_id"], ["customer_account.id"]),
        sa.ForeignKeyConstraint(["issued_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_number"),
        sa.UniqueConstraint("invoiced_check_id"),
        sa.UniqueConstraint("kind", "number"),
        sa.UniqueConstraint("refund_id"),
        sa.UniqueConstraint("sequence"),
    )
    with op.batch_alter_table("customer_invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_invoice_check_id"), ["check_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customer_invoice_credits_invoice_id"), ["credits_invoice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_invoice_house_account_id"), ["house_account_id"], unique=False)
    for statement in immutability_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS customer_invoice_immutable ON customer_invoice")
        op.execute("DROP FUNCTION IF EXISTS invoice_refuse_change()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS customer_invoice_no_update")
        op.execute("DROP TRIGGER IF EXISTS customer_invoice_no_delete")
    op.drop_table("customer_invoice")
    op.drop_table("invoice_series")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_house_account_id"))
        batch_op.drop_column("house_account_id")
    op.drop_table("customer_account_entry")
    op.drop_table("customer_account")
