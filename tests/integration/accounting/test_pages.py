"""The books' pages: full page and fragment, forms with their error paths, and the role guard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.accounting.models import Account, JournalEntry, LockedDay
from app.accounting.services import PostingLine, post_entry
from tests.integration.accounting.conftest import DAY, post_sale

READ_PAGES = [
    "/accounting/trial-balance",
    "/accounting/journal",
    "/accounting/accounts",
    "/accounting/export",
    "/accounting/locks",
]


async def _entries(runtime: Any) -> int:
    """Entries besides the demo's opening balances."""
    async with runtime.db.read() as session:
        return int(
            (
                await session.exec(
                    select(func.count()).select_from(JournalEntry).where(JournalEntry.source_type != "opening")
                )
            ).one()
        )


@pytest.mark.parametrize("url", READ_PAGES)
async def test_a_server_gets_403_on_every_books_page(server: Any, url: str) -> None:
    response = await server.get(url)
    assert response.status_code == 403
    assert "Ask a manager" in response.text


async def test_a_server_cannot_post_to_the_books(server: Any, runtime: Any) -> None:
    entry = await post_sale(runtime, "1")
    for url, data in [
        ("/accounting/accounts", {"code": "9000", "name": "Mine", "type": "asset"}),
        (f"/accounting/journal/{entry.id}/reverse", {"reason": "because", "date": DAY.isoformat()}),
        ("/accounting/locks", {"day": DAY.isoformat()}),
    ]:
        response = await server.post(url, data)
        assert response.status_code == 403, url
    assert await _entries(runtime) == 1
    async with runtime.db.read() as session:
        assert (await session.exec(select(Account).where(Account.code == "9000"))).first() is None


async def test_the_trial_balance_page_shows_both_columns_and_says_balanced(manager: Any, runtime: Any) -> None:
    await post_sale(runtime, "1")
    page = await manager.get(f"/accounting/trial-balance?as_of={DAY.isoformat()}")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Trial balance" in page.text
    assert "Cash drawers" in page.text
    assert "€10.90" in page.text
    assert "balanced" in page.text
    fragment = await manager.get(f"/accounting/trial-balance?as_of={DAY.isoformat()}", htmx=True)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "€10.90" in fragment.text


async def test_a_bad_date_on_a_books_page_is_a_clear_message(manager: Any) -> None:
    page = await manager.get("/accounting/trial-balance?as_of=yesterday")
    assert page.status_code == 422
    assert "As of must be a date like 2025-03-14." in page.text
    fragment = await manager.get("/accounting/journal?start=2025-03-20&end=2025-03-01", htmx=True)
    assert fragment.status_code == 422
    assert "before it starts" in fragment.text


async def test_the_journal_lists_entries_and_filters_by_source(manager: Any, runtime: Any) -> None:
    await post_sale(runtime, "1")
    async with runtime.db.write() as session:
        await post_entry(
            session,
            date=DAY,
            description="Stock <b>used</b>",
            lines=[PostingLine("5010", 100), PostingLine("1100", -100)],
            source_type="stock",
            source_id="1",
        )
    query = f"start={DAY.isoformat()}&end={DAY.isoformat()}"
    page = await manager.get(f"/accounting/journal?{query}")
    assert page.status_code == 200
    assert "Sale 1" in page.text
    assert "Stock &lt;b&gt;used&lt;/b&gt;" in page.text
    fragment = await manager.get(f"/accounting/journal?{query}&source=stock", htmx=True)
    assert "<html" not in fragment.text
    assert "Stock &lt;b&gt;used" in fragment.text
    assert "Sale 1" not in fragment.text


