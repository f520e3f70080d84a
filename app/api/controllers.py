"""The JSON API for an ERP under /api/v1: read checks, the journal, stock and kitchen tickets; push menu items and
prices; take online and takeout orders that reach the kitchen like floor orders.

Every route names the bearer-token scope it needs (`read` or `write`); refusals are JSON with a message.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api import queries, schemas
from app.checks.queries import check_money, load_check
from app.lib import web
from app.lib.errors import InvalidInput, NotFound
from app.lib.idempotency import StoredResponse, fingerprint, run_once
from app.menu import items as menu_items
from app.menu.models import MenuItem
from app.orders import firing, seating
from app.orders import lines as order_lines
from app.orders.models import CheckKind
from app.staff.auth import ApiClient
from app.staff.models import Staff
from app.staff.permissions import Perm, Role

TAGS: Final = ["ERP"]
PREFIX: Final = "/api/v1"
AfterId = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="Return items after this id (paging).")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="At most this many items.")]
DayParam = Annotated[str | None, QueryParameter(max_length=10, description="A business day, YYYY-MM-DD.")]
IdPath = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", required=False, max_length=100, description="Send the same key to retry safely."
    ),
]
BEARER: Final = "BearerToken"
OPENAPI_COMPONENTS: Final = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API token from `brigade api-token create`, sent as `Authorization: Bearer <token>`; "
            "its scopes (`read`, `write`) decide which operations it may call.",
        )
    }
)
"""What the OpenAPI schema declares once for every API route: how an integration authenticates."""
SECURITY: Final[list[SecurityRequirement]] = [{BEARER: []}]
READ: Final[dict[str, Any]] = {"api_scope": "read", "tags": TAGS, "security": SECURITY}
WRITE: Final[dict[str, Any]] = {"api_scope": "write", "tags": TAGS, "security": SECURITY}


def _day(raw: str | None, label: str = "day") -> dt.date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


def _clean(text: str, label: str) -> str:
    if any(ord(c) < 32 for c in text):
        raise InvalidInput(f"{label} contains control characters.")
    return text


@get(f"{PREFIX}/checks", **READ)
async def list_checks(db: web.Db, after_id: AfterId = 0, limit: Limit = 50, day: DayParam = None) -> schemas.CheckPage:
    """Closed checks with their lines and payments, oldest first; `day` keeps those posted on one business day."""
    async with db.read() as session:
        return await queries.closed_checks(session, after_id=after_id, limit=limit, day=_day(day))


@get(f"{PREFIX}/checks/{{check_id:int}}", **READ)
async def get_check(db: web.Db, check_id: IdPath) -> schemas.CheckOut:
    """One check with its lines and payments."""
    async with db.read() as session:
        return await queries.check_out(session, await load_check(session, check_id))


@get(f"{PREFIX}/journal-entries", **READ)
async def list_journal(
    db: web.Db, after_id: AfterId = 0, limit: Limit = 50, start: DayParam = None, end: DayParam = None
) -> schemas.JournalPage:
    """Posted journal entries with their lines (debit positive), oldest first."""
    async with db.read() as session:
        return await queries.journal(
            session, after_id=after_id, limit=limit, start=_day(start, "start"), end=_day(end, "end")
        )


@get(f"{PREFIX}/stock/moves", **READ)
async def list_stock_moves(db: web.Db, after_id: AfterId = 0, limit: Limit = 50) -> schemas.StockMovePage:
    """Every stock move (sales, waste, deliveries, counts, transfers, returns), oldest first."""
    async with db.read() as session:
        return await queries.stock_moves(session, after_id=after_id, limit=limit)


@get(f"{PREFIX}/stock/levels", **READ)
async def list_stock_levels(db: web.Db) -> list[schemas.StockLevelOut]:
    """What every location holds of every stock item, valued at average cost."""
    async with db.read() as session:
        return await queries.stock_levels(session)


@get(f"{PREFIX}/kitchen/tickets", **READ)
async def list_tickets(db: web.Db, after_id: AfterId = 0, limit: Limit = 50) -> schemas.TicketPage:
    """Kitchen tickets per station with their items and fire-to-bump time, oldest first."""
    async with db.read() as session:
        return await queries.kitchen_tickets(session, after_id=after_id, limit=limit)


@get(f"{PREFIX}/menu/items", **READ)
async def list_menu_items(db: web.Db) -> list[schemas.MenuItemOut]:
    """The menu's items with their prices (archived items flagged)."""
    async with db.read() as session:
        return await queries.menu_items(session)


@post(f"{PREFIX}/menu/items", status_code=201, **WRITE)
async def create_menu_item(db: web.Db, data: JSONBody[schemas.MenuItemIn]) -> schemas.MenuItemOut:
    """Add a menu item (an ERP pushing master data); the SKU must be new."""
    fields = menu_items.ItemFields(
        sku=_clean(data.sku, "sku"),
        name=_clean(data.name, "name"),
        price_cents=data.price_cents,
        category_id=data.category_id,
        description=_clean(data.description, "description"),
    )
    async with db.write() as session:
        item = await menu_items.create_item(session, fields, actor_id=None)
        return await queries.menu_item_out(session, item)


