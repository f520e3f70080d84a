"""Stockroom pages (Perm.INVENTORY_MANAGE): levels, items and locations, receive, count, waste,
transfer, recipes, valuation and the move history. Forms that move stock carry an idempotency key,
so a double tap moves stock once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from app.inventory import calculations, counts, deliveries, items, queries, recipes, transfers, waste
from app.inventory.models import OperationKind, StockUnit
from app.inventory.operations import total_cost_cents
from app.inventory.stock_forms import (
    CountedForm,
    CountForm,
    LocationForm,
    ParForm,
    ReceiveForm,
    RecipeForm,
    StockItemForm,
    TransferForm,
    WasteForm,
)
from app.lib import forms, manage, web
from app.lib.errors import InvalidInput
from app.lib.manage import FORM
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
MANAGE: Final[dict[str, Any]] = {"permission": Perm.INVENTORY_MANAGE, "include_in_schema": False}
RECEIPT_ROWS: Final = 6


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


def _submit(path: str) -> Callable[[Any], HTTPRouteHandler]:
    """A stockroom form's POST: blank fields take their defaults, then Litestar decodes the typed form."""
    return post(path, **MANAGE, before_request=forms.drop_blanks)


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


@_submit("/inventory/par")
async def par_set(request: Req, db: web.Db, data: Annotated[ParForm, FORM]) -> Template:
    """Set or clear an item's par level at a location."""
    async with db.write() as session:
        await items.set_par(
            session,
            item_id=data.stock_item_id,
            location_id=data.location_id,
            par_milli=data.par_milli,
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


ITEMS: manage.Managed[StockItemForm] = manage.Managed(
    path="/inventory/items",
    name="stock_item",
    permission=Perm.INVENTORY_MANAGE,
    show=_show_items,
    actor=_actor,
    form=StockItemForm,
    create=lambda session, form, actor: items.create_stock_item(
        session, name=form.name, unit=form.unit, counted=form.watched, actor_id=actor
    ),
    archive=lambda session, item_id, actor: items.archive_stock_item(session, item_id, actor_id=actor),
    messages=manage.NAMED_MESSAGES,
    list_doc="Stock items and locations.",
)


@_submit("/inventory/items/{item_id:int}/counted")
async def item_counted(
    request: Req, db: web.Db, item_id: FromPath[int], data: Annotated[CountedForm, FORM]
) -> Template:
    """Watch an item for auto-86, or stop watching it."""
    async with db.write() as session:
        item = await items.set_item_counted(session, item_id, data.watched, actor_id=_actor(request))
    state = "now watched for auto-86" if data.watched else "no longer watched"
    return await _items_page(request, db, flash=f"{item.name} is {state}.")


@_submit("/inventory/locations")
async def location_create(request: Req, db: web.Db, data: Annotated[LocationForm, FORM]) -> Template:
    """Add a stock location."""
    async with db.write() as session:
        location = await items.create_location(session, name=data.name, actor_id=_actor(request))
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


@_submit("/inventory/receive")
async def receive_submit(request: Req, db: web.Db, data: Annotated[ReceiveForm, FORM]) -> Template:
    """Book a delivery's lines at their invoice cost."""
    lines = data.lines(_currency(request))
    async with db.write() as session:
        moves = await deliveries.receive_delivery(
            session,
            location_id=data.location_id,
            lines=lines,
            supplier=data.supplier,
            reference=data.reference,
            actor_id=_actor(request),
            source_key=data.source_key("receive"),
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


@_submit("/inventory/count")
async def count_submit(request: Req, db: web.Db, data: Annotated[CountForm, FORM]) -> Template:
    """Post a count: the variance against the books becomes moves; blank boxes are not counted."""
    counted = data.counts
    async with db.write() as session:
        moves = await counts.record_count(
            session,
            location_id=data.location_id,
            counts=counted,
            note=data.note,
            actor_id=_actor(request),
            source_key=data.source_key("count"),
        )
    variance = sum(m.value_cents for m in moves)
    return await _count_sheet(
        request,
        db,
        data.location_id,
        flash=f"Count posted: {len(counted)} item(s) counted, {len(moves)} variance(s) worth {web.money(variance)}.",
    )


@get("/inventory/waste", **MANAGE)
async def waste_page(request: Req, db: web.Db) -> Template:
    """Record spoiled, dropped or expired stock."""
    return await _form_page(request, db, "waste", kind=OperationKind.WASTE)


@_submit("/inventory/waste")
async def waste_submit(request: Req, db: web.Db, data: Annotated[WasteForm, FORM]) -> Template:
    """Take wasted stock out at average cost, with a reason."""
    async with db.write() as session:
        moves = await waste.record_waste(
            session,
            stock_item_id=data.stock_item_id,
            location_id=data.location_id,
            quantity_milli=data.quantity_milli,
            reason=data.reason,
            actor_id=_actor(request),
            source_key=data.source_key("waste"),
        )
    return await _form_page(
        request,
        db,
        "waste",
        kind=OperationKind.WASTE,
        flash=f"Waste recorded: {web.money(total_cost_cents(moves))} at cost.",
    )


@get("/inventory/transfer", **MANAGE)
async def transfer_page(request: Req, db: web.Db) -> Template:
    """Move stock between locations."""
    return await _form_page(request, db, "transfer", kind=OperationKind.TRANSFER)


@_submit("/inventory/transfer")
async def transfer_submit(request: Req, db: web.Db, data: Annotated[TransferForm, FORM]) -> Template:
    """Send a quantity from one location to another."""
    async with db.write() as session:
        await transfers.transfer_stock(
            session,
            stock_item_id=data.stock_item_id,
            from_location_id=data.from_location_id,
            to_location_id=data.to_location_id,
            quantity_milli=data.quantity_milli,
            note=data.note,
            actor_id=_actor(request),
            source_key=data.source_key("transfer"),
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


@_submit("/inventory/recipes")
async def recipe_set(request: Req, db: web.Db, data: Annotated[RecipeForm, FORM]) -> Template:
    """Set how much of a stock item one dish (or modifier) uses; 0 takes it out."""
    async with db.write() as session:
        await recipes.set_recipe_component(
            session,
            stock_item_id=data.stock_item_id,
            quantity_milli=data.quantity_milli,
            menu_item_id=data.menu_item_id,
            modifier_id=data.modifier_id,
            actor_id=_actor(request),
        )
    async with db.read() as session:
        stock = await queries.items(session)
        if data.menu_item_id is not None:
            dish = next(d for d in await queries.dish_recipes(session) if d.dish.id == data.menu_item_id)
            return _fragment("inventory/_dish.html", d=dish, stock_items=stock, open=True, flash="Saved.")
        modifier = next(m for m in await queries.modifier_recipes(session) if m.modifier.id == data.modifier_id)
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
