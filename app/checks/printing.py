"""Guest checks, receipts and drawer kicks: documents built from a check's money, sent through the print queue.

The print worker lays each document out for the printer it is sent to; nothing here makes printer bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import calculations as calc
from app.checks.models import DeviceReceiptPrinter, Payment, Tender
from app.checks.queries import CheckMoney, PortionState, settings_of, staff_names, table_name
from app.kitchen.models import Printer, PrinterRole
from app.kitchen.print_documents import (
    AmountLineDoc,
    CheckLineDoc,
    GuestCheckDoc,
    MoneyFormat,
    PaymentDoc,
    QrCodeDoc,
    ReceiptDoc,
    SeatSubtotalDoc,
    TaxLineDoc,
)
from app.kitchen.printing import enqueue_print
from app.lib.errors import Conflict
from app.lib.money import SYMBOLS

# Codes a domain above checks prints under a receipt (a gift card sold on the check), registered by name in
# main.py: checks imports no domain above it.
ReceiptCodes = Callable[[AsyncSession, CheckMoney], Awaitable[list[QrCodeDoc]]]
RECEIPT_CODES: dict[str, ReceiptCodes] = {}


async def receipt_printer(session: AsyncSession, device_id: int | None) -> Printer:
    """The printer for this device's receipts and cash drawer: the device's own choice, else the receipt printer."""
    if device_id is not None:
        choice = await session.get(DeviceReceiptPrinter, device_id)
        if choice is not None:
            printer = await session.get(Printer, choice.printer_id)
            if printer is not None and printer.archived_at is None:
                return printer
    printer = (
        await session.exec(
            select(Printer)
            .where(Printer.role == PrinterRole.RECEIPT, col(Printer.archived_at).is_(None))
            .order_by(col(Printer.id))
        )
    ).first()
    if printer is None:
        raise Conflict("No receipt printer is set up; a manager adds one under Stations & printers.")
    return printer


async def print_document(
    session: AsyncSession,
    printer: Printer,
    document: GuestCheckDoc | ReceiptDoc,
    *,
    kind: str,
    reference: str,
    requested_by: int | None = None,
) -> None:
    """Owe `document` to `printer` through the durable print queue, in this transaction; the worker lays it out."""
    await enqueue_print(
        session,
        printer_id=printer.id or 0,
        kind=kind,
        reference=reference,
        document=document,
        requested_by=requested_by,
    )


def money_format(currency: str) -> MoneyFormat:
    """How amounts print for this currency."""
    symbol = SYMBOLS.get(currency)
    if symbol is None:
        return MoneyFormat(symbol=currency, symbol_after=True)
    return MoneyFormat(symbol=symbol)


def quantity_text(line_quantity_num: int, line_quantity_den: int) -> str:
    """'2', '1/4', '1 1/2': shares as the fraction a guest recognises."""
    from fractions import Fraction

    quantity = Fraction(line_quantity_num, line_quantity_den)
    if quantity.denominator == 1:
        return str(quantity.numerator)
    # A share sized to the cent (667/1999) still reads as the share it is (1/3).
    shown = quantity.limit_denominator(12)
    whole, rest = divmod(shown.numerator, shown.denominator)
    fraction = f"{rest}/{shown.denominator}"
    return f"{whole} {fraction}" if whole else fraction


def _lines(money: CheckMoney) -> tuple[CheckLineDoc, ...]:
    docs: list[CheckLineDoc] = []
    for line in money.live_lines:
        line_totals = money.line_totals[line.id or 0]
        modifiers = [m.name for m in money.modifiers.get(line.id or 0, ())]
        if money.line_comp(line.id):
            modifiers.append("Comp")
        if line_totals.promotion:
            # The promotion the line was rung in under, by name and amount, as on the screen.
            off = money_format(money.currency).format(line_totals.promotion)
            modifiers.append(f"{line_totals.promotion_name} -{off}"[:60])
        docs.append(
            CheckLineDoc(
                quantity=quantity_text(line.quantity_num, line.quantity_den),
                name=line.name if line.seat is None else f"{line.name} (seat {line.seat})",
                amount_cents=line_totals.amount,
                modifiers=tuple(modifiers),
            )
        )
    return tuple(docs)


def _seat_subtotals(money: CheckMoney) -> tuple[SeatSubtotalDoc, ...]:
    seats = money.seats
    if len(seats) < 2 and not (seats and seats[0] is not None):
        return ()
    subtotals: dict[int | None, int] = {}
    for line_totals in money.totals.lines:
        if line_totals.status is not calc.LineStatus.VOIDED:
            subtotals[line_totals.seat] = subtotals.get(line_totals.seat, 0) + line_totals.amount
    return tuple(
        SeatSubtotalDoc(seat=str(seat) if seat is not None else "shared", amount_cents=subtotals.get(seat, 0))
        for seat in seats
    )


def _adjustments(money: CheckMoney) -> tuple[AmountLineDoc, ...]:
    totals = money.totals
    adjustments: list[AmountLineDoc] = []
    if totals.promotions:
        names = sorted({line.promotion_name for line in totals.lines if line.promotion and line.promotion_name})
        adjustments.append(
            AmountLineDoc(label=f"Promotions ({', '.join(names)})"[:60], amount_cents=-totals.promotions)
        )
    if totals.discounts:
        reasons = sorted({d.reason for d in money.discounts})
        adjustments.append(AmountLineDoc(label=f"Discount ({', '.join(reasons)})"[:60], amount_cents=-totals.discounts))
    if totals.comps:
        reasons = sorted({c.reason for c in money.comps})
        adjustments.append(AmountLineDoc(label=f"Comp ({', '.join(reasons)})"[:60], amount_cents=-totals.comps))
    return tuple(adjustments)


def _service_charge(money: CheckMoney) -> AmountLineDoc | None:
    totals = money.totals
    if not (totals.service_charge or totals.service_charge_tax):
        return None
    shown = totals.service_charge + (totals.service_charge_tax if totals.prices_include_tax else 0)
    percent = f" {money.service_charge_percent.normalize():f} %" if money.service_charge_percent else ""
    return AmountLineDoc(label=f"Service charge{percent}", amount_cents=shown)


def _taxes(taxes: Sequence[calc.TaxLine], totals: calc.CheckTotals) -> tuple[TaxLineDoc, ...]:
    # Rounded per line, a rate's tax is the sum of its lines' rounded tax: "9 % on €92.00 €8.29" would read as a
    # mistake (9 % of 92.00 is 8.28), so the paper says how it was reached instead of showing a base it does not match.
    per_line = totals.tax_rounded_per_line
    return tuple(
        TaxLineDoc(
            label=tax.rate.name,
            tax_cents=tax.tax,
            base_cents=None if per_line else tax.taxable_base,
            included=totals.prices_include_tax,
            rounded_per_line=per_line,
        )
        for tax in taxes
        if tax.tax or tax.taxable_base
    )


async def _header(session: AsyncSession, money: CheckMoney) -> tuple[str, str, tuple[str, ...]]:
    names = await staff_names(session, [money.check.server_id])
    table = await table_name(session, money.check.table_id)
    if money.check.table_id is None and money.check.tab_name:
        table = money.check.tab_name
    settings = settings_of(session)
    return names.get(money.check.server_id, "-"), table, (settings.venue_name,)


async def guest_check_doc(session: AsyncSession, money: CheckMoney, *, reprint: bool = False) -> GuestCheckDoc:
    """The check guests read before paying, from the same totals as the screen."""
    server, table, _ = await _header(session, money)
    totals = money.totals
    return GuestCheckDoc(
        venue_name=settings_of(session).venue_name,
        check_number=str(money.check.number),
        table_label=table,
        server_name=server,
        opened_at=money.check.opened_at,
        covers=money.check.covers,
        lines=_lines(money),
        seat_subtotals=_seat_subtotals(money),
        subtotal_cents=totals.gross,
        adjustments=_adjustments(money),
        service_charge=_service_charge(money),
        taxes=_taxes(totals.taxes, totals),
        total_cents=totals.total,
        footer_lines=_guest_footer(money),
        money=money_format(money.currency),
        reprint=reprint,
    )


def _guest_footer(money: CheckMoney) -> tuple[str, ...]:
    footer: list[str] = []
    if money.paid:
        footer.append(f"Paid so far {money_format(money.currency).format(money.paid)}")
        footer.append(f"Still to pay {money_format(money.currency).format(max(money.due, 0))}")
    for portion in money.portions:
        footer.append(f"{portion.label}: {money_format(money.currency).format(portion.owed)}")
    footer.append("Thank you!")
    return tuple(footer)


def payment_doc(payment: Payment, tender: Tender | None) -> PaymentDoc:
    """One payment as a receipt prints it: never more of a card than brand, last four and auth code."""
    name = tender.name if tender else "Payment"
    if payment.tendered_cents is not None and payment.change_cents:
        name = f"{name} tendered"
    return PaymentDoc(
        tender=name,
        amount_cents=payment.tendered_cents if payment.tendered_cents is not None else payment.amount_cents,
        tip_cents=payment.tip_cents,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        auth_code=payment.auth_code,
    )


async def receipt_doc(
    session: AsyncSession,
    money: CheckMoney,
    *,
    portion: PortionState | None = None,
    closed_at: datetime | None = None,
    reprint: bool = False,
) -> ReceiptDoc:
    """The receipt of a check, or of one part of an even or by-amount split with that part's own tax."""
    server, table, _ = await _header(session, money)
    totals = money.totals
    when = closed_at or money.check.closed_at or _latest_payment_time(money) or money.check.opened_at
    payments = money.payments if portion is None else [p for p in money.payments if p.portion_id == portion.portion.id]
    codes: list[QrCodeDoc] = []
    for codes_of in RECEIPT_CODES.values():
        codes += await codes_of(session, money)
    common = {
        "venue_name": settings_of(session).venue_name,
        "check_number": str(money.check.number),
        "table_label": table,
        "server_name": server,
        "opened_at": money.check.opened_at,
        "closed_at": when,
        "covers": money.check.covers,
        "payments": tuple(payment_doc(p, money.tenders.get(p.tender_id)) for p in payments),
        "change_due_cents": sum(p.change_cents for p in payments),
        "money": money_format(money.currency),
        "reprint": reprint,
        "qr_codes": tuple(codes),
    }
    if portion is not None and portion.part is not None:
        part = portion.part
        inclusive = totals.prices_include_tax
        service = part.service_charge
        service_tax = 0
        if inclusive and totals.service_charge_tax_rate is not None:
            service_tax = next((t.tax for t in part.taxes if t.rate == totals.service_charge_tax_rate), 0)
        # The part's goods, as the guest's share of the check: tax included where prices include it.
        goods = part.total - service - (service_tax if inclusive else 0) - (0 if inclusive else part.tax)
        return ReceiptDoc(
            **common,  # type: ignore[arg-type]
            lines=(
                CheckLineDoc(
                    quantity=f"1/{portion.count}" if _even(money) else "1",
                    name=f"{portion.label} of check {money.check.number}",
                    amount_cents=goods,
                ),
            ),
            subtotal_cents=goods,
            service_charge=(
                AmountLineDoc(label="Service charge", amount_cents=service + (service_tax if inclusive else 0))
                if service
                else None
            ),
            taxes=_taxes(part.taxes, totals),
            total_cents=part.total,
            footer_lines=("Thank you!",),
        )
    return ReceiptDoc(
        **common,  # type: ignore[arg-type]
        lines=_lines(money),
        seat_subtotals=_seat_subtotals(money),
        subtotal_cents=totals.gross,
        adjustments=_adjustments(money),
        service_charge=_service_charge(money),
        taxes=_taxes(totals.taxes, totals),
        total_cents=totals.total,
        footer_lines=("Thank you!",),
    )


def _even(money: CheckMoney) -> bool:
    return len({p.portion.weight for p in money.portions}) == 1


def _latest_payment_time(money: CheckMoney) -> datetime | None:
    return max((p.taken_at for p in money.payments), default=None)
