"""House accounts (charge accounts): charging a check, the limit and a closed account refused with nothing
changed, the statement, payments received, refunds, and the receivable in the ledger equal to the accounts'
balances, its lines carrying each account as their dimension."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.exports import export_ledger
from app.accounting.models import Account, JournalLine
from app.checks import payments
from app.checks.models import Payment
from app.checks.terminal import SimulatedTerminal
from app.house_accounts import queries as house_queries
from app.house_accounts.models import AccountEntryKind, CustomerAccount, CustomerAccountEntry
from app.house_accounts.services import AccountRefused
from app.lib.audit import AuditEntry
from app.orders.models import CheckStatus
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.checks.arrange import check_row, money, post, ring_in, rows, tenders
from tests.integration.closes.arrange import deliver

DINNER = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM")]


async def open_account(manager: Any, runtime: Any, name: str, limit: str, **extra: str) -> CustomerAccount:
    response = await manager.post("/manage/house-accounts", {"name": name, "credit_limit": limit, **extra})
    assert response.status_code == 200, response.text
    assert f"House account {name} opened." in response.text
    return await account_named(runtime, name)


async def account_named(runtime: Any, name: str) -> CustomerAccount:
    async with runtime.db.read() as session:
        return (await session.exec(select(CustomerAccount).where(CustomerAccount.name == name))).one()


async def charge(device: Any, runtime: Any, check_id: int, account_id: int | None, tip: str = "") -> Any:
    total = (await money(runtime, check_id)).due
    form = {"tender_id": str((await tenders(runtime))["House account"]), "amount": f"{total / 100:.2f}"}
    if account_id is not None:
        form["house_account_id"] = str(account_id)
    if tip:
        form["tip"] = tip
    return await post(device, runtime, check_id, "pay", form)


async def receivable_by_account(runtime: Any) -> tuple[int, dict[str, int]]:
    """The house-account receivable's balance in the ledger, and its lines summed per `house_account` dimension."""
    async with runtime.db.read() as session:
        lines = (
            await session.exec(
                select(JournalLine)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(Account.code == "1030")
            )
        ).all()
    per: dict[str, int] = {}
    for line in lines:
        per[line.dimensions.get("house_account", "none")] = (
            per.get(line.dimensions.get("house_account", "none"), 0) + line.amount_cents
        )
    return sum(line.amount_cents for line in lines), per


