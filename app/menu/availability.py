"""Availability: 86 an item when the kitchen runs out (tablets stop selling it), and put it back on sale."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import Conflict
from app.lib.events import emit
from app.lib.inputs import clean_text
from app.menu.events import ItemBackInStock, ItemEightySixed
from app.menu.guards import iso, record_change, row_to_change
from app.menu.inputs import REASON_MAX
from app.menu.models import MenuItem


async def eighty_six(session: AsyncSession, item_id: int, reason: str, actor: int | None) -> MenuItem:
    """Stop selling an item (the kitchen ran out); `actor` is a staff id, or None when stock counts decide.

    Already 86'd items are left as they are, so a double tap or a repeated stock alert is harmless.
    """
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX, multiline=True)
    item = await row_to_change(session, MenuItem, item_id, what="menu item")
    if item.archived_at is not None:
        raise Conflict(f"“{item.name}” is archived; it is not on the menu to 86.")
    if item.eighty_sixed_at is not None:
        return item
    before = {"eighty_sixed_at": None, "eighty_six_reason": item.eighty_six_reason}
    item.eighty_sixed_at = utcnow()
    item.eighty_six_reason = reason
    session.add(item)
    await session.flush()
    await record_change(
        session,
        "menu.item.86",
        f"item:{item_id}",
        actor,
        reason=reason,
        before=before,
        after={"eighty_sixed_at": iso(item.eighty_sixed_at), "eighty_six_reason": reason, "name": item.name},
    )
    await emit(session, ItemEightySixed(item_id=item_id, reason=reason, actor_id=actor))
    return item


async def un_eighty_six(session: AsyncSession, item_id: int, reason: str | None, actor: int | None) -> MenuItem:
    """Sell an 86'd item again (restocked, or 86'd by mistake); items on sale are left as they are."""
    reason = clean_text(reason, label="Reason", max_length=REASON_MAX, required=False, multiline=True) or None
    item = await row_to_change(session, MenuItem, item_id, what="menu item")
    if item.eighty_sixed_at is None:
        return item
    before = {"eighty_sixed_at": iso(item.eighty_sixed_at), "eighty_six_reason": item.eighty_six_reason}
    item.eighty_sixed_at = None
    item.eighty_six_reason = None
    session.add(item)
    await session.flush()
    await record_change(
        session,
        "menu.item.un86",
        f"item:{item_id}",
        actor,
        reason=reason,
        before=before,
        after={"eighty_sixed_at": None, "name": item.name},
    )
    await emit(session, ItemBackInStock(item_id=item_id, actor_id=actor))
    return item