async def test_an_entry_page_shows_lines_and_a_manager_reverses_it_with_a_reason(manager: Any, runtime: Any) -> None:
    entry = await post_sale(runtime, "1")
    page = await manager.get(f"/accounting/journal/{entry.id}")
    assert page.status_code == 200
    assert "1010 Cash drawers" in page.text
    assert "Post reversal" in page.text
    fragment = await manager.get(f"/accounting/journal/{entry.id}", htmx=True)
    assert "<html" not in fragment.text
    assert "1010 Cash drawers" in fragment.text

    refused = await manager.post(f"/accounting/journal/{entry.id}/reverse", {"reason": "", "date": DAY.isoformat()})
    assert refused.status_code == 422
    assert "Reason is required" in refused.text
    bad_date = await manager.post(f"/accounting/journal/{entry.id}/reverse", {"reason": "x", "date": "14/03"})
    assert bad_date.status_code == 422
    assert "Date must be a date like" in bad_date.text
    assert await _entries(runtime) == 1

    done = await manager.post(
        f"/accounting/journal/{entry.id}/reverse", {"reason": "wrong table", "date": DAY.isoformat()}
    )
    assert done.status_code == 200
    reversal_url = done.headers["hx-redirect"]
    again = await manager.post(
        f"/accounting/journal/{entry.id}/reverse", {"reason": "wrong table", "date": DAY.isoformat()}
    )
    assert again.headers["hx-redirect"] == reversal_url, "a double tap posts one reversal"
    assert await _entries(runtime) == 2
    shown = await manager.get(reversal_url)
    assert "wrong table" in shown.text
    assert f"#{entry.id}" in shown.text
    assert "Post reversal" not in shown.text


async def test_an_unknown_entry_is_a_404_page(manager: Any) -> None:
    response = await manager.get("/accounting/journal/4242")
    assert response.status_code == 404
    assert "no journal entry #4242" in response.text


async def test_a_reversal_on_a_locked_day_is_refused_in_the_page(manager: Any, runtime: Any) -> None:
    entry = await post_sale(runtime, "1")
    locked = await manager.post("/accounting/locks", {"day": DAY.isoformat(), "reason": "closed"})
    assert locked.status_code == 200
    assert "Locked 2025-03-14." in locked.text
    refused = await manager.post(f"/accounting/journal/{entry.id}/reverse", {"reason": "x", "date": DAY.isoformat()})
    assert refused.status_code == 409
    assert "2025-03-14 are locked" in refused.text
    assert await _entries(runtime) == 1


async def test_the_chart_page_adds_archives_and_restores_accounts(manager: Any, runtime: Any) -> None:
    page = await manager.get("/accounting/accounts")
    assert page.status_code == 200
    assert "Gift cards outstanding" in page.text
    added = await manager.post(
        "/accounting/accounts", {"code": "4050", "name": "Catering sales", "type": "income", "parent_code": "4000"}
    )
    assert added.status_code == 200
    assert "Added 4050 Catering sales." in added.text
    assert "<html" not in added.text
    async with runtime.db.read() as session:
        account = (await session.exec(select(Account).where(Account.code == "4050"))).one()
    archived = await manager.post(f"/accounting/accounts/{account.id}/archive")
    assert "Archived 4050" in archived.text
    restored = await manager.post(f"/accounting/accounts/{account.id}/restore")
    assert "Restored 4050" in restored.text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"code": "1010", "name": "Again", "type": "asset"}, 409, "already in the chart"),
        ({"code": "", "name": "No code", "type": "asset"}, 422, "Code is required"),
        ({"code": "4 0", "name": "Space", "type": "income"}, 422, "Code uses letters"),
        ({"code": "4060", "name": "Odd", "type": "revenue"}, 422, "Type must be one of"),
        ({"code": "4060", "name": "Odd", "type": "income", "parent_code": "1000"}, 422, "cannot sit under"),
        ({"code": "4060", "name": "Odd", "type": "income", "parent_code": "0000"}, 422, "unknown or archived"),
        ({"code": "4060", "name": "x" * 81, "type": "income"}, 422, "limit is 80"),
    ],
)
async def test_a_bad_new_account_is_refused_with_a_clear_message(
    manager: Any, runtime: Any, data: dict[str, str], status: int, message: str
) -> None:
    async with runtime.db.read() as session:
        before = int((await session.exec(select(func.count()).select_from(Account))).one())
    response = await manager.post("/accounting/accounts", data)
    assert response.status_code == status
    assert message in response.text
    async with runtime.db.read() as session:
        assert int((await session.exec(select(func.count()).select_from(Account))).one()) == before


