"""house accounts for stock postings: accounts payable (deliveries) and stock count variance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00

Deliveries, counts and waste post to the ledger through the outbox, with deliveries against the
`accounts_payable` role and counts against `stock_variance`. A database whose posting mapping was
set up before those roles existed has no rows for them, so its first delivery or count would stop
as a posting exception. This adds the standard account for each role where the chart lacks it, and
maps the role to it, on any database that already has a posting mapping. A database without one
is left alone: the demo and the mappings page seed every role, these two included.
"""

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op

from app.lib.clock import utcnow
from app.lib.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# role, account code, account name, account type, parent code: as in the standard chart and ROLE_ACCOUNTS
STOCK_ROLES: Final = (
    ("accounts_payable", "2030", "Accounts payable", "liability", "2000"),
    ("stock_variance", "5030", "Stock count variance", "expense", "5000"),
)

# The tables as they stand at this revision, not as the models may later describe them.
ledger_account = sa.table(
    "ledger_account",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("type", sa.String()),
    sa.column("parent_id", sa.Integer()),
    sa.column("description", sa.String()),
    sa.column("archived_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
)
posting_mapping = sa.table(
    "posting_mapping",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("account_code", sa.String()),
    sa.column("stock_location_id", sa.Integer()),
    sa.column("updated_by", sa.Integer()),
    sa.column("updated_at", UTCDateTime()),
)


def _account(bind: sa.Connection, code: str) -> Any:
    query = sa.select(ledger_account.c.id, ledger_account.c.type, ledger_account.c.archived_at)
    return bind.execute(query.where(ledger_account.c.code == code)).first()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(posting_mapping)).scalar_one() == 0:
        return
    now = utcnow()
    for role, code, name, account_type, parent_code in STOCK_ROLES:
        mapped = bind.execute(
            sa.select(posting_mapping.c.id).where(
                posting_mapping.c.kind == "account", posting_mapping.c.subject == role
            )
        ).first()
        if mapped is not None:
            continue
        account = _account(bind, code)
        if account is None:
            parent = _account(bind, parent_code)
            # create_account's rule: a parent is a live account of the same type, or there is none
            usable = parent is not None and parent.archived_at is None and parent.type == account_type
            bind.execute(
                sa.insert(ledger_account).values(
                    code=code,
                    name=name,
                    type=account_type,
                    parent_id=parent.id if usable else None,
                    description="",
                    created_at=now,
                )
            )
        elif account.archived_at is not None or account.type != account_type:
            # The venue retired this code or uses it for something else: a person picks the account.
            continue
        bind.execute(sa.insert(posting_mapping).values(kind="account", subject=role, account_code=code, updated_at=now))


def downgrade() -> None:
    # Only the mappings this revision would have written go: one a manager saved carries updated_by.
    # Accounts stay, as the chart never deletes one (journal lines may already point at it).
    bind = op.get_bind()
    for role, code, *_ in STOCK_ROLES:
        bind.execute(
            sa.delete(posting_mapping).where(
                posting_mapping.c.kind == "account",
                posting_mapping.c.subject == role,
                posting_mapping.c.account_code == code,
                posting_mapping.c.updated_by.is_(None),
            )
        )
