"""Tables in use: the floor editor may not take a table (or a whole floor) away from under an open check."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable, Floor
from app.floor.services import FloorArchived, TableArchived
from app.lib.errors import Conflict
from app.lib.events import EventBus
from app.orders.models import Check, CheckStatus
from app.staff.models import Staff

SHOWN_MAX = 5


class TableInUse(Conflict):
    """A table (or a floor's table) still has an open check; nothing was archived."""

    code = "table_in_use"


def wire(bus: EventBus) -> None:
    """Refuse, inside the archiving transaction, to archive a table or floor that an open check stands on."""
    bus.subscribe(TableArchived, refuse_table_in_use)
    bus.subscribe(FloorArchived, refuse_floor_in_use)


async def _open_checks(session: AsyncSession, table_ids: Sequence[int]) -> list[tuple[Check, DiningTable, str]]:
    if not table_ids:
        return []
    rows = await session.exec(
        select(Check, DiningTable, Staff.name)
        .join(DiningTable, col(DiningTable.id) == col(Check.table_id))
        .join(Staff, col(Staff.id) == col(Check.server_id))
        .where(col(Check.table_id).in_(table_ids), Check.status == CheckStatus.OPEN)
        .order_by(col(DiningTable.name), col(Check.id))
    )
    return [(check, table, str(server)) for check, table, server in rows.all()]


async def refuse_table_in_use(session: AsyncSession, event: TableArchived) -> None:
    """A table with an open check stays on the plan until the check is paid, moved or voided."""
    found = await _open_checks(session, [event.table_id])
    if not found:
        return
    table = found[0][1]
    checks = ", ".join(f"#{check.number} ({server})" for check, _, server in found)
    what, it = ("an open check", "it") if len(found) == 1 else ("open checks", "them")
    raise TableInUse(
        f"Table {table.name} has {what} {checks}; close {it} or move {it} to another table before archiving the table.",
        detail={"table_id": event.table_id, "check_ids": [check.id for check, _, _ in found]},
    )


async def refuse_floor_in_use(session: AsyncSession, event: FloorArchived) -> None:
    """A floor keeps serving while any of its tables has an open check."""
    found = await _open_checks(session, event.table_ids)
    if not found:
        return
    floor = await session.get(Floor, event.floor_id)
    shown = ", ".join(f"#{check.number} on table {table.name}" for check, table, _ in found[:SHOWN_MAX])
    more = f" and {len(found) - SHOWN_MAX} more" if len(found) > SHOWN_MAX else ""
    raise TableInUse(
        f"{floor.name if floor else 'This floor'} still has open checks: {shown}{more}; close them or move them "
        "to another floor before archiving it.",
        detail={"floor_id": event.floor_id, "check_ids": [check.id for check, _, _ in found]},
    )
