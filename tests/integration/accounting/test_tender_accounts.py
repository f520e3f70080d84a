"""Tenders and the chart agree: each tender's ledger account is a live account, and postings use that account."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.accounting.models import Account, AccountType
from app.checks.models import Tender
from app.closes.models import MappingKind, PostingMapping
from app.lib.audit import AuditEntry


async def _tenders(runtime: Any) -> list[Tender]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(Tender).order_by(Tender.name))).all())


async def _audited(runtime: Any) -> int:
    async with runtime.db.read() as session:
        return int((await session.exec(select(func.count()).select_from(AuditEntry))).one())


async def test_every_demo_tender_points_at_a_live_account_its_postings_use(runtime: Any, demo: None) -> None:
    async with runtime.db.read() as session:
        chart = {a.code: a for a in (await session.exec(select(Account))).all()}
        mapped = {
            m.subject: m.account_code
            for m in (await session.exec(select(PostingMapping).where(PostingMapping.kind == MappingKind.TENDER))).all()
        }
    tenders = await _tenders(runtime)
    assert {t.name: t.ledger_account_code for t in tenders} == {
        "Card": "1020",
        "Cash": "1010",
        "Gift card": "2010",
        "House account": "1030",
    }
    for tender in tenders:
        account = chart.get(tender.ledger_account_code)
        assert account is not None, f"{tender.name}: {tender.ledger_account_code} is not in the chart"
        assert account.archived_at is None
        assert account.type in (AccountType.ASSET, AccountType.LIABILITY), tender.name
        assert mapped[str(tender.id)] == tender.ledger_account_code, f"{tender.name} posts where its page says"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2400", "Ledger account 2400 is not in the chart of accounts; add it there first or choose another."),
        ("4010", "Ledger account 4010 Food sales is of type income; choose an account of type asset or liability."),
        ("10 20", "The ledger account code is 1 to 20 letters or digits, like 1020."),
    ],
)
async def test_a_tender_whose_account_is_not_in_the_chart_is_refused(
    manager: Any, runtime: Any, code: str, message: str
) -> None:
    before, audited = await _tenders(runtime), await _audited(runtime)
    response = await manager.post(
        "/manage/tenders",
        {"idempotency_key": f"tender-{code}", "name": "Voucher", "kind": "other", "ledger_account_code": code},
    )
    assert response.status_code == 422
    assert message in response.text
    assert await _tenders(runtime) == before, "nothing was saved"
    assert await _audited(runtime) == audited


async def test_an_archived_account_cannot_take_a_tenders_money(manager: Any, runtime: Any) -> None:
    async with runtime.db.read() as session:
        other = (await session.exec(select(Account).where(Account.code == "1040"))).one()
    assert (await manager.post(f"/accounting/accounts/{other.id}/archive", {})).status_code == 200
    response = await manager.post(
        "/manage/tenders",
        {"idempotency_key": "tender-archived", "name": "Voucher", "kind": "other", "ledger_account_code": "1040"},
    )
    assert response.status_code == 422
    assert "Ledger account 1040 Other tenders clearing is archived; restore it or choose a live account." in (
        response.text
    )
    assert "Voucher" not in {t.name for t in await _tenders(runtime)}


async def test_a_tender_on_a_live_clearing_account_is_saved(manager: Any, runtime: Any) -> None:
    response = await manager.post(
        "/manage/tenders",
        {"idempotency_key": "tender-ok", "name": "Voucher", "kind": "other", "ledger_account_code": "1040"},
    )
    assert response.status_code == 200
    assert "Voucher saved." in response.text
    saved = {t.name: t.ledger_account_code for t in await _tenders(runtime)}
    assert saved["Voucher"] == "1040"


async def _tender_mapping(runtime: Any, tender_id: int) -> str | None:
    async with runtime.db.read() as session:
        row = (
            await session.exec(
                select(PostingMapping).where(
                    PostingMapping.kind == MappingKind.TENDER, PostingMapping.subject == str(tender_id)
                )
            )
        ).first()
    return row.account_code if row else None


async def test_a_new_tender_posts_to_its_account_from_the_start(manager: Any, runtime: Any) -> None:
    response = await manager.post(
        "/manage/tenders",
        {"idempotency_key": "tender-new", "name": "Voucher", "kind": "other", "ledger_account_code": "1040"},
    )
    assert response.status_code == 200, response.text
    [voucher] = [t for t in await _tenders(runtime) if t.name == "Voucher"]
    assert await _tender_mapping(runtime, voucher.id or 0) == "1040"


async def test_moving_a_tender_to_another_account_moves_its_postings_and_is_audited(manager: Any, runtime: Any) -> None:
    [card] = [t for t in await _tenders(runtime) if t.name == "Card"]
    audited = await _audited(runtime)
    response = await manager.post(
        "/manage/tenders",
        {
            "idempotency_key": "tender-card-move",
            "tender_id": str(card.id),
            "name": "Card",
            "kind": "card",
            "ledger_account_code": "1040",
            "allows_tip": "1",
            "uses_terminal": "1",
        },
    )
    assert response.status_code == 200, response.text
    assert await _tender_mapping(runtime, card.id or 0) == "1040"
    async with runtime.db.read() as session:
        entries = (await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all()[audited:]
    assert [e.action for e in entries] == ["closes.mapping", "checks.tender_save"]
    assert entries[0].before == {"account_code": "1020", "stock_location_id": None}
    assert entries[0].after == {"account_code": "1040", "stock_location_id": None}


async def test_mapping_a_tender_to_another_account_shows_on_the_tenders_page(manager: Any, runtime: Any) -> None:
    [cash] = [t for t in await _tenders(runtime) if t.name == "Cash"]
    response = await manager.post(
        "/closes/mappings", {"kind": "tender", "subject": str(cash.id), "account_code": "1040"}
    )
    assert response.status_code == 200, response.text
    [cash] = [t for t in await _tenders(runtime) if t.name == "Cash"]
    assert cash.ledger_account_code == "1040"
    assert await _tender_mapping(runtime, cash.id or 0) == "1040"


async def test_a_tender_cannot_be_mapped_to_an_income_account(manager: Any, runtime: Any) -> None:
    [cash] = [t for t in await _tenders(runtime) if t.name == "Cash"]
    audited = await _audited(runtime)
    response = await manager.post(
        "/closes/mappings", {"kind": "tender", "subject": str(cash.id), "account_code": "4010"}
    )
    assert response.status_code == 422
    assert "is not an asset or a liability" in response.text
    assert [t.ledger_account_code for t in await _tenders(runtime) if t.name == "Cash"] == ["1010"]
    assert await _tender_mapping(runtime, cash.id or 0) == "1010"
    assert await _audited(runtime) == audited