async def test_a_check_charged_to_a_house_account_is_a_receivable_of_that_account_until_it_is_paid(
    manager: Any, server: Any, runtime: Any, tmp_path: Path
) -> None:
    harbour = await open_account(
        manager,
        runtime,
        "Harbour Shipping Ltd",
        "500.00",
        contact_name="Accounts desk",
        email="accounts@harbour.example",
        billing_address="1 Quay Road\nPortsmouth",
        vat_number="gb 123 4567 89",
    )
    small = await open_account(manager, runtime, "Corner Studio", "10.00")
    closed = await open_account(manager, runtime, "Old Firm", "200.00")
    assert harbour.vat_number == "GB 123 4567 89"
    duplicate = await manager.post("/manage/house-accounts", {"name": "Corner Studio", "credit_limit": "5"})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.text
    bad_limit = await manager.post("/manage/house-accounts", {"name": "Neg", "credit_limit": "-5"})
    assert bad_limit.status_code == 422
    refused_role = await server.post("/manage/house-accounts", {"name": "Server's", "credit_limit": "5"})
    assert refused_role.status_code == 403
    closing = await manager.post(f"/manage/house-accounts/{closed.id}/close", {"reason": "Company moved away"})
    assert "closed to new charges" in closing.text

    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    version = (await check_row(runtime, arranged.check_id)).version

    # The settle page offers the accounts that can take a charge, with what each has left.
    page = await server.get(f"/checks/{arranged.check_id}/settle")
    assert "House account (charge account)" in page.text
    assert "Harbour Shipping Ltd · €500.00 left" in page.text
    assert "Old Firm" not in page.text

    no_choice = await charge(server, runtime, arranged.check_id, None)
    assert no_choice.status_code == 422
    assert "Choose the house account to charge. Nothing was charged." in no_choice.text
    over = await charge(server, runtime, arranged.check_id, small.id)
    assert over.status_code == 409
    assert "over its credit limit of €10.00" in over.text
    assert "Nothing was charged." in over.text
    shut = await charge(server, runtime, arranged.check_id, closed.id)
    assert shut.status_code == 409
    assert "is closed and takes no charges" in shut.text
    # Nothing changed by the refusals: no payment, no entry, no balance, the check open at the same version.
    assert await rows(runtime, Payment) == []
    assert await rows(runtime, CustomerAccountEntry) == []
    after_refusals = await check_row(runtime, arranged.check_id)
    assert (after_refusals.status, after_refusals.version) == (CheckStatus.OPEN, version)
    assert (await account_named(runtime, "Corner Studio")).balance_cents == 0

    charged = await charge(server, runtime, arranged.check_id, harbour.id, tip="5.00")
    assert charged.status_code == 200, charged.text
    assert (await check_row(runtime, arranged.check_id)).status is CheckStatus.CLOSED
    [payment] = await rows(runtime, Payment)
    assert payment.house_account_id == harbour.id
    [entry] = await rows(runtime, CustomerAccountEntry)
    assert (entry.kind, entry.amount_cents, entry.check_id) == (AccountEntryKind.CHARGE, total + 500, arranged.check_id)
    assert (await account_named(runtime, harbour.name)).balance_cents == total + 500
    tip = await server.post(f"/checks/{arranged.check_id}/pay/{payment.id}/tip", {"tip": "9.00", "manager_pin": "9999"})
    assert tip.status_code == 422
    assert "set when it is charged" in tip.text

    # At close the sale's receivable line names the account.
    await deliver(runtime)
    balance, per_account = await receivable_by_account(runtime)
    assert per_account == {str(harbour.id): total + 500}

    # A payment received by bank transfer credits the same receivable for the same account; more than owed is refused.
    too_much = await manager.post(
        f"/manage/house-accounts/{harbour.id}/payments", {"amount": "9999", "method": "bank_transfer", "reference": "X"}
    )
    assert too_much.status_code == 422
    assert "is more than that" in too_much.text
    no_ref = await manager.post(f"/manage/house-accounts/{harbour.id}/payments", {"amount": "10", "method": "card"})
    assert no_ref.status_code == 422
    received = await manager.post(
        f"/manage/house-accounts/{harbour.id}/payments",
        {"amount": "20.00", "method": "bank_transfer", "reference": "TRF-0042"},
    )
    assert received.status_code == 200, received.text
    assert "Payment of €20.00 received." in received.text

    # A refund of one line goes back onto the account.
    line = arranged.line_ids["SD-LEM"]
    line_total = (await money(runtime, arranged.check_id)).line_totals[line].total
    refunded = await post(
        manager, runtime, arranged.check_id, "refund", {"scope": "lines", "line_ids": [str(line)], "reason": "Cold"}
    )
    assert refunded.status_code == 200, refunded.text
    await deliver(runtime)

    owed = total + 500 - 2000 - line_total
    account = await account_named(runtime, harbour.name)
    assert account.balance_cents == owed
    balance, per_account = await receivable_by_account(runtime)
    async with runtime.db.read() as session:
        assert balance == await house_queries.total_balance(session) == owed
    assert per_account == {str(harbour.id): owed}
    kinds = [(e.kind, e.amount_cents, e.balance_after_cents) for e in await rows(runtime, CustomerAccountEntry)]
    assert kinds == [
        (AccountEntryKind.CHARGE, total + 500, total + 500),
        (AccountEntryKind.PAYMENT, -2000, total + 500 - 2000),
        (AccountEntryKind.REFUND, -line_total, owed),
    ]

    # The statement: every movement with its running balance, on screen and on paper.
    statement = await manager.get(f"/manage/house-accounts/{harbour.id}")
    assert statement.status_code == 200
    text = statement.text
    assert f"check #{(await check_row(runtime, arranged.check_id)).number}" in text
    assert "TRF-0042" in text
    assert "Payment received" in text
    assert "Refund" in text
    printable = await manager.get(f"/manage/house-accounts/{harbour.id}/statement")
    assert printable.status_code == 200
    assert "Statement of account" in printable.text
    assert "Amount due" in printable.text
    today = dt.date.today()
    empty = await manager.get(
        f"/manage/house-accounts/{harbour.id}/statement?start={(today + dt.timedelta(days=30)).isoformat()}"
    )
    assert "Nothing in this period." in empty.text
    fragment = await manager.get(f"/manage/house-accounts/{harbour.id}", htmx=True)
    assert "<html" not in fragment.text
    assert "Statement" in fragment.text
    listing = await manager.get("/manage/house-accounts")
    assert "Harbour Shipping Ltd" in listing.text

    # A limit below what is owed is refused; every change is in the audit log.
    lower = await manager.post(f"/manage/house-accounts/{harbour.id}", {"name": harbour.name, "credit_limit": "1.00"})
    assert lower.status_code == 422
    actions = {e.action for e in await rows(runtime, AuditEntry, col(AuditEntry.action).startswith("house_account."))}
    assert actions >= {
        "house_account.opened",
        "house_account.closed",
        "house_account.charged",
        "house_account.payment_received",
        "house_account.refunded",
    }

    # The books with these dimensions still pass both independent checkers.
    async with runtime.db.read() as session:
        first = (await session.exec(select(func.min(JournalLine.id)))).one()
        assert first is not None
        for fmt, checker in (("beancount", bean_check), ("hledger", hledger_check)):
            content = await export_ledger(
                session,
                start=today - dt.timedelta(days=2),
                end=today + dt.timedelta(days=2),
                fmt=fmt,
                currency="EUR",
                title="Books",
            )
            path = tmp_path / f"books.{fmt}"
            path.write_text(content, encoding="utf-8")
            result = checker(path)
            assert result.returncode == 0, result.stdout + result.stderr


async def test_two_tablets_charging_one_account_at_once_cannot_pass_its_limit_together(
    manager: Any, runtime: Any
) -> None:
    first = await ring_in(runtime, items=DINNER, table="5")
    second = await ring_in(runtime, items=DINNER, table="6")
    due = (await money(runtime, first.check_id)).due
    assert (await money(runtime, second.check_id)).due == due
    # Room for one of the two checks, not both.
    account = await open_account(manager, runtime, "Tight Limit Co", f"{(due * 3 // 2) / 100:.2f}")
    tender_id = (await tenders(runtime))["House account"]
    terminal = SimulatedTerminal(Path(runtime.settings.var_dir) / "terminal")

    async def pay(check_id: int) -> Any:
        request = payments.PaymentRequest(
            check_id=check_id,
            tender_id=tender_id,
            actor=first.server,
            idempotency_key=uuid.uuid4().hex,
            house_account_id=account.id,
        )
        return await payments.take_payment(runtime.db, terminal, request)

    outcomes = await asyncio.gather(pay(first.check_id), pay(second.check_id), return_exceptions=True)
    taken = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(taken) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], AccountRefused)
    assert "over its credit limit" in refused[0].message
    assert (await account_named(runtime, "Tight Limit Co")).balance_cents == due
    assert len(await rows(runtime, Payment)) == 1
    assert [e.amount_cents for e in await rows(runtime, CustomerAccountEntry)] == [due]
