"""Stockroom pages (Perm.INVENTORY_MANAGE): levels, items and locations, receive, count, waste,
transfer, recipes, valuation and the move history. Forms that move stock carry an idempotency key,
so a double tap moves stock once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.inventory import calculations, form_fields, queries, services
from app.inventory.models import OperationKind, StockUnit
from app.lib import forms, manage, web
from app.lib.errors import InvalidInput
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
MANAGE: Final[dict[str, Any]] = {"permission": Perm.INVENTORY_MANAGE, "include_in_schema": False}
RECEIPT_ROWS: Final = 6


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


def _id(fields: Mapping[str, Any], name: str, *, label: str) -> int:
    raw = str(fields.get(name) or "").strip()
    if not raw.isdigit():
        raise InvalidInput(f"Choose {label}.")
    return int(raw)


def _currency(request: Req) -> str:
    return str(request.app.state.settings.currency)


def _page(request: Req, template: str, *, fragment: str | None = None, **context: Any) -> Template:
    """web.page with the quantity formatter every stock page uses."""
    return web.page(
        request,
        template,
        fragment=fragment,
        qty=calculations.format_quantity,
        cost=calculations.format_unit_cost,
        **context,
    )


def _fragment(template: str, **context: Any) -> Template:
    return Template(
        template_name=template,
        context={"qty": calculations.format_quantity, "cost": calculations.format_unit_cost, **context},
    )


async def _choices(db: web.Db) -> dict[str, Any]:
    async with db.read() as session:
        return {"stock_items": await queries.items(session), "places": await queries.locations(session)}


# Levels and pars -------------------------------------------------------------------------------------------


async def _levels_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        places, rows = await queries.stock_levels(session)
        low = await queries.low_stock(session)
    return _page(
        request,
        "inventory/levels.html",
        fragment="inventory/_levels.html",
        places=places,
        rows=rows,
        low=low,
        total_cents=sum(row.value_cents for row in rows),
        flash=flash,
    )


@get("/inventory", **MANAGE)
async def levels_page(request: Req, db: web.Db) -> Template:
    """Stock on hand per item and location, with low and out flags."""
    return await _levels_page(request, db)


@post("/inventory/par", **MANAGE)
async def par_set(request: Req, db: web.Db) -> Template:
    """Set or clear an item's par level at a location."""
    fields = await web.form_data(request)
    raw = str(fields.get("par") or "").strip()
    par = form_fields.quantity(raw, label="Par level", allow_zero=True) if raw else None
    async with db.write() as session:
        await services.set_par(
            session,
            item_id=_id(fields, "stock_item_id", label="an item"),
            location_id=_id(fields, "location_id", label="a location"),
            par_milli=par,
            actor_id=_actor(request),
        )
    return await _levels_page(request, db, flash="Par level saved.")


# Items and locations -------------------------------------------------------------------------------------------


async def _items_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        stock = await queries.items(session, include_archived=True)
        places = await queries.locations(session)
    return _page(
        request,
        "inventory/items.html",
        fragment="inventory/_items.html",
        stock=stock,
        places=places,
        units=list(StockUnit),
        flash=flash,
    )


async def _show_items(request: Req, db: web.Db, flash: str | None) -> Template:
    return await _items_page(request, db, flash=flash)


class StockItemForm(forms.Form):
    """A new stock item as submitted; the service checks the name and the unit."""

    name: str = ""
    unit: str = ""
    counted: str = ""

    def fields(self) -> StockItemForm:
        return self


