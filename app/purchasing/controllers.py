"""Purchasing pages (Perm.INVENTORY_MANAGE): orders and their status, the suggested order, a purchase order's page,
its printable copy, receiving against it and credit notes, suppliers and their items, weekday pars. Forms that
move stock carry an idempotency key, so a double tap books once."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from msgspec import Meta

from app.inventory import calculations as stock_calc
from app.inventory import form_fields
from app.inventory import queries as inventory_queries
from app.inventory.models import StockItem
from app.lib import forms, web
from app.lib.errors import InvalidInput, NotFound
from app.lib.manage import FORM
from app.purchasing import calculations, credit_notes, pdf, queries, services
from app.purchasing.models import CreditKind
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
MANAGE: Final[dict[str, Any]] = {"permission": Perm.INVENTORY_MANAGE, "include_in_schema": False}
FORM_POST: Final[dict[str, Any]] = {**MANAGE, "before_request": forms.drop_blanks}
"""A purchasing POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
CREDIT_ROWS: Final = 3


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


def _currency(request: Req) -> str:
    return str(request.app.state.settings.currency)


def _today(request: Req) -> dt.date:
    return dt.datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def _id(raw: str, *, label: str) -> int:
    text = raw.strip()
    if not text.isdigit():
        raise InvalidInput(f"Choose {label}.")
    return int(text)


class StockForm(forms.Form, kw_only=True):
    """A form that books stock: its idempotency key, so a double tap books once."""

    idempotency_key: str = ""

    def source_key(self, scope: str) -> str:
        return form_fields.source_key(msgspec.structs.asdict(self), scope)


class OrderForm(forms.Form, kw_only=True):
    """An edited suggestion: the supplier, where it is delivered, whole packs per supplier item, a note, and
    whether to send it now or keep it as a draft."""

    supplier_id: str = ""
    location_id: str = ""
    supplier_item_id: list[str] = []
    packs: list[str] = []
    note: str = ""
    action: str = "send"

    def lines(self) -> list[services.OrderLine]:
        lines: list[services.OrderLine] = []
        for position, (item, packs) in enumerate(zip(self.supplier_item_id, self.packs, strict=False), start=1):
            raw = packs.strip()
            if not raw:
                continue
            if not raw.lstrip("-").isdigit():
                raise InvalidInput(f"Line {position}: order whole packs, like 2.")
            lines.append(services.OrderLine(_id(item, label="an item"), int(raw)))
        return lines


class CloseForm(forms.Form, kw_only=True):
    """Closing an order: why nothing more is expected."""

    reason: str = ""


class ReceiveForm(StockForm, kw_only=True):
    """A delivery against an order, a row per order line: the item delivered (another for a substitute), packs
    received (decimals for part packs) and the invoice total; and the delivery note's reference."""

    order_line_id: list[str] = []
    stock_item_id: list[str] = []
    packs: list[str] = []
    invoice: list[str] = []
    reference: str = ""


class CreditForm(StockForm, kw_only=True):
    """A supplier's credit note, a row per item going back: the item, quantity and credit; its kind and reference."""

    stock_item_id: list[str] = []
    quantity: list[str] = []
    credit: list[str] = []
    kind: str = ""
    reference: str = ""


class SupplierForm(forms.Form, kw_only=True):
    """A new supplier; the purchasing services trim and check each field."""

    name: str = ""
    email: str = ""
    phone: str = ""


class SupplierItemForm(forms.Form, kw_only=True):
    """How a supplier sells an item: units per pack, unit size and its unit, pack price, lead time, their code."""

    stock_item_id: str = ""
    units: Annotated[int, Meta(title="Units per pack", ge=1)]
    size: str = ""
    size_unit: str = ""
    price: str = ""
    lead: Annotated[int, Meta(title="Lead time", ge=0)] = 1
    code: str = ""


class ParForm(forms.Form, kw_only=True):
    """An item's par for one weekday at a location; a blank par clears it."""

    stock_item_id: str = ""
    location_id: str = ""
    weekday: Annotated[int, Meta(title="Weekday", ge=0, le=6)]
    par: str = ""


def _page(request: Req, template: str, *, fragment: str | None = None, **context: Any) -> Template:
    return web.page(
        request,
        template,
        fragment=fragment,
        qty=stock_calc.format_quantity,
        weekdays=calculations.WEEKDAYS,
        **context,
    )


# Orders --------------------------------------------------------------------------------------------------------


