"""Commands on house accounts: open, change, close and reopen an account; charge a check to it, credit a refund
back, and receive a payment against it. Each runs in the caller's transaction with the account's row locked.

Charges and refunds reach the books with the check (the sale's receivable line carries the account as its
`house_account` dimension); a payment received posts here, crediting the same receivable with the same dimension,
so the receivable in the ledger is always the sum of the accounts' balances.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.accounts import account_by_code, create_account
from app.accounting.models import AccountType
from app.accounting.services import PostingLine, next_open_day, post_entry
from app.house_accounts.models import (
    AccountEntryKind,
    CustomerAccount,
    CustomerAccountEntry,
    CustomerAccountStatus,
    ReceiptMethod,
)
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.inputs import clean_text
from app.lib.money import Money
from app.lib.settings import Settings
from app.lib.sql import is_postgres

DEFAULT_RECEIVABLE: Final = "1030"
# Where a payment received lands: cash goes to the safe (not a server's drawer), a card to card clearing.
RECEIPT_ACCOUNTS: Final[dict[ReceiptMethod, str]] = {
    ReceiptMethod.CASH: "1900",
    ReceiptMethod.CARD: "1020",
    ReceiptMethod.BANK_TRANSFER: "1200",
}
BANK_ACCOUNT: Final = ("1200", "Bank account", "1000")
MAX_LIMIT_CENTS: Final = 100_000_000
DIMENSION: Final = "house_account"


class AccountRefused(Conflict):
    """A charge the account cannot take (closed, or over its limit); nothing was charged."""

    code = "house_account_refused"


@dataclass(frozen=True)
class AccountFields:
    """What a manager types to open or change a house account."""

    name: str
    credit_limit_cents: int
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    billing_address: str = ""
    vat_number: str = ""
    note: str = ""


def _settings(session: AsyncSession) -> Settings:
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def _format(cents: int, settings: Settings) -> str:
    return Money(cents, settings.currency).format()


def business_day(settings: Settings, moment: datetime) -> dt.date:
    """The trading day a moment belongs to (the day starts at the cutoff hour in the restaurant's time zone)."""
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return (local - timedelta(hours=settings.business_day_cutoff_hour)).date()


def _clean(fields: AccountFields) -> AccountFields:
    limit = fields.credit_limit_cents
    if not 0 <= limit <= MAX_LIMIT_CENTS:
        raise InvalidInput("The credit limit must be between 0 and 1,000,000.00.")
    email = clean_text(fields.email, label="The email", max_length=120, required=False)
    if email and ("@" not in email or " " in email):
        raise InvalidInput("The email must look like name@example.com.")
    return AccountFields(
        name=clean_text(fields.name, label="The account name", max_length=80),
        credit_limit_cents=limit,
        contact_name=clean_text(fields.contact_name, label="The contact", max_length=80, required=False),
        email=email,
        phone=clean_text(fields.phone, label="The phone", max_length=40, required=False),
        billing_address=clean_text(
            fields.billing_address, label="The billing address", max_length=300, required=False, multiline=True
        ),
        vat_number=clean_text(fields.vat_number, label="The VAT number", max_length=40, required=False).upper(),
        note=clean_text(fields.note, label="The note", max_length=300, required=False, multiline=True),
    )


def _snapshot(account: CustomerAccount) -> dict[str, object]:
    return {
        "name": account.name,
        "contact_name": account.contact_name,
        "email": account.email,
        "phone": account.phone,
        "billing_address": account.billing_address,
        "vat_number": account.vat_number,
        "credit_limit_cents": account.credit_limit_cents,
        "status": account.status.value,
    }


async def _name_taken(session: AsyncSession, name: str, except_id: int | None) -> bool:
    query = select(CustomerAccount.id).where(CustomerAccount.name == name)
    if except_id is not None:
        query = query.where(col(CustomerAccount.id) != except_id)
    return (await session.exec(query)).first() is not None


async def open_account(session: AsyncSession, fields: AccountFields, *, actor_id: int) -> CustomerAccount:
    """Open a house account with its contact and credit limit."""
    fields = _clean(fields)
    if await _name_taken(session, fields.name, None):
        raise Conflict(f"A house account named {fields.name!r} already exists; choose another name.")
    account = CustomerAccount(
        name=fields.name,
        contact_name=fields.contact_name,
        email=fields.email,
        phone=fields.phone,
        billing_address=fields.billing_address,
        vat_number=fields.vat_number,
        credit_limit_cents=fields.credit_limit_cents,
        note=fields.note,
        created_by=actor_id,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"A house account named {fields.name!r} already exists; choose another name.") from None
    await audit.record(
        session,
        "house_account.opened",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        after=_snapshot(account),
    )
    return account


async def account_for_update(session: AsyncSession, account_id: int) -> CustomerAccount:
    """The account, locked against other writers until this transaction ends (row lock on PostgreSQL)."""
    query = select(CustomerAccount).where(CustomerAccount.id == account_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    account = (await session.exec(query)).first()
    if account is None:
        raise NotFound("That house account does not exist.")
    return account


async def update_account(
    session: AsyncSession, account_id: int, fields: AccountFields, *, actor_id: int
) -> CustomerAccount:
    """Change an account's name, contact, billing details or limit; a limit below the balance is refused."""
    fields = _clean(fields)
    account = await account_for_update(session, account_id)
    if await _name_taken(session, fields.name, account_id):
        raise Conflict(f"A house account named {fields.name!r} already exists; choose another name.")
    settings = _settings(session)
    if fields.credit_limit_cents < account.balance_cents:
        raise InvalidInput(
            f"{account.name} owes {_format(account.balance_cents, settings)}; the credit limit cannot be lower "
            "than that. Nothing was changed."
        )
    before = _snapshot(account)
    account.name, account.contact_name, account.email = fields.name, fields.contact_name, fields.email
    account.phone, account.billing_address, account.vat_number = fields.phone, fields.billing_address, fields.vat_number
    account.credit_limit_cents, account.note = fields.credit_limit_cents, fields.note
    session.add(account)
    await session.flush()
    await audit.record(
        session,
        "house_account.changed",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        before=before,
        after=_snapshot(account),
    )
    return account


async def close_account(session: AsyncSession, account_id: int, *, actor_id: int, reason: str) -> CustomerAccount:
    """Stop taking charges on an account; what it owes stays on it and can still be paid."""
    reason = clean_text(reason, label="The reason", max_length=200, multiline=True)
    account = await account_for_update(session, account_id)
    if account.status is CustomerAccountStatus.CLOSED:
        raise Conflict(f"{account.name} is already closed.")
    account.status, account.closed_at, account.closed_by = CustomerAccountStatus.CLOSED, utcnow(), actor_id
    session.add(account)
    await session.flush()
    await audit.record(
        session,
        "house_account.closed",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        reason=reason,
        after={"balance_cents": account.balance_cents},
    )
    return account


async def reopen_account(session: AsyncSession, account_id: int, *, actor_id: int) -> CustomerAccount:
    """Let a closed account take charges again."""
    account = await account_for_update(session, account_id)
    if account.status is CustomerAccountStatus.ACTIVE:
        raise Conflict(f"{account.name} is already open.")
    account.status, account.closed_at, account.closed_by = CustomerAccountStatus.ACTIVE, None, None
    session.add(account)
    await session.flush()
    await audit.record(session, "house_account.reopened", actor_id=actor_id, subject=f"house_account:{account.id}")
    return account


async def _append(session: AsyncSession, account: CustomerAccount, entry: CustomerAccountEntry) -> CustomerAccountEntry:
    account.balance_cents += entry.amount_cents
    entry.balance_after_cents = account.balance_cents
    session.add(account)
    session.add(entry)
    await session.flush()
    return entry


async def charge(
    session: AsyncSession,
    *,
    account_id: int | None,
    amount_cents: int,
    check_id: int,
    check_number: int,
    payment_id: int,
    receivable_code: str,
    actor_id: int,
) -> CustomerAccountEntry:
    """Charge a check's payment (with its tip) to an account; refused when it is closed or would pass its limit."""
    if account_id is None:
        raise InvalidInput("Choose the house account to charge. Nothing was charged.")
    account = await account_for_update(session, account_id)
    settings = _settings(session)
    if account.status is not CustomerAccountStatus.ACTIVE:
        raise AccountRefused(
            f"The house account {account.name} is closed and takes no charges; a manager can reopen it. "
            "Nothing was charged."
        )
    if amount_cents <= 0:
        raise InvalidInput("The amount to charge must be more than zero. Nothing was charged.")
    if account.balance_cents + amount_cents > account.credit_limit_cents:
        raise AccountRefused(
            f"{_format(amount_cents, settings)} would take {account.name} over its credit limit of "
            f"{_format(account.credit_limit_cents, settings)} (it owes {_format(account.balance_cents, settings)}, "
            f"{_format(account.available_cents, settings)} left). Nothing was charged."
        )
    entry = await _append(
        session,
        account,
        CustomerAccountEntry(
            account_id=account.id or 0,
            kind=AccountEntryKind.CHARGE,
            amount_cents=amount_cents,
            balance_after_cents=0,
            check_id=check_id,
            check_number=check_number,
            payment_id=payment_id,
            memo=f"Check #{check_number}",
            ledger_account_code=receivable_code,
            business_day=business_day(settings, utcnow()),
            created_by=actor_id,
        ),
    )
    await audit.record(
        session,
        "house_account.charged",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        after={
            "check_id": check_id,
            "payment_id": payment_id,
            "amount_cents": amount_cents,
            "balance_cents": account.balance_cents,
        },
    )
    return entry


async def credit_refund(
    session: AsyncSession, *, payment_id: int, refund_id: int, amount_cents: int, actor_id: int
) -> CustomerAccountEntry | None:
    """Take a refund on a charged payment back off its account (a closed account too); None if it was no charge."""
    charged = (
        await session.exec(select(CustomerAccountEntry).where(CustomerAccountEntry.payment_id == payment_id))
    ).first()
    if charged is None:
        return None
    account = await account_for_update(session, charged.account_id)
    settings = _settings(session)
    entry = await _append(
        session,
        account,
        CustomerAccountEntry(
            account_id=account.id or 0,
            kind=AccountEntryKind.REFUND,
            amount_cents=-amount_cents,
            balance_after_cents=0,
            check_id=charged.check_id,
            check_number=charged.check_number,
            refund_id=refund_id,
            memo=f"Refund on check #{charged.check_number}",
            ledger_account_code=charged.ledger_account_code,
            business_day=business_day(settings, utcnow()),
            created_by=actor_id,
        ),
    )
    await audit.record(
        session,
        "house_account.refunded",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        after={"refund_id": refund_id, "amount_cents": amount_cents, "balance_cents": account.balance_cents},
    )
    return entry


async def receivable_code_of(session: AsyncSession, account_id: int) -> str:
    """The receivable an account's charges were booked to (its latest charge's), the standard one before any."""
    code = (
        await session.exec(
            select(CustomerAccountEntry.ledger_account_code)
            .where(CustomerAccountEntry.account_id == account_id, CustomerAccountEntry.kind == AccountEntryKind.CHARGE)
            .order_by(col(CustomerAccountEntry.id).desc())
            .limit(1)
        )
    ).first()
    return code or DEFAULT_RECEIVABLE


async def _receipt_account(session: AsyncSession, method: ReceiptMethod) -> str:
    code = RECEIPT_ACCOUNTS[method]
    if method is ReceiptMethod.BANK_TRANSFER and await account_by_code(session, code) is None:
        # Books seeded before bank transfers were taken have no bank account yet: open it under current assets.
        bank_code, name, parent = BANK_ACCOUNT
        await create_account(session, code=bank_code, name=name, type=AccountType.ASSET, parent_code=parent)
    return code


async def receive_payment(
    session: AsyncSession,
    account_id: int,
    *,
    amount_cents: int,
    method: ReceiptMethod | str,
    reference: str,
    actor_id: int,
) -> CustomerAccountEntry:
    """Record a payment a customer made on their account and post it: debit where the money went, credit the
    receivable for this account."""
    try:
        method = ReceiptMethod(method)
    except ValueError:
        raise InvalidInput("Choose how the customer paid: cash, card or bank transfer.") from None
    reference = clean_text(reference, label="The reference", max_length=64, required=method is not ReceiptMethod.CASH)
    account = await account_for_update(session, account_id)
    settings = _settings(session)
    if amount_cents <= 0:
        raise InvalidInput("The amount received must be more than zero. Nothing was recorded.")
    if amount_cents > account.balance_cents:
        raise InvalidInput(
            f"{account.name} owes {_format(account.balance_cents, settings)}; a payment of "
            f"{_format(amount_cents, settings)} is more than that. Nothing was recorded."
        )
    now = utcnow()
    own_day = business_day(settings, now)
    receivable = await receivable_code_of(session, account.id or 0)
    debit = await _receipt_account(session, method)
    entry = await _append(
        session,
        account,
        CustomerAccountEntry(
            account_id=account.id or 0,
            kind=AccountEntryKind.PAYMENT,
            amount_cents=-amount_cents,
            balance_after_cents=0,
            method=method,
            reference=reference,
            memo=f"Payment received ({method.label.lower()})",
            ledger_account_code=receivable,
            business_day=own_day,
            created_by=actor_id,
        ),
    )
    dimension = {DIMENSION: str(account.id)}
    journal = await post_entry(
        session,
        date=await next_open_day(session, own_day),
        description=f"House account {account.name}: payment received"[:200],
        lines=[
            PostingLine(debit, amount_cents, f"{method.label} {reference}".strip()[:200], dimension),
            PostingLine(receivable, -amount_cents, f"House account {account.name}"[:200], dimension),
        ],
        source_type="house_account_payment",
        source_id=str(entry.id),
        actor_id=actor_id,
    )
    entry.journal_entry_id = journal.id
    session.add(entry)
    await session.flush()
    await audit.record(
        session,
        "house_account.payment_received",
        actor_id=actor_id,
        subject=f"house_account:{account.id}",
        after={
            "entry_id": entry.id,
            "amount_cents": amount_cents,
            "method": method.value,
            "reference": reference,
            "balance_cents": account.balance_cents,
        },
    )
    return entry