ITEMS: manage.Managed[StockItemForm] = manage.Managed(
    path="/inventory/items",
    name="stock_item",
    permission=Perm.INVENTORY_MANAGE,
    show=_show_items,
    actor=_actor,
    form=StockItemForm,
    create=lambda session, form, actor: services.create_stock_item(
        session, name=form.name, unit=form.unit, counted=form.counted == "on", actor_id=actor
    ),
    archive=lambda session, item_id, actor: services.archive_stock_item(session, item_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Stock items and locations.",
)


@post("/inventory/items/{item_id:int}/counted", **MANAGE)
async def item_counted(request: Req, db: web.Db, item_id: FromPath[int]) -> Template:
    """Watch an item for auto-86, or stop watching it."""
    fields = await web.form_data(request)
    counted = str(fields.get("counted") or "") == "on"
    async with db.write() as session:
        item = await services.set_item_counted(session, item_id, counted, actor_id=_actor(request))
    state = "now watched for auto-86" if counted else "no longer watched"
    return await _items_page(request, db, flash=f"{item.name} is {state}.")


@post("/inventory/locations", **MANAGE)
async def location_create(request: Req, db: web.Db) -> Template:
    """Add a stock location."""
    fields = await web.form_data(request)
    async with db.write() as session:
        location = await services.create_location(session, name=str(fields.get("name") or ""), actor_id=_actor(request))
    return await _items_page(request, db, flash=f"Added location {location.name}.")


# Receive, count, waste, transfer --------------------------------------------------------------------------------


async def _form_page(
    request: Req, db: web.Db, template: str, *, kind: OperationKind, flash: str | None = None
) -> Template:
    choices = await _choices(db)
    async with db.read() as session:
        recent = await queries.recent_moves(session, limit=12, kind=kind)
    return _page(
        request,
        f"inventory/{template}.html",
        fragment=f"inventory/_{template}.html",
        flash=flash,
        recent=recent,
        rows=RECEIPT_ROWS,
        **choices,
    )


@get("/inventory/receive", **MANAGE)
async def receive_page(request: Req, db: web.Db) -> Template:
    """Book a delivery in."""
    return await _form_page(request, db, "receive", kind=OperationKind.RECEIPT)


@post("/inventory/receive", **MANAGE)
async def receive_submit(request: Req, db: web.Db) -> Template:
    """Book a delivery's lines at their invoice cost."""
    fields = await web.form_data(request)
    source_key = form_fields.source_key(fields, "receive")
    item_ids, quantities, costs = (form_fields.listed(fields, n) for n in ("stock_item_id", "quantity", "cost"))
    lines: list[services.ReceiptLine] = []
    for position, (item, quantity, cost) in enumerate(zip(item_ids, quantities, costs, strict=False), start=1):
        if not item.strip() and not quantity.strip() and not cost.strip():
            continue
        if not item.strip().isdigit():
            raise InvalidInput(f"Line {position}: choose an item.")
        lines.append(
            services.ReceiptLine(
                int(item),
                form_fields.quantity(quantity, label=f"Line {position} quantity"),
                form_fields.cents(cost, label=f"Line {position} cost", currency=_currency(request)),
            )
        )
    async with db.write() as session:
        moves = await services.receive_delivery(
            session,
            location_id=_id(fields, "location_id", label="where it was delivered"),
            lines=lines,
            supplier=str(fields.get("supplier") or ""),
            reference=str(fields.get("reference") or ""),
            actor_id=_actor(request),
            source_key=source_key,
        )
    total = sum(m.value_cents for m in moves)
    return await _form_page(
        request,
        db,
        "receive",
        kind=OperationKind.RECEIPT,
        flash=f"Delivery booked: {len(moves)} line(s), {web.money(total)}.",
    )


async def _count_sheet(request: Req, db: web.Db, location_id: int | None, *, flash: str | None = None) -> Template:
    """The count sheet for one location (the first one when none is named): book levels and a box per item."""
    choices = await _choices(db)
    places = choices["places"]
    chosen = next((p for p in places if p.id == location_id), None) or (places[0] if places else None)
    async with db.read() as session:
        _, rows = await queries.stock_levels(session)
    return _page(
        request,
        "inventory/count.html",
        fragment="inventory/_count.html",
        chosen=chosen,
        sheet=[(row.item, next((c for c in row.cells if chosen and c.location.id == chosen.id), None)) for row in rows],
        flash=flash,
        **choices,
    )


@get("/inventory/count", **MANAGE)
async def count_page(request: Req, db: web.Db, location: FromQuery[str | None] = None) -> Template:
    """A count sheet for one location: what the books say, and a box for what is there."""
    if location and not location.isdigit():
        raise InvalidInput("Choose a location to count.")
    return await _count_sheet(request, db, int(location) if location else None)


@post("/inventory/count", **MANAGE)
async def count_submit(request: Req, db: web.Db) -> Template:
    """Post a count: the variance against the books becomes moves; blank boxes are not counted."""
    fields = await web.form_data(request)
    source_key = form_fields.source_key(fields, "count")
    location_id = _id(fields, "location_id", label="a location")
    counts: list[services.CountLine] = []
    for key, raw in fields.items():
        if not key.startswith("count_") or not str(raw).strip():
            continue
        item_id = key.removeprefix("count_")
        if not item_id.isdigit():
            raise InvalidInput("The count sheet names an unknown item; reload the page.")
        counts.append(services.CountLine(int(item_id), form_fields.quantity(str(raw), label="Count", allow_zero=True)))
    async with db.write() as session:
        moves = await services.record_count(
            session,
            location_id=location_id,
            counts=counts,
            note=str(fields.get("note") or ""),
            actor_id=_actor(request),
            source_key=source_key,
        )
    variance = sum(m.value_cents for m in moves)
    return await _count_sheet(
        request,
        db,
        location_id,
        flash=f"Count posted: {len(counts)} item(s) counted, {len(moves)} variance(s) worth {web.money(variance)}.",
    )


@get("/inventory/waste", **MANAGE)
async def waste_page(request: Req, db: web.Db) -> Template:
    """Record spoiled, dropped or expired stock."""
    return await _form_page(request, db, "waste", kind=OperationKind.WASTE)


@post("/inventory/waste", **MANAGE)
async def waste_submit(request: Req, db: web.Db) -> Template:
    """Take wasted stock out at average cost, with a reason."""
    fields = await web.form_data(request)
    source_key = form_fields.source_key(fields, "waste")
    async with db.write() as session:
        moves = await services.record_waste(
            session,
            stock_item_id=_id(fields, "stock_item_id", label="an item"),
            location_id=_id(fields, "location_id", label="a location"),
            quantity_milli=form_fields.quantity(str(fields.get("quantity") or ""), label="Quantity"),
            reason=str(fields.get("reason") or ""),
            actor_id=_actor(request),
            source_key=source_key,
        )
    return await _form_page(
        request,
        db,
        "waste",
        kind=OperationKind.WASTE,
        flash=f"Waste recorded: {web.money(services.total_cost_cents(moves))} at cost.",
    )


@get("/inventory/transfer", **MANAGE)
async def transfer_page(request: Req, db: web.Db) -> Template:
    """Move stock between locations."""
    return await _form_page(request, db, "transfer", kind=OperationKind.TRANSFER)


@post("/inventory/transfer", **MANAGE)
async def transfer_submit(request: Req, db: web.Db) -> Template:
    """Send a quantity from one location to another."""
    fields = await web.form_data(request)
    source_key = form_fields.source_key(fields, "transfer")
    async with db.write() as session:
        await services.transfer_stock(
            session,
            stock_item_id=_id(fields, "stock_item_id", label="an item"),
            from_location_id=_id(fields, "from_location_id", label="where it comes from"),
            to_location_id=_id(fields, "to_location_id", label="where it goes"),
            quantity_milli=form_fields.quantity(str(fields.get("quantity") or ""), label="Quantity"),
            note=str(fields.get("note") or ""),
            actor_id=_actor(request),
            source_key=source_key,
        )
    return await _form_page(request, db, "transfer", kind=OperationKind.TRANSFER, flash="Transfer booked.")


# Recipes ------------------------------------------------------------------------------------------------------------


@get("/inventory/recipes", **MANAGE)
async def recipes_page(request: Req, db: web.Db) -> Template:
    """Every dish and modifier with what one of it uses, and the plate cost."""
    async with db.read() as session:
        dishes = await queries.dish_recipes(session)
        modifiers = await queries.modifier_recipes(session)
        stock = await queries.items(session)
    return _page(
        request,
        "inventory/recipes.html",
        fragment="inventory/_recipes.html",
        dishes=dishes,
        modifiers=modifiers,
        stock_items=stock,
    )


@post("/inventory/recipes", **MANAGE)
async def recipe_set(request: Req, db: web.Db) -> Template:
    """Set how much of a stock item one dish (or modifier) uses; 0 takes it out."""
    fields = await web.form_data(request)
    owner = str(fields.get("owner") or "")
    kind, _, raw_id = owner.partition(":")
    if kind not in ("item", "modifier") or not raw_id.isdigit():
        raise InvalidInput("Choose a dish or a modifier.")
    raw = str(fields.get("quantity") or "").strip()
    try:
        quantity = calculations.parse_quantity(raw, allow_zero=True, allow_negative=kind == "modifier")
    except calculations.QuantityError as exc:
        raise InvalidInput(f"Quantity: {exc}") from None
    async with db.write() as session:
        await services.set_recipe_component(
            session,
            stock_item_id=_id(fields, "stock_item_id", label="a stock item"),
            quantity_milli=quantity,
            menu_item_id=int(raw_id) if kind == "item" else None,
            modifier_id=int(raw_id) if kind == "modifier" else None,
            actor_id=_actor(request),
        )
    async with db.read() as session:
        stock = await queries.items(session)
        if kind == "item":
            dish = next(d for d in await queries.dish_recipes(session) if d.dish.id == int(raw_id))
            return _fragment("inventory/_dish.html", d=dish, stock_items=stock, open=True, flash="Saved.")
        modifier = next(m for m in await queries.modifier_recipes(session) if m.modifier.id == int(raw_id))
    return _fragment("inventory/_modifier.html", m=modifier, stock_items=stock, open=True, flash="Saved.")


# Valuation and history ----------------------------------------------------------------------------------------------


@get("/inventory/valuation", **MANAGE)
async def valuation_page(request: Req, db: web.Db) -> Template:
    """What the stock is worth, per item and location."""
    async with db.read() as session:
        valuation = await queries.valuation(session)
        by_kind = await queries.move_kind_totals(session)
    return _page(
        request, "inventory/valuation.html", fragment="inventory/_valuation.html", valuation=valuation, by_kind=by_kind
    )


@get("/inventory/moves", **MANAGE)
async def moves_page(request: Req, db: web.Db, item: FromQuery[str | None] = None) -> Template:
    """The newest stock moves, optionally for one item."""
    if item and not item.isdigit():
        raise InvalidInput("Choose an item from the list.")
    item_id = int(item) if item else None
    async with db.read() as session:
        recent = await queries.recent_moves(session, limit=300, stock_item_id=item_id)
        stock = await queries.items(session, include_archived=True)
    return _page(
        request,
        "inventory/moves.html",
        fragment="inventory/_moves.html",
        recent=recent,
        stock_items=stock,
        item=item_id,
    )


ROUTES = [
    levels_page,
    par_set,
    *ITEMS.routes(),
    item_counted,
    location_create,
    receive_page,
    receive_submit,
    count_page,
    count_submit,
    waste_page,
    waste_submit,
    transfer_page,
    transfer_submit,
    recipes_page,
    recipe_set,
    valuation_page,
    moves_page,
]