async def test_archiving_an_account_with_a_balance_is_refused_in_the_page(manager: Any, runtime: Any) -> None:
    await post_sale(runtime, "1")
    async with runtime.db.read() as session:
        cash = (await session.exec(select(Account).where(Account.code == "1010"))).one()
    response = await manager.post(f"/accounting/accounts/{cash.id}/archive")
    assert response.status_code == 409
    assert "carries a balance" in response.text
    missing = await manager.post("/accounting/accounts/99999/archive")
    assert missing.status_code == 404


async def test_an_account_ledger_page_runs_the_balance(manager: Any, runtime: Any) -> None:
    await post_sale(runtime, "1")
    await post_sale(runtime, "2")
    async with runtime.db.read() as session:
        cash = (await session.exec(select(Account).where(Account.code == "1010"))).one()
    url = f"/accounting/accounts/{cash.id}/ledger?start={DAY.isoformat()}&end={DAY.isoformat()}"
    page = await manager.get(url)
    assert page.status_code == 200
    assert "Opening balance" in page.text
    assert "€21.80" in page.text
    fragment = await manager.get(url, htmx=True)
    assert "<html" not in fragment.text
    assert "€21.80" in fragment.text
    assert (await manager.get("/accounting/accounts/99999/ledger")).status_code == 404


async def test_the_export_downloads_each_format_as_a_file(manager: Any, runtime: Any) -> None:
    await post_sale(runtime, "1")
    page = await manager.get("/accounting/export")
    assert page.status_code == 200
    assert "Download Beancount" in page.text
    base = f"/accounting/export/download?start={DAY.isoformat()}&end={DAY.isoformat()}"
    csv_file = await manager.get(f"{base}&format=csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert 'filename="ledger-2025-03-14-to-2025-03-14.csv"' in csv_file.headers["content-disposition"]
    assert csv_file.text.startswith("date,entry_id")
    beancount = await manager.get(f"{base}&format=beancount")
    assert beancount.status_code == 200
    assert "open Assets:1000-Current-assets:1010-Cash-drawers EUR" in beancount.text
    journal = await manager.get(f"{base}&format=hledger")
    assert journal.status_code == 200
    assert "account Assets:1000-Current-assets" in journal.text


async def test_a_bad_export_request_is_a_clear_message(manager: Any) -> None:
    wrong_format = await manager.get("/accounting/export/download?start=2025-03-01&end=2025-03-02&format=xlsx")
    assert wrong_format.status_code == 422
    assert "Choose an export format" in wrong_format.text
    backwards = await manager.get("/accounting/export/download?start=2025-03-02&end=2025-03-01&format=csv")
    assert backwards.status_code == 422
    assert "before it starts" in backwards.text


async def test_locking_and_unlocking_days_in_the_page(manager: Any, runtime: Any) -> None:
    page = await manager.get("/accounting/locks")
    assert page.status_code == 200
    assert "No day is locked yet." in page.text
    assert (await manager.post("/accounting/locks", {"day": ""})).status_code == 422
    assert (await manager.post("/accounting/locks", {"day": "someday"})).status_code == 422
    locked = await manager.post("/accounting/locks", {"day": DAY.isoformat()})
    assert "Locked 2025-03-14." in locked.text
    no_reason = await manager.post("/accounting/locks/unlock", {"day": DAY.isoformat(), "reason": ""})
    assert no_reason.status_code == 422
    assert "Reason is required" in no_reason.text
    async with runtime.db.read() as session:
        assert (await session.exec(select(LockedDay))).first() is not None
    unlocked = await manager.post("/accounting/locks/unlock", {"day": DAY.isoformat(), "reason": "late invoice"})
    assert "Unlocked 2025-03-14." in unlocked.text
    not_locked = await manager.post("/accounting/locks/unlock", {"day": DAY.isoformat(), "reason": "again"})
    assert not_locked.status_code == 409
    assert DAY - dt.timedelta(days=1) < DAY
