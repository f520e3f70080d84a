"""Read models of the JSON API: closed checks, journal entries, stock moves and levels, kitchen tickets, menu items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounting.models import Account, JournalEntry, JournalLine
from app.api import schemas
from app.checks.queries import CheckMoney, check_money
from app.closes.models import CheckPosting, PostingKind
from app.floor.models import DiningTable
from app.inventory.models import StockItem, StockLevel, StockLocation, StockMove, StockOperation
from app.kitchen.models import KitchenTicket, KitchenTicketLine, Station
from app.menu.models import MenuCategory, MenuItem
from app.orders.models import Check, CheckStatus
from app.staff.models import Staff


def line_out(money: CheckMoney) -> list[schemas.CheckLineOut]:
    """A check's lines with their money, as the API shows them."""
    result = []
    for line in money.lines:
        totals = money.line_totals.get(line.id or 0)
        result.append(
            schemas.CheckLineOut(
                id=line.id or 0,
                sku=line.sku,
                name=line.name,
                category_id=line.category_id,
                quantity_num=line.quantity_num,
                quantity_den=line.quantity_den,
                unit_price_cents=line.unit_price_cents,
                modifiers_cents=line.modifiers_cents,
                tax_rate_bp=line.tax_rate_bp,
                seat=line.seat,
                course=line.course.value,
                state=line.state.value,
                void_reason=line.void_reason,
                net_cents=totals.net if totals else 0,
                tax_cents=totals.tax if totals else 0,
                discount_cents=totals.discount if totals else 0,
                comp_cents=totals.comp if totals else 0,
                modifiers=[
                    schemas.ModifierOut(m.modifier_id, m.group_name, m.name, m.price_delta_cents)
                    for m in money.modifiers.get(line.id or 0, ())
                ],
                promotion_cents=totals.promotion if totals else 0,
                promotion=totals.promotion_name if totals else None,
            )
        )
    return result


async def check_out(session: AsyncSession, check: Check) -> schemas.CheckOut:
    """One check with totals, lines and payments."""
    money = await check_money(session, check)
    server = await session.get(Staff, check.server_id)
    table = await session.get(DiningTable, check.table_id) if check.table_id else None
    posting = (
        await session.exec(
            select(CheckPosting)
            .where(CheckPosting.check_id == check.id, CheckPosting.kind == PostingKind.SALE)
            .order_by(col(CheckPosting.id).desc())
        )
    ).first()
    totals = money.totals
    return schemas.CheckOut(
        id=check.id or 0,
        number=check.number,
        kind=check.kind.value,
        status=check.status.value,
        table=table.name if table else None,
        tab_name=check.tab_name,
        server=server.name if server else "",
        covers=check.covers,
        opened_at=check.opened_at,
        closed_at=check.closed_at,
        business_day=posting.posted_day if posting else None,
        gross_cents=totals.gross,
        discounts_cents=totals.discounts,
        comps_cents=totals.comps,
        net_sales_cents=totals.net_sales,
        service_charge_cents=totals.service_charge,
        tax_cents=totals.tax,
        total_cents=totals.total,
        tips_cents=money.tips,
        lines=line_out(money),
        payments=[
            schemas.PaymentOut(
                id=p.id or 0,
                tender=money.tenders[p.tender_id].name,
                tender_kind=money.tenders[p.tender_id].kind.value,
                amount_cents=p.amount_cents,
                tip_cents=p.tip_cents,
                change_cents=p.change_cents,
                refunded_cents=p.refunded_cents,
                card_brand=p.card_brand,
                card_last4=p.card_last4,
                taken_at=p.taken_at,
            )
            for p in money.payments
        ],
        promotions_cents=totals.promotions,
    )


def _next(ids: Sequence[int], limit: int) -> int | None:
    return ids[-1] if len(ids) == limit and ids else None


async def closed_checks(session: AsyncSession, *, after_id: int, limit: int, day: dt.date | None) -> schemas.CheckPage:
    """Closed checks by id, optionally only those posted on one business day."""
    query = select(Check).where(Check.status == CheckStatus.CLOSED, col(Check.id) > after_id)
    if day is not None:
        posted = select(CheckPosting.check_id).where(
            CheckPosting.posted_day == day, CheckPosting.kind == PostingKind.SALE
        )
        query = query.where(col(Check.id).in_(posted))
    checks = (await session.exec(query.order_by(col(Check.id)).limit(limit))).all()
    items = [await check_out(session, check) for check in checks]
    return schemas.CheckPage(items=items, next_after_id=_next([c.id for c in items], limit))


async def journal(
    session: AsyncSession, *, after_id: int, limit: int, start: dt.date | None, end: dt.date | None
) -> schemas.JournalPage:
    """Journal entries by id with their lines, optionally between two dates."""
    query = select(JournalEntry).where(col(JournalEntry.id) > after_id)
    if start is not None:
        query = query.where(col(JournalEntry.date) >= start)
    if end is not None:
        query = query.where(col(JournalEntry.date) <= end)
    entries = (await session.exec(query.order_by(col(JournalEntry.id)).limit(limit))).all()
    ids = [e.id or 0 for e in entries]
    lines: dict[int, list[schemas.JournalLineOut]] = {i: [] for i in ids}
    if ids:
        rows = (
            await session.exec(
                select(JournalLine, Account)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(col(JournalLine.entry_id).in_(ids))
                .order_by(col(JournalLine.entry_id), col(JournalLine.position))
            )
        ).all()
        for line, account in rows:
            lines[line.entry_id].append(
                schemas.JournalLineOut(account.code, account.name, line.amount_cents, line.memo, dict(line.dimensions))
            )
    items = [
        schemas.JournalEntryOut(
            id=e.id or 0,
            date=e.date,
            description=e.description,
            source_type=e.source_type,
            source_id=e.source_id,
            reverses_id=e.reverses_id,
            posted_at=e.posted_at,
            lines=lines[e.id or 0],
        )
        for e in entries
    ]
    return schemas.JournalPage(items=items, next_after_id=_next(ids, limit))