@get("/purchasing", **MANAGE)
async def orders_page(request: Req, db: web.Db) -> Template:
    """Purchase orders and where each stands, and what is owed to each supplier."""
    async with db.read() as session:
        orders = await queries.orders(session)
        suppliers = await queries.suppliers(session)
        places = await inventory_queries.locations(session)
        owed = await queries.payables_by_supplier(session)
    return _page(
        request,
        "purchasing/orders.html",
        fragment="purchasing/_orders.html",
        orders=orders,
        suppliers=suppliers,
        places=places,
        owed=owed,
    )


@get("/purchasing/suggest", **MANAGE)
async def suggest_page(
    request: Req, db: web.Db, supplier: FromQuery[str | None] = None, location: FromQuery[str | None] = None
) -> Template:
    """The suggested order for a supplier into a location: par on the delivery day less on hand and on order."""
    async with db.read() as session:
        suppliers = await queries.suppliers(session)
        places = await inventory_queries.locations(session)
        chosen = next((s for s in suppliers if str(s.id) == (supplier or "")), None) or (
            suppliers[0] if suppliers else None
        )
        place = next((p for p in places if str(p.id) == (location or "")), None) or (places[0] if places else None)
        if supplier and chosen is not None and str(chosen.id) != supplier:
            raise NotFound("No such supplier.")
        rows = (
            await queries.suggested_order(
                session, supplier_id=chosen.id or 0, location_id=place.id or 0, today=_today(request)
            )
            if chosen is not None and place is not None
            else []
        )
    return _page(
        request,
        "purchasing/suggest.html",
        fragment="purchasing/_suggest.html",
        suppliers=suppliers,
        places=places,
        chosen=chosen,
        place=place,
        rows=rows,
        today=_today(request),
    )


@post("/purchasing/orders", **FORM_POST)
async def order_create(request: Req, db: web.Db, data: Annotated[OrderForm, FORM]) -> Response[Any]:
    """Write the edited suggestion as a purchase order and send it (or keep it as a draft)."""
    supplier_id = _id(data.supplier_id, label="a supplier")
    location_id = _id(data.location_id, label="where it is delivered")
    lines = data.lines()
    async with db.write() as session:
        order = await services.create_order(
            session,
            supplier_id=supplier_id,
            location_id=location_id,
            lines=lines,
            note=data.note,
            send=data.action == "send",
            actor_id=_actor(request),
        )
    return web.hx_redirect(request, f"/purchasing/orders/{order.id}")


