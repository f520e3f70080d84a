"""A simulated day through the real services: the books balance, the tools accept them, Z equals the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import col, select

from app.accounting.exports import export_ledger
from app.accounting.queries import trial_balance
from app.checks.models import CheckClosing
from app.checks.terminal import SimulatedTerminal
from app.closes import reports
from app.closes.calculations import tax_rate_title
from app.closes.models import CheckPosting, MappingKind, PostingKind, PostingMapping
from app.closes.simulation import simulate
from app.inventory.models import StockOperation
from app.menu.models import MenuCategory, TaxRate
from app.orders.models import Check, CheckStatus
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.closes.arrange import print_all


async def test_a_simulated_day_of_forty_checks_closes_with_books_that_hold(
    runtime: Any, demo: None, live: Any, terminal: SimulatedTerminal, tmp_path: Path
) -> None:
    result = await simulate(
        runtime.db,
        runtime.dispatcher,
        terminal,
        checks_count=40,
        close=True,
        seed=11,
        drain_prints=lambda: print_all(runtime),
    )
    assert result.closed, result.blockers
    assert result.trial_balance_net_cents == 0
    assert result.checks_closed >= 40
    assert result.splits
    assert result.refunds == 1
    assert result.reopened == 1
    day = result.day
    async with runtime.db.read() as session:
        assert (await trial_balance(session, day)).net_cents == 0
        # Every closing of every check has exactly one posting, and its stock moves under its own key.
        closings = (await session.exec(select(CheckClosing))).all()
        sales = {
            p.source_key: p
            for p in (await session.exec(select(CheckPosting).where(CheckPosting.kind == PostingKind.SALE))).all()
        }
        assert sorted(sales) == sorted(f"close:{c.check_id}:{c.sequence}" for c in closings)
        operations = {o.source_key for o in (await session.exec(select(StockOperation))).all()}
        for posting in sales.values():
            if posting.entry_id is not None and posting.breakdown["stock_lines"]:
                assert posting.stock_operation_key in operations
        open_checks = (await session.exec(select(Check).where(Check.status == CheckStatus.OPEN))).all()
        assert open_checks == []
        # The Z report's totals are the ledger's.
        z = await reports.z_report(session, day)
        ledger = await reports.ledger_day(session, day)
        mappings = (await session.exec(select(PostingMapping))).all()
        categories = {c.name: c.id for c in (await session.exec(select(MenuCategory))).all()}
        category_account = {int(m.subject): m.account_code for m in mappings if m.kind is MappingKind.CATEGORY}
        by_account: dict[str, int] = {}
        for line in z.gross_categories:
            code = category_account[categories[line.label] or 0] or ""
            by_account[code] = by_account.get(code, 0) + line.cents
        assert by_account == ledger.revenue_by_account
        assert sum(line.cents for line in z.categories) == z.net_sales_cents, "the Z lists net sales by category"
        assert z.discounts.cents == ledger.discounts_cents
        assert z.comps.cents == ledger.comps_cents
        assert z.service_charge_cents == ledger.service_charge_cents
        assert z.tax_cents == sum(ledger.tax_by_account.values())
        rates = {tax_rate_title(r.name, r.rate_bp): r.id for r in (await session.exec(select(TaxRate))).all()}
        rate_account = {int(m.subject): m.account_code for m in mappings if m.kind is MappingKind.TAX_RATE}
        assert {rate_account[rates[t.label] or 0]: t.cents for t in z.taxes} == ledger.tax_by_account
        assert z.tips_cents == ledger.tips_cents
        assert z.takings_cents == sum(ledger.takings_by_account.values())
        assert z.cost_cents == ledger.cost_cents
        assert z.net_sales_cents == z.gross_cents - z.discounts.cents - z.comps.cents  # refunds are in the gross
        assert z.total_cents == z.net_sales_cents + z.service_charge_cents + z.tax_cents
        assert z.takings_cents == z.total_cents + z.tips_cents
        # The closed day stored the same report it printed.
        from app.closes.models import BusinessDay

        stored = (await session.exec(select(BusinessDay).where(col(BusinessDay.day) == day))).one()
        assert stored.z_report["net_sales_cents"] == z.net_sales_cents
        beancount = await export_ledger(
            session, start=day.replace(day=1), end=day, fmt="beancount", currency="EUR", title="Sim"
        )
        journal = await export_ledger(
            session, start=day.replace(day=1), end=day, fmt="hledger", currency="EUR", title="Sim"
        )
    (tmp_path / "day.beancount").write_text(beancount)
    (tmp_path / "day.journal").write_text(journal)
    assert bean_check(tmp_path / "day.beancount").returncode == 0
    assert hledger_check(tmp_path / "day.journal").returncode == 0