async def stock_moves(session: AsyncSession, *, after_id: int, limit: int) -> schemas.StockMovePage:
    """Stock moves by id, with their operation and names."""
    rows = (
        await session.exec(
            select(StockMove, StockOperation, StockItem, StockLocation)
            .join(StockOperation, col(StockOperation.id) == col(StockMove.operation_id))
            .join(StockItem, col(StockItem.id) == col(StockMove.stock_item_id))
            .join(StockLocation, col(StockLocation.id) == col(StockMove.location_id))
            .where(col(StockMove.id) > after_id)
            .order_by(col(StockMove.id))
            .limit(limit)
        )
    ).all()
    items = [
        schemas.StockMoveOut(
            id=move.id or 0,
            operation=operation.kind.value,
            source_key=operation.source_key,
            kind=move.kind.value,
            stock_item_id=item.id or 0,
            stock_item=item.name,
            unit=item.unit.value,
            location=location.name,
            quantity_milli=move.quantity_milli,
            value_cents=move.value_cents,
            created_at=move.created_at,
        )
        for move, operation, item, location in rows
    ]
    return schemas.StockMovePage(items=items, next_after_id=_next([i.id for i in items], limit))


async def stock_levels(session: AsyncSession) -> list[schemas.StockLevelOut]:
    """What every location holds of every item."""
    rows = (
        await session.exec(
            select(StockLevel, StockItem, StockLocation)
            .join(StockItem, col(StockItem.id) == col(StockLevel.stock_item_id))
            .join(StockLocation, col(StockLocation.id) == col(StockLevel.location_id))
            .order_by(col(StockItem.name), col(StockLocation.sort_order))
        )
    ).all()
    return [
        schemas.StockLevelOut(
            stock_item_id=item.id or 0,
            stock_item=item.name,
            unit=item.unit.value,
            location=location.name,
            on_hand_milli=level.on_hand_milli,
            value_cents=level.value_cents,
            par_milli=level.par_milli,
        )
        for level, item, location in rows
    ]


async def kitchen_tickets(session: AsyncSession, *, after_id: int, limit: int) -> schemas.TicketPage:
    """Kitchen tickets by id, with their lines and fire-to-bump time."""
    tickets = (
        await session.exec(
            select(KitchenTicket).where(col(KitchenTicket.id) > after_id).order_by(col(KitchenTicket.id)).limit(limit)
        )
    ).all()
    ids = [t.id or 0 for t in tickets]
    stations = {s.id or 0: s.name for s in (await session.exec(select(Station))).all()}
    lines: dict[int, list[schemas.TicketLineOut]] = {i: [] for i in ids}
    if ids:
        for line in (
            await session.exec(
                select(KitchenTicketLine)
                .where(col(KitchenTicketLine.ticket_id).in_(ids))
                .order_by(col(KitchenTicketLine.ticket_id), col(KitchenTicketLine.position))
            )
        ).all():
            lines[line.ticket_id].append(
                schemas.TicketLineOut(
                    name=line.name,
                    quantity_num=line.quantity_num,
                    quantity_den=line.quantity_den,
                    seat=line.seat,
                    modifiers=list(line.modifiers),
                    note=line.note,
                    voided=line.voided_at is not None,
                    bumped_at=line.bumped_at,
                )
            )
    items = [
        schemas.KitchenTicketOut(
            id=t.id or 0,
            check_id=t.check_id,
            check_number=t.check_number,
            station=stations.get(t.station_id, ""),
            expo=t.is_expo,
            kind=t.kind.value,
            course=t.course.value if t.course else None,
            table=t.table_label,
            server=t.server_name,
            fired_at=t.fired_at,
            bumped_at=t.bumped_at,
            seconds_to_bump=round((t.bumped_at - t.fired_at).total_seconds()) if t.bumped_at else None,
            lines=lines[t.id or 0],
        )
        for t in tickets
    ]
    return schemas.TicketPage(items=items, next_after_id=_next(ids, limit))


async def menu_item_out(session: AsyncSession, item: MenuItem) -> schemas.MenuItemOut:
    """A menu item with its category's name."""
    category = await session.get(MenuCategory, item.category_id)
    return schemas.MenuItemOut(
        id=item.id or 0,
        sku=item.sku,
        name=item.name,
        price_cents=item.price_cents,
        category_id=item.category_id,
        category=category.name if category else "",
        description=item.description,
        eighty_sixed=item.is_86d,
        archived=item.archived_at is not None,
    )


async def menu_items(session: AsyncSession) -> list[schemas.MenuItemOut]:
    """Every menu item, archived ones too (flagged)."""
    items = (await session.exec(select(MenuItem).order_by(col(MenuItem.id)))).all()
    categories = {c.id or 0: c.name for c in (await session.exec(select(MenuCategory))).all()}
    return [
        schemas.MenuItemOut(
            id=i.id or 0,
            sku=i.sku,
            name=i.name,
            price_cents=i.price_cents,
            category_id=i.category_id,
            category=categories.get(i.category_id, ""),
            description=i.description,
            eighty_sixed=i.is_86d,
            archived=i.archived_at is not None,
        )
        for i in items
    ]
