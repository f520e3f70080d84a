"""Printing the guest check and the receipt, and choosing the printer a device prints its receipts on."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import printing
from app.checks.guards import _require_open
from app.checks.models import DeviceReceiptPrinter
from app.checks.queries import check_money, load_check
from app.kitchen.models import Printer
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.orders import services as orders
from app.orders.models import Check, CheckStatus
from app.staff.models import Staff
from app.staff.permissions import Perm

# ---------------------------------------------------------------------------------------------- printing


async def print_guest_check(
    session: AsyncSession, *, check_id: int, actor: Staff, device_id: int | None = None
) -> Check:
    """Print the guest check (per-seat subtotals when split by seat) on this device's receipt printer."""
    check = await orders.get_check_for_update(session, check_id)
    _require_open(check, "print its guest check")
    money = await check_money(session, check)
    if not money.live_lines:
        raise InvalidInput("There is nothing on this check to print.")
    printer = await printing.receipt_printer(session, device_id)
    reprint = check.guest_check_printed_at is not None
    doc = await printing.guest_check_doc(session, money, reprint=reprint)
    await printing.print_document(
        session, printer, doc, kind="guest_check", reference=f"check:{check.id}", requested_by=actor.id
    )
    check.guest_check_printed_at = utcnow()
    check.version += 1
    session.add(check)
    await audit.record(
        session, "checks.print_guest_check", actor_id=actor.id, subject=f"check:{check.id}", after={"reprint": reprint}
    )
    return check


async def print_receipt(
    session: AsyncSession,
    *,
    check_id: int,
    actor: Staff,
    device_id: int | None = None,
    portion_id: int | None = None,
) -> Printer:
    """Print the receipt of a paid check, or of one part of an even or by-amount split."""
    check = await load_check(session, check_id)
    money = await check_money(session, check)
    if not money.payments and check.status is not CheckStatus.CLOSED:
        raise Conflict("Nothing has been paid on this check yet; print the guest check instead.")
    portion = None
    if portion_id is not None:
        portion = money.portion(portion_id)
        if portion is None:
            raise InvalidInput("That part of the split is not on this check any more; reload the check.")
    printer = await printing.receipt_printer(session, device_id)
    doc = await printing.receipt_doc(session, money, portion=portion)
    suffix = f":part:{portion_id}" if portion_id else ""
    await printing.print_document(
        session, printer, doc, kind="receipt", reference=f"check:{check.id}{suffix}", requested_by=actor.id
    )
    await audit.record(session, "checks.print_receipt", actor_id=actor.id, subject=f"check:{check.id}")
    return printer


async def set_receipt_printer(session: AsyncSession, *, device_id: int, printer_id: int, actor: Staff) -> Printer:
    """Choose which printer this device prints receipts and guest checks on (and whose drawer it opens)."""
    if not actor.can(Perm.PRINTERS_MANAGE):
        raise PermissionDenied("Only a manager chooses a device's receipt printer.")
    printer = await session.get(Printer, printer_id)
    if printer is None or printer.archived_at is not None:
        raise NotFound("That printer is not set up.")
    choice = await session.get(DeviceReceiptPrinter, device_id)
    if choice is None:
        choice = DeviceReceiptPrinter(device_id=device_id, printer_id=printer_id, set_by=actor.id or 0)
    choice.printer_id = printer_id
    choice.set_by = actor.id or 0
    choice.set_at = utcnow()
    session.add(choice)
    await audit.record(
        session,
        "checks.receipt_printer",
        actor_id=actor.id,
        subject=f"device:{device_id}",
        after={"printer": printer.name},
    )
    return printer