async def _order_page(request: Req, db: web.Db, order_id: int, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        view = await queries.order_view(session, order_id)
        if view is None:
            raise NotFound("No such purchase order.")
        items = await inventory_queries.items(session)
        catalog = await queries.catalog(session, view.supplier.id or 0)
    return _page(
        request,
        "purchasing/order.html",
        fragment="purchasing/_order.html",
        view=view,
        stock_items=items,
        catalog=catalog,
        credit_rows=CREDIT_ROWS,
        credit_kinds=list(CreditKind),
        flash=flash,
    )


@get("/purchasing/orders/{order_id:int}", **MANAGE)
async def order_page(request: Req, db: web.Db, order_id: FromPath[int]) -> Template:
    """A purchase order: its lines, what came in, price flags, and the forms to receive and credit."""
    return await _order_page(request, db, order_id)


@get("/purchasing/orders/{order_id:int}/print", **MANAGE)
async def order_print(request: Req, db: web.Db, order_id: FromPath[int]) -> Template:
    """The purchase order as the supplier gets it: a page to print or save as PDF."""
    async with db.read() as session:
        view = await queries.order_view(session, order_id)
    if view is None:
        raise NotFound("No such purchase order.")
    return Template(
        template_name="purchasing/print.html",
        context={"view": view, "qty": stock_calc.format_quantity},
    )


@get("/purchasing/orders/{order_id:int}/pdf", **MANAGE)
async def order_pdf(request: Req, db: web.Db, order_id: FromPath[int]) -> Response[bytes]:
    """The purchase order as a PDF to attach to an email."""
    async with db.read() as session:
        view = await queries.order_view(session, order_id)
    if view is None:
        raise NotFound("No such purchase order.")
    settings = request.app.state.settings
    day = web.local_time(view.order.sent_at or view.order.created_at, settings.timezone, "%d %b %Y")
    content = pdf.render(view, venue_name=settings.venue_name, currency=settings.currency, day=day)
    return Response(
        content=content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{view.order.number}.pdf"'},
    )


@post("/purchasing/orders/{order_id:int}/send", **MANAGE)
async def order_send(request: Req, db: web.Db, order_id: FromPath[int]) -> Template:
    """Send a draft order."""
    async with db.write() as session:
        order = await services.send_order(session, order_id, actor_id=_actor(request))
    return await _order_page(request, db, order_id, flash=f"{order.number} sent.")


@post("/purchasing/orders/{order_id:int}/close", **FORM_POST)
async def order_close(request: Req, db: web.Db, order_id: FromPath[int], data: Annotated[CloseForm, FORM]) -> Template:
    """Expect nothing more on the order."""
    async with db.write() as session:
        order = await services.close_order(session, order_id, reason=data.reason, actor_id=_actor(request))
    return await _order_page(request, db, order_id, flash=f"{order.number} {order.status.label.lower()}.")


@post("/purchasing/orders/{order_id:int}/receive", **FORM_POST)
async def order_receive(
    request: Req, db: web.Db, order_id: FromPath[int], data: Annotated[ReceiveForm, FORM]
) -> Template:
    """Book a delivery against the order: packs per line (decimals for part packs), the item if substituted, invoice."""
    source_key = data.source_key(f"po-receive:{order_id}")
    async with db.read() as session:
        view = await queries.order_view(session, order_id)
        if view is None:
            raise NotFound("No such purchase order.")
        units = {item.id: item for item in await inventory_queries.items(session)}
    ordered = {line.line.id: line for line in view.lines}
    lines: list[services.ReceivedLine] = []
    rows = zip(data.order_line_id, data.stock_item_id, data.packs, data.invoice, strict=False)
    for position, (line_id, item_id, packs, invoice) in enumerate(rows, start=1):
        if not packs.strip():
            continue
        line = ordered.get(_id(line_id, label="an order line"))
        if line is None:
            raise InvalidInput(f"Line {position}: that is not a line of {view.order.number}; reload the page.")
        received_packs = form_fields.quantity(packs, label=f"{line.item.name} packs received")
        item: StockItem | None = units.get(_id(item_id, label="the item delivered"))
        if item is None:
            raise InvalidInput(f"Line {position}: unknown stock item.")
        if item.unit != line.item.unit:
            raise InvalidInput(
                f"A substitute for {line.item.name} is counted in {line.item.unit.label} like it; "
                f"{item.name} is counted in {item.unit.label}."
            )
        quantity = round(Fraction(received_packs * line.line.pack_milli, stock_calc.MILLI))
        cost = (
            form_fields.cents(invoice, label=f"{line.item.name} invoice total", currency=_currency(request))
            if invoice.strip()
            else calculations.ordered_value_cents(quantity, line.line.pack_milli, line.line.pack_cost_cents)
        )
        lines.append(services.ReceivedLine(line.line.id or 0, item.id or 0, quantity, cost))
    async with db.write() as session:
        receipt = await services.receive_order(
            session,
            order_id=order_id,
            lines=lines,
            reference=data.reference,
            source_key=source_key,
            actor_id=_actor(request),
        )
    difference = receipt.invoice_cents - receipt.ordered_cents
    flag = f"; the invoice differs from the order by {web.money(difference)}" if difference else ""
    return await _order_page(
        request,
        db,
        order_id,
        flash=f"Delivery received: {len(lines)} line(s), invoice {web.money(receipt.invoice_cents)}{flag}.",
    )


@post("/purchasing/orders/{order_id:int}/credit", **FORM_POST)
async def order_credit(
    request: Req, db: web.Db, order_id: FromPath[int], data: Annotated[CreditForm, FORM]
) -> Template:
    """Book a supplier's credit note against the order: goods returned or damaged go back, payable drops."""
    source_key = data.source_key(f"po-credit:{order_id}")
    async with db.read() as session:
        view = await queries.order_view(session, order_id)
    if view is None:
        raise NotFound("No such purchase order.")
    lines: list[credit_notes.CreditLine] = []
    rows = zip(data.stock_item_id, data.quantity, data.credit, strict=False)
    for position, (item_id, quantity, credit) in enumerate(rows, start=1):
        if not item_id.strip() and not quantity.strip() and not credit.strip():
            continue
        lines.append(
            credit_notes.CreditLine(
                _id(item_id, label=f"the item on credit line {position}"),
                form_fields.quantity(quantity, label=f"Credit line {position} quantity"),
                form_fields.cents(credit, label=f"Credit line {position} amount", currency=_currency(request)),
            )
        )
    async with db.write() as session:
        credit_note = await credit_notes.record_credit(
            session,
            supplier_id=view.supplier.id or 0,
            kind=data.kind,
            location_id=view.location.id or 0,
            lines=lines,
            reference=data.reference,
            order_id=order_id,
            source_key=source_key,
            actor_id=_actor(request),
        )
    return await _order_page(
        request, db, order_id, flash=f"Credit note booked: {web.money(credit_note.credit_cents)} off the payable."
    )


# Suppliers -----------------------------------------------------------------------------------------------------


async def _suppliers_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        suppliers = await queries.suppliers(session)
        catalogs = {s.id: await queries.catalog(session, s.id or 0) for s in suppliers}
        items = await inventory_queries.items(session)
        places = await inventory_queries.locations(session)
        pars = {p.id: await queries.weekday_pars(session, p.id or 0) for p in places}
    names = {item.id: item for item in items}
    return _page(
        request,
        "purchasing/suppliers.html",
        fragment="purchasing/_suppliers.html",
        suppliers=suppliers,
        catalogs=catalogs,
        stock_items=items,
        places=places,
        pars=[
            (place, names[item_id], weekday, par)
            for place in places
            for item_id, days in pars[place.id].items()
            if item_id in names
            for weekday, par in sorted(days.items())
        ],
        size_units=sorted({u for units in calculations.UNIT_FACTORS.values() for u in units if u != "pcs"}),
        flash=flash,
    )


@get("/purchasing/suppliers", **MANAGE)
async def suppliers_page(request: Req, db: web.Db) -> Template:
    """Suppliers, what each sells in which pack, and weekday pars."""
    return await _suppliers_page(request, db)


@post("/purchasing/suppliers", **FORM_POST)
async def supplier_create(request: Req, db: web.Db, data: Annotated[SupplierForm, FORM]) -> Template:
    """Add a supplier."""
    async with db.write() as session:
        supplier = await services.create_supplier(
            session, name=data.name, email=data.email, phone=data.phone, actor_id=_actor(request)
        )
    return await _suppliers_page(request, db, flash=f"{supplier.name} added.")


@post("/purchasing/suppliers/{supplier_id:int}/items", **FORM_POST)
async def supplier_item_set(
    request: Req, db: web.Db, supplier_id: FromPath[int], data: Annotated[SupplierItemForm, FORM]
) -> Template:
    """Say how the supplier sells an item: units per pack, unit size, pack price, lead time."""
    stock_item_id = _id(data.stock_item_id, label="an item")
    unit_size = form_fields.quantity(data.size, label="Unit size")
    pack_cost = form_fields.cents(data.price, label="Pack price", currency=_currency(request))
    async with db.write() as session:
        row = await services.set_supplier_item(
            session,
            supplier_id=supplier_id,
            stock_item_id=stock_item_id,
            units_per_pack=data.units,
            unit_size_milli=unit_size,
            size_unit=data.size_unit,
            pack_cost_cents=pack_cost,
            lead_time_days=data.lead,
            code=data.code,
            actor_id=_actor(request),
        )
    return await _suppliers_page(request, db, flash=f"Saved: {row.pack_label} at {web.money(row.pack_cost_cents)}.")


@post("/purchasing/pars", **FORM_POST)
async def weekday_par_set(request: Req, db: web.Db, data: Annotated[ParForm, FORM]) -> Template:
    """Set or clear an item's par for one weekday at a location."""
    stock_item_id = _id(data.stock_item_id, label="an item")
    location_id = _id(data.location_id, label="a location")
    raw = data.par.strip()
    par = form_fields.quantity(raw, label="Par level", allow_zero=True) if raw else None
    async with db.write() as session:
        await services.set_weekday_par(
            session,
            stock_item_id=stock_item_id,
            location_id=location_id,
            weekday=data.weekday,
            par_milli=par,
            actor_id=_actor(request),
        )
    return await _suppliers_page(request, db, flash="Weekday par saved.")


ROUTES = [
    orders_page,
    suggest_page,
    order_create,
    order_page,
    order_print,
    order_pdf,
    order_send,
    order_close,
    order_receive,
    order_credit,
    suppliers_page,
    supplier_create,
    supplier_item_set,
    weekday_par_set,
]
