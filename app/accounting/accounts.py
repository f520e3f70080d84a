"""The chart of accounts: add, rename, archive and restore accounts, and find one by code."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, AccountType, JournalLine
from app.accounting.services import CODE_PATTERN, NAME_MAX, format_cents
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.inputs import clean_text
from app.lib.sql import is_postgres


async def account_by_code(session: AsyncSession, code: str) -> Account | None:
    """The account with this code (archived or not), or None."""
    return (await session.exec(select(Account).where(Account.code == code))).first()


async def live_account(
    session: AsyncSession, code: str, *, label: str = "Account", types: Sequence[AccountType] = ()
) -> Account:
    """The live account with this code, or a refusal naming it (`types`, when given, are the kinds allowed)."""
    code = clean_text(code, label=label, max_length=20)
    account = await account_by_code(session, code)
    if account is None:
        raise InvalidInput(f"{label} {code} is not in the chart of accounts; add it there first or choose another.")
    if account.archived_at is not None:
        raise InvalidInput(f"{label} {account.label} is archived; restore it or choose a live account.")
    if types and account.type not in types:
        allowed = " or ".join(t.value for t in types)
        raise InvalidInput(
            f"{label} {account.label} is of type {account.type.value}; choose an account of type {allowed}."
        )
    return account


async def create_account(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    type: AccountType | str,
    parent_code: str | None = None,
    description: str = "",
    actor_id: int | None = None,
) -> Account:
    """Add an account to the chart; a parent must be a live account of the same type."""
    code = clean_text(code, label="Code", max_length=20)
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput("Code uses letters, digits, dots and dashes, and starts with a letter or digit.")
    name = clean_text(name, label="Name", max_length=NAME_MAX)
    description = clean_text(description, label="Description", max_length=300, required=False)
    try:
        account_type = AccountType(type)
    except ValueError:
        raise InvalidInput(f"Type must be one of {', '.join(t.value for t in AccountType)}.") from None
    if await account_by_code(session, code) is not None:
        raise Conflict(f"Account code {code} is already in the chart.")
    parent_id: int | None = None
    if parent_code:
        parent = await account_by_code(session, parent_code.strip())
        if parent is None or parent.archived_at is not None:
            raise InvalidInput(f"Parent account {parent_code} is unknown or archived.")
        if parent.type != account_type:
            raise InvalidInput(
                f"Parent account {parent.code} is {parent.type.value}; "
                f"a {account_type.value} account cannot sit under it."
            )
        parent_id = parent.id
    account = Account(code=code, name=name, type=account_type, parent_id=parent_id, description=description)
    session.add(account)
    await session.flush()
    await audit.record(
        session,
        "accounting.account.create",
        actor_id=actor_id,
        subject=f"account:{code}",
        after={"code": code, "name": name, "type": account_type.value, "parent": parent_code or None},
    )
    return account


async def rename_account(
    session: AsyncSession, account_id: int, *, name: str, description: str = "", actor_id: int | None = None
) -> Account:
    """Change an account's name or description; its code and type stay, because postings use them."""
    account = await _account(session, account_id)
    name = clean_text(name, label="Name", max_length=NAME_MAX)
    description = clean_text(description, label="Description", max_length=300, required=False)
    before = {"name": account.name, "description": account.description}
    account.name, account.description = name, description
    session.add(account)
    await session.flush()
    await audit.record(
        session,
        "accounting.account.rename",
        actor_id=actor_id,
        subject=f"account:{account.code}",
        before=before,
        after={"name": name, "description": description},
    )
    return account


async def archive_account(session: AsyncSession, account_id: int, *, actor_id: int | None = None) -> Account:
    """Retire an account: refused while it carries a balance or has live sub-accounts."""
    account = await _account(session, account_id)
    if account.archived_at is not None:
        return account
    balance = (
        await session.exec(
            select(func.coalesce(func.sum(JournalLine.amount_cents), 0)).where(JournalLine.account_id == account_id)
        )
    ).one()
    if int(balance):
        raise Conflict(
            f"Account {account.code} carries a balance of {format_cents(int(balance))}; move it to another "
            "account with an entry before archiving."
        )
    children = (
        await session.exec(
            select(Account.code).where(Account.parent_id == account_id, col(Account.archived_at).is_(None))
        )
    ).all()
    if children:
        raise Conflict(f"Account {account.code} still has live sub-accounts: {', '.join(children)}.")
    account.archived_at = utcnow()
    session.add(account)
    await session.flush()
    await audit.record(session, "accounting.account.archive", actor_id=actor_id, subject=f"account:{account.code}")
    return account


async def restore_account(session: AsyncSession, account_id: int, *, actor_id: int | None = None) -> Account:
    """Bring an archived account back into use."""
    account = await _account(session, account_id)
    if account.archived_at is None:
        return account
    account.archived_at = None
    session.add(account)
    await session.flush()
    await audit.record(session, "accounting.account.restore", actor_id=actor_id, subject=f"account:{account.code}")
    return account


async def _account(session: AsyncSession, account_id: int) -> Account:
    query = select(Account).where(Account.id == account_id)
    if is_postgres(session):
        query = query.with_for_update()
    account = (await session.exec(query)).first()
    if account is None:
        raise NotFound("No such account.")
    return account
