"""table service, kitchen, checks and money, back office

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:38:40.808548
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.lib.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("reverses_id"),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entry_date"), ["date"], unique=False)
        batch_op.create_index("ix_journal_entry_source", ["source_type", "source_id"], unique=False)

    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "asset", "liability", "equity", "income", "expense", name="accounttype", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("archived_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["ledger_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_account_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "ledger_locked_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("locked_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.create_table(
        "stock_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("unit", sa.Enum("g", "ml", "piece", name="stockunit", native_enum=False, length=20), nullable=False),
        sa.Column("unit_cost_millicents", sa.BigInteger(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("archived_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "stock_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("archived_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "stock_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt",
                "sale",
                "waste",
                "count",
                "transfer",
                "refund",
                name="operationkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("supplier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("stock_operation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_operation_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_operation_kind"), ["kind"], unique=False)

    op.create_table(
        "tender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "cash", "card", "gift_card", "house_account", "other", name="tenderkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("ledger_account_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("allows_tip", sa.Boolean(), nullable=False),
        sa.Column("opens_drawer", sa.Boolean(), nullable=False),
        sa.Column("uses_terminal", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("archived_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "device_receipt_printer",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("printer_id", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["printer_id"],
            ["printer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_table(
        "drawer_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "closed", name="drawerstatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("float_cents", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_cents", sa.Integer(), nullable=True),
        sa.Column("counted_cents", sa.Integer(), nullable=True),
        sa.Column("over_short_cents", sa.Integer(), nullable=True),
        sa.Column("count_detail", sa.JSON(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_entry_id", sa.Integer(), nullable=True),
        sa.Column("close_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["close_entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["open_entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drawer_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drawer_session_business_day"), ["business_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_drawer_session_status"), ["status"], unique=False)

    op.create_table(
        "journal_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("memo", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_line_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_line_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "posting_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "resolved", name="exceptionstatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_tried_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("posting_exception", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posting_exception_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posting_exception_status"), ["status"], unique=False)

    op.create_table(
        "posting_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "category", "tender", "tax_rate", "station", "account", name="mappingkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("account_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("stock_location_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stock_location_id"],
            ["stock_location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject"),
    )
    op.create_table(
        "print_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("printer_id", sa.Integer(), nullable=False),
        sa.Column("target_printer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("open_drawer", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "printing", "printed", "failed", name="printjobstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("on_backup", sa.Boolean(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("duplicate_sent", sa.Boolean(), nullable=False),
        sa.Column("mark_reprint", sa.Boolean(), nullable=False),
        sa.Column("available_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("printed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("printed_on_id", sa.Integer(), nullable=True),
        sa.Column("failed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("reprint_of_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["printed_on_id"],
            ["printer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["printer_id"],
            ["printer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reprint_of_id"],
            ["print_job.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_printer_id"],
            ["printer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.create_index("ix_print_job_due", ["state", "available_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_job_printer_id"), ["printer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_job_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_job_target_printer_id"), ["target_printer_id"], unique=False)

    op.create_table(
        "printer_health",
        sa.Column("printer_id", sa.Integer(), nullable=False),
        sa.Column(
            "health",
            sa.Enum(
                "unknown",
                "ok",
                "paper_low",
                "paper_out",
                "offline",
                "unreachable",
                name="printerhealth",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("checked_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_printed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["printer_id"],
            ["printer.id"],
        ),
        sa.PrimaryKeyConstraint("printer_id"),
    )
    op.create_table(
        "server_checkout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("net_sales_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("card_tips_cents", sa.Integer(), nullable=False),
        sa.Column("declared_cash_tips_cents", sa.Integer(), nullable=False),
        sa.Column("cash_collected_cents", sa.Integer(), nullable=False),
        sa.Column("tips_paid_out_cents", sa.Integer(), nullable=False),
        sa.Column("owed_to_house_cents", sa.Integer(), nullable=False),
        sa.Column("pooled", sa.Boolean(), nullable=False),
        sa.Column("checked_out_by", sa.Integer(), nullable=False),
        sa.Column("checked_out_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_out_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "business_day"),
    )
    with op.batch_alter_table("server_checkout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_server_checkout_business_day"), ["business_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_server_checkout_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "staff_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=False),
        sa.Column("entered_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "business_day"),
    )
    with op.batch_alter_table("staff_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_hours_business_day"), ["business_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_hours_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "stock_level",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("on_hand_milli", sa.BigInteger(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("par_milli", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stock_item_id", "location_id"),
    )
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_level_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_level_stock_item_id"), ["stock_item_id"], unique=False)

    op.create_table(
        "stock_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt",
                "sale",
                "waste",
                "count_variance",
                "transfer_out",
                "transfer_in",
                "refund_return",
                name="movekind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost_millicents", sa.BigInteger(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["stock_operation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_move", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_move_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_move_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_move_stock_item_id"), ["stock_item_id"], unique=False)

    op.create_table(
        "tip_pool_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column(
            "method", sa.Enum("role_percent", "hours", name="poolmethod", native_enum=False, length=20), nullable=False
        ),
        sa.Column("role_percents", sa.JSON(), nullable=False),
        sa.Column("include_cash_tips", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "business_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.Enum("open", "closed", name="daystatus", native_enum=False, length=20), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("z_report", sa.JSON(), nullable=False),
        sa.Column("print_job_id", sa.Integer(), nullable=True),
        sa.Column("late_arrivals", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["print_job_id"],
            ["print_job.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.create_table(
        "drawer_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drawer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("cash_in", "pay_out", "no_sale", "tip_payout", name="movementkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("account_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["drawer_id"],
            ["drawer_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drawer_movement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drawer_movement_drawer_id"), ["drawer_id"], unique=False)

    op.create_table(
        "guest_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("table", "tab", "takeout", "online", name="checkkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "closed", "voided", "merged", name="checkstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("tab_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("covers", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("guest_check_printed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("kitchen_ready_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("table_cleared_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("split_from_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["split_from_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["dining_table.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guest_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_check_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_check_server_id"), ["server_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_check_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_check_table_id"), ["table_id"], unique=False)

    op.create_table(
        "printer_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("printer_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "unreachable",
                "paper_out",
                "offline",
                "job_failed",
                "drawer_uncertain",
                "printed_on_backup",
                name="alertkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("raised_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["print_job.id"],
        ),
        sa.ForeignKeyConstraint(
            ["printer_id"],
            ["printer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("printer_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_printer_alert_acknowledged_at"), ["acknowledged_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_printer_alert_printer_id"), ["printer_id"], unique=False)

    op.create_table(
        "tip_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("share_cents", sa.Integer(), nullable=False),
        sa.Column("computed_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["tip_pool_rule.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("business_day", "staff_id"),
    )
    with op.batch_alter_table("tip_share", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tip_share_business_day"), ["business_day"], unique=False)

    op.create_table(
        "check_closing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("tips_cents", sa.Integer(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=False),
        sa.Column("closed_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reopened_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.Integer(), nullable=True),
        sa.Column("reopen_approved_by", sa.Integer(), nullable=True),
        sa.Column("reopen_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reopen_approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reopened_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "sequence"),
    )
    with op.batch_alter_table("check_closing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_closing_check_id"), ["check_id"], unique=False)

    op.create_table(
        "check_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sale",
                "reversal",
                "refund",
                "tip_adjust",
                "stock_return",
                "waste",
                name="postingkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("server_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("stock_operation_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("posted_day", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("gross_cents", sa.Integer(), nullable=False),
        sa.Column("voids_cents", sa.Integer(), nullable=False),
        sa.Column("void_count", sa.Integer(), nullable=False),
        sa.Column("discounts_cents", sa.Integer(), nullable=False),
        sa.Column("discount_count", sa.Integer(), nullable=False),
        sa.Column("comps_cents", sa.Integer(), nullable=False),
        sa.Column("comp_count", sa.Integer(), nullable=False),
        sa.Column("net_sales_cents", sa.Integer(), nullable=False),
        sa.Column("service_charge_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("tips_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Integer(), nullable=False),
        sa.Column("covers", sa.Integer(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("posted_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("check_posting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_posting_check_id"), ["check_id"], unique=False)
        batch_op.create_index("ix_check_posting_day", ["posted_day", "kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_posting_posted_at"), ["posted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_posting_server_id"), ["server_id"], unique=False)

    op.create_table(
        "check_split",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root_check_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("seat", "items", "share", "even", "amount", name="splitkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("new_check_ids", sa.JSON(), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["root_check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["undone_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_split", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_split_root_check_id"), ["root_check_id"], unique=False)

    op.create_table(
        "kitchen_fire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("new", "addition", "void", "rush", name="firekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "course",
            sa.Enum("drinks", "starters", "mains", "dessert", name="course", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("fired_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fired_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fired_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kitchen_fire", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kitchen_fire_check_id"), ["check_id"], unique=False)

    op.create_table(
        "service_charge_waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_charge_waiver", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_charge_waiver_check_id"), ["check_id"], unique=False)

    op.create_table(
        "check_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("menu_item_id", sa.Integer(), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("modifiers_cents", sa.Integer(), nullable=False),
        sa.Column("quantity_num", sa.Integer(), nullable=False),
        sa.Column("quantity_den", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column(
            "course",
            sa.Enum("drinks", "starters", "mains", "dessert", name="course", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=True),
        sa.Column(
            "state",
            sa.Enum("pending", "held", "sent", "voided", name="linestate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("rush", sa.Boolean(), nullable=False),
        sa.Column("fire_id", sa.Integer(), nullable=True),
        sa.Column("origin_line_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=False),
        sa.Column("added_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.Integer(), nullable=True),
        sa.Column("void_approved_by", sa.Integer(), nullable=True),
        sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["menu_category.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fire_id"],
            ["kitchen_fire.id"],
        ),
        sa.ForeignKeyConstraint(
            ["menu_item_id"],
            ["menu_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["origin_line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"],
            ["tax_rate.id"],
        ),
        sa.ForeignKeyConstraint(
            ["void_approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["voided_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_line_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_line_state"), ["state"], unique=False)

    op.create_table(
        "check_portion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("split_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("removed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["split_id"],
            ["check_split.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_portion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_portion_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_portion_split_id"), ["split_id"], unique=False)

    op.create_table(
        "kitchen_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fire_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("is_expo", sa.Boolean(), nullable=False),
        sa.Column(
            "kind", sa.Enum("new", "addition", "void", name="ticketkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "course",
            sa.Enum("drinks", "starters", "mains", "dessert", name="course", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("check_number", sa.Integer(), nullable=False),
        sa.Column("table_label", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("covers", sa.Integer(), nullable=False),
        sa.Column("fired_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Enum("open", "bumped", name="ticketstate", native_enum=False, length=20), nullable=False),
        sa.Column("bumped_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bumped_by", sa.Integer(), nullable=True),
        sa.Column("rush_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("has_unrouted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bumped_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fire_id"],
            ["kitchen_fire.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fire_id", "station_id", name="uq_kitchen_ticket_fire_station"),
    )
    with op.batch_alter_table("kitchen_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_fire_id"), ["fire_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_fired_at"), ["fired_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_station_id"), ["station_id"], unique=False)

    op.create_table(
        "recipe_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("menu_item_id", sa.Integer(), nullable=True),
        sa.Column("modifier_id", sa.Integer(), nullable=True),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("(menu_item_id IS NULL) <> (modifier_id IS NULL)", name="ck_recipe_component_one_owner"),
        sa.ForeignKeyConstraint(
            ["menu_item_id"],
            ["menu_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["modifier_id"],
            ["modifier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("menu_item_id", "modifier_id", "stock_item_id"),
    )
    with op.batch_alter_table("recipe_component", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipe_component_menu_item_id"), ["menu_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recipe_component_modifier_id"), ["modifier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recipe_component_stock_item_id"), ["stock_item_id"], unique=False)

    op.create_table(
        "stock_outage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("menu_item_id", sa.Integer(), nullable=False),
        sa.Column("stock_item_id", sa.Integer(), nullable=False),
        sa.Column("at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["menu_item_id"],
            ["menu_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stock_item_id"],
            ["stock_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("menu_item_id"),
    )
    op.create_table(
        "check_comp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["removed_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_comp", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_comp_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_comp_line_id"), ["line_id"], unique=False)

    op.create_table(
        "check_discount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind", sa.Enum("percent", "amount", name="adjustmentkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("percent_bp", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["removed_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_discount", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_discount_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_discount_line_id"), ["line_id"], unique=False)

    op.create_table(
        "kitchen_fire_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fire_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("quantity_num", sa.Integer(), nullable=False),
        sa.Column("quantity_den", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fire_id"],
            ["kitchen_fire.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["check_line.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kitchen_fire_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kitchen_fire_line_fire_id"), ["fire_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_fire_line_line_id"), ["line_id"], unique=False)

    op.create_table(
        "kitchen_ticket_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("check_line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("part_of", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("quantity_num", sa.Integer(), nullable=False),
        sa.Column("quantity_den", sa.Integer(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column(
            "course",
            sa.Enum("drinks", "starters", "mains", "dessert", name="course", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=True),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("unrouted_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("voided_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rush", sa.Boolean(), nullable=False),
        sa.Column("bumped_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["kitchen_ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kitchen_ticket_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_line_check_line_id"), ["check_line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_line_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "line_modifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("modifier_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("price_delta_cents", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["modifier_id"],
            ["modifier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("line_modifier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_modifier_line_id"), ["line_id"], unique=False)

    op.create_table(
        "payment_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("charge", "refund", name="attemptkind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("portion_id", sa.Integer(), nullable=True),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("tip_cents", sa.Integer(), nullable=False),
        sa.Column("tendered_cents", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("original_payment_id", sa.Integer(), nullable=True),
        sa.Column("original_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "approved", "declined", "failed", name="attemptstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("terminal", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["portion_id"],
            ["check_portion.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["tender.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_attempt_check_id"), ["check_id"], unique=False)
        batch_op.create_index("ix_payment_attempt_pending", ["status", "requested_at"], unique=False)

    op.create_table(
        "kitchen_ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("ticket_line_id", sa.Integer(), nullable=True),
        sa.Column("fire_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "bump",
                "bump_item",
                "recall",
                "ready",
                "rush",
                "reprint",
                name="ticketaction",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["fire_id"],
            ["kitchen_fire.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["kitchen_ticket.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_line_id"],
            ["kitchen_ticket_line.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kitchen_ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_event_station_id"), ["station_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kitchen_ticket_event_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("portion_id", sa.Integer(), nullable=True),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("tip_cents", sa.Integer(), nullable=False),
        sa.Column("tendered_cents", sa.Integer(), nullable=True),
        sa.Column("change_cents", sa.Integer(), nullable=False),
        sa.Column("processor_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("card_brand", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("card_last4", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
        sa.Column("auth_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tip_adjusted_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tip_adjusted_by", sa.Integer(), nullable=True),
        sa.Column("tips_locked_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["payment_attempt.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["portion_id"],
            ["check_portion.id"],
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["tender.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tip_adjusted_by"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attempt_id"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_business_day"), ["business_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_taken_by"), ["taken_by"], unique=False)

    op.create_table(
        "check_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("tip_cents", sa.Integer(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "completed", "failed", name="refundstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("processor_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("refunded_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.lib.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", app.lib.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["guest_check.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["tender.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_refund_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_refund_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "check_refund_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("net_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["check_line.id"],
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["check_refund.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_refund_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_refund_line_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_refund_line_refund_id"), ["refund_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_refund_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_refund_line_refund_id"))
        batch_op.drop_index(batch_op.f("ix_check_refund_line_line_id"))

    op.drop_table("check_refund_line")
    with op.batch_alter_table("check_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_check_refund_check_id"))

    op.drop_table("check_refund")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_taken_by"))
        batch_op.drop_index(batch_op.f("ix_payment_check_id"))
        batch_op.drop_index(batch_op.f("ix_payment_business_day"))

    op.drop_table("payment")
    with op.batch_alter_table("kitchen_ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_event_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_event_station_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_event_at"))

    op.drop_table("kitchen_ticket_event")
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_attempt_pending")
        batch_op.drop_index(batch_op.f("ix_payment_attempt_check_id"))

    op.drop_table("payment_attempt")
    with op.batch_alter_table("line_modifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_modifier_line_id"))

    op.drop_table("line_modifier")
    with op.batch_alter_table("kitchen_ticket_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_line_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_line_check_line_id"))

    op.drop_table("kitchen_ticket_line")
    with op.batch_alter_table("kitchen_fire_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_fire_line_line_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_fire_line_fire_id"))

    op.drop_table("kitchen_fire_line")
    with op.batch_alter_table("check_discount", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_discount_line_id"))
        batch_op.drop_index(batch_op.f("ix_check_discount_check_id"))

    op.drop_table("check_discount")
    with op.batch_alter_table("check_comp", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_comp_line_id"))
        batch_op.drop_index(batch_op.f("ix_check_comp_check_id"))

    op.drop_table("check_comp")
    op.drop_table("stock_outage")
    with op.batch_alter_table("recipe_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipe_component_stock_item_id"))
        batch_op.drop_index(batch_op.f("ix_recipe_component_modifier_id"))
        batch_op.drop_index(batch_op.f("ix_recipe_component_menu_item_id"))

    op.drop_table("recipe_component")
    with op.batch_alter_table("kitchen_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_station_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_state"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_fired_at"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_fire_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_ticket_check_id"))

    op.drop_table("kitchen_ticket")
    with op.batch_alter_table("check_portion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_portion_split_id"))
        batch_op.drop_index(batch_op.f("ix_check_portion_check_id"))

    op.drop_table("check_portion")
    with op.batch_alter_table("check_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_line_state"))
        batch_op.drop_index(batch_op.f("ix_check_line_check_id"))

    op.drop_table("check_line")
    with op.batch_alter_table("service_charge_waiver", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_charge_waiver_check_id"))

    op.drop_table("service_charge_waiver")
    with op.batch_alter_table("kitchen_fire", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_fire_check_id"))

    op.drop_table("kitchen_fire")
    with op.batch_alter_table("check_split", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_split_root_check_id"))

    op.drop_table("check_split")
    with op.batch_alter_table("check_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_posting_server_id"))
        batch_op.drop_index(batch_op.f("ix_check_posting_posted_at"))
        batch_op.drop_index("ix_check_posting_day")
        batch_op.drop_index(batch_op.f("ix_check_posting_check_id"))

    op.drop_table("check_posting")
    with op.batch_alter_table("check_closing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_closing_check_id"))

    op.drop_table("check_closing")
    with op.batch_alter_table("tip_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tip_share_business_day"))

    op.drop_table("tip_share")
    with op.batch_alter_table("printer_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_printer_alert_printer_id"))
        batch_op.drop_index(batch_op.f("ix_printer_alert_acknowledged_at"))

    op.drop_table("printer_alert")
    with op.batch_alter_table("guest_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_check_table_id"))
        batch_op.drop_index(batch_op.f("ix_guest_check_status"))
        batch_op.drop_index(batch_op.f("ix_guest_check_server_id"))
        batch_op.drop_index(batch_op.f("ix_guest_check_number"))

    op.drop_table("guest_check")
    with op.batch_alter_table("drawer_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drawer_movement_drawer_id"))

    op.drop_table("drawer_movement")
    op.drop_table("business_day")
    op.drop_table("tip_pool_rule")
    with op.batch_alter_table("stock_move", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_move_stock_item_id"))
        batch_op.drop_index(batch_op.f("ix_stock_move_operation_id"))
        batch_op.drop_index(batch_op.f("ix_stock_move_location_id"))

    op.drop_table("stock_move")
    with op.batch_alter_table("stock_level", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_level_stock_item_id"))
        batch_op.drop_index(batch_op.f("ix_stock_level_location_id"))

    op.drop_table("stock_level")
    with op.batch_alter_table("staff_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_hours_staff_id"))
        batch_op.drop_index(batch_op.f("ix_staff_hours_business_day"))

    op.drop_table("staff_hours")
    with op.batch_alter_table("server_checkout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_checkout_staff_id"))
        batch_op.drop_index(batch_op.f("ix_server_checkout_business_day"))

    op.drop_table("server_checkout")
    op.drop_table("printer_health")
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_print_job_target_printer_id"))
        batch_op.drop_index(batch_op.f("ix_print_job_reference"))
        batch_op.drop_index(batch_op.f("ix_print_job_printer_id"))
        batch_op.drop_index("ix_print_job_due")

    op.drop_table("print_job")
    op.drop_table("posting_mapping")
    with op.batch_alter_table("posting_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posting_exception_status"))
        batch_op.drop_index(batch_op.f("ix_posting_exception_check_id"))

    op.drop_table("posting_exception")
    with op.batch_alter_table("journal_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_line_entry_id"))
        batch_op.drop_index(batch_op.f("ix_journal_line_account_id"))

    op.drop_table("journal_line")
    with op.batch_alter_table("drawer_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drawer_session_status"))
        batch_op.drop_index(batch_op.f("ix_drawer_session_business_day"))

    op.drop_table("drawer_session")
    op.drop_table("device_receipt_printer")
    op.drop_table("tender")
    with op.batch_alter_table("stock_operation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_operation_kind"))
        batch_op.drop_index(batch_op.f("ix_stock_operation_created_at"))

    op.drop_table("stock_operation")
    op.drop_table("stock_location")
    op.drop_table("stock_item")
    op.drop_table("ledger_locked_day")
    with op.batch_alter_table("ledger_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_account_parent_id"))

    op.drop_table("ledger_account")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entry_source")
        batch_op.drop_index(batch_op.f("ix_journal_entry_date"))

    op.drop_table("journal_entry")