@patch(f"{PREFIX}/menu/items/{{item_id:int}}", **WRITE)
async def update_menu_item(db: web.Db, item_id: IdPath, data: JSONBody[schemas.MenuItemPatch]) -> schemas.MenuItemOut:
    """Change a menu item's name, price, category or description, or archive it; lines already rung in keep theirs."""
    async with db.write() as session:
        item = await session.get(MenuItem, item_id)
        if item is None:
            raise NotFound(f"There is no menu item {item_id}.")
        current = await menu_items.item_fields(session, item_id)
        fields = menu_items.ItemFields(
            sku=current.sku,
            name=_clean(data.name, "name") if data.name is not None else current.name,
            price_cents=data.price_cents if data.price_cents is not None else current.price_cents,
            category_id=data.category_id if data.category_id is not None else current.category_id,
            station_id=current.station_id,
            description=_clean(data.description, "description")
            if data.description is not None
            else current.description,
            group_ids=current.group_ids,
            sort_order=current.sort_order,
        )
        item = await menu_items.update_item(session, item_id, fields, actor_id=None)
        if data.archived is True and item.archived_at is None:
            item = await menu_items.archive_item(session, item_id, actor_id=None)
        elif data.archived is False and item.archived_at is not None:
            item = await menu_items.restore_item(session, item_id, actor_id=None)
        return await queries.menu_item_out(session, item)


async def _house_staff(session: AsyncSession) -> Staff:
    """Who owns API orders: the venue's first active admin, else its first manager."""
    people = (
        await session.exec(
            select(Staff)
            .where(col(Staff.archived_at).is_(None), col(Staff.role).in_([Role.ADMIN, Role.MANAGER]))
            .order_by(col(Staff.role) != Role.ADMIN, col(Staff.id))
        )
    ).all()
    owner = next((p for p in people if p.can(Perm.ORDERS_ENTER)), None)
    if owner is None:
        raise InvalidInput("No active manager can own online orders; add one before taking them.")
    return owner


@post(f"{PREFIX}/orders", status_code=201, **WRITE)
async def create_order(
    request: Request[Any, Any, Any],
    db: web.Db,
    data: JSONBody[schemas.OrderIn],
    idempotency_key: IdempotencyHeader = None,
) -> Response[Any]:
    """Take an online or takeout order: a check of that kind, its items rung in and fired to the kitchen at once.

    Send an `Idempotency-Key` header (or a `reference`) to retry safely: the same key answers the same order.
    """
    client: ApiClient = request.user
    key = idempotency_key or data.reference
    body = msgspec.to_builtins(data)

    async def work(session: AsyncSession) -> StoredResponse:
        order = await _place_order(session, data)
        return StoredResponse(201, msgspec.json.encode(order).decode(), {})

    if key is None:
        async with db.write() as session:
            result = await work(session)
    else:
        result = await run_once(
            db,
            key=_clean(key, "Idempotency-Key"),
            scope=f"api:{client.token_id}",
            print_=fingerprint("POST", "/api/v1/orders", {"body": json.dumps(body, sort_keys=True)}),
            work=work,
        )
    return Response(content=json.loads(result.body), status_code=result.status_code)


async def _place_order(session: AsyncSession, data: schemas.OrderIn) -> schemas.OrderOut:
    owner = await _house_staff(session)
    skus = {line.sku for line in data.lines}
    items = {i.sku: i for i in (await session.exec(select(MenuItem).where(col(MenuItem.sku).in_(skus)))).all()}
    unknown = sorted(sku for sku in skus if sku not in items or items[sku].archived_at is not None)
    if unknown:
        raise InvalidInput(f"Unknown menu items: {', '.join(unknown)}. Nothing was ordered.")
    check = await seating.open_check(
        session,
        table_id=None,
        covers=1,
        server=owner,
        kind=CheckKind(data.channel),
        tab_name=_clean(data.customer_name, "customer_name").strip() or None,
    )
    for line in data.lines:
        await order_lines.add_line(
            session,
            check_id=check.id or 0,
            request=order_lines.LineRequest(
                menu_item_id=items[line.sku].id or 0,
                quantity=line.quantity,
                note=_clean(line.note, "note"),
                modifier_ids=tuple(line.modifier_ids),
            ),
            actor=owner,
            expected_version=None,
        )
    fires = await firing.send(session, check_id=check.id or 0, actor=owner, expected_version=None)
    money = await check_money(session, check)
    return schemas.OrderOut(
        check_id=check.id or 0,
        number=check.number,
        channel=check.kind.value,
        customer_name=check.tab_name or "",
        total_cents=money.totals.total,
        fired=bool(fires),
        lines=queries.line_out(money),
    )


ROUTES: list[Any] = [
    list_checks,
    get_check,
    list_journal,
    list_stock_moves,
    list_stock_levels,
    list_tickets,
    list_menu_items,
    create_menu_item,
    update_menu_item,
    create_order,
]
