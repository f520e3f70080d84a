"""Layouts: documents in, ESC/POS bytes out; pure functions with no I/O."""

from __future__ import annotations

import datetime as dt

from app.kitchen.print_documents import (
    CheckLineDoc,
    GuestCheckDoc,
    KitchenTicketDoc,
    MoneyFormat,
    ReceiptDoc,
    TicketLineDoc,
    ZReportDoc,
)
from printers.page import Page
from printers.profiles import DEFAULT_PROFILE, PrinterProfile

_KIND_BANNERS = {"void": "VOID", "addition": "ADDITION", "rush": "RUSH"}


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def kitchen_banners(doc: KitchenTicketDoc) -> list[str]:
    """The banners a ticket carries, most urgent first."""
    banners: list[str] = []
    if doc.kind in _KIND_BANNERS:
        banners.append(_KIND_BANNERS[doc.kind])
    if doc.late_minutes is not None:
        banners.append(late_banner(doc.late_minutes))
    if doc.start_at is not None and doc.kind != "void":
        banners.append(f"FIRE AT {doc.start_at:%H:%M}")
    if doc.reprint:
        banners.append("REPRINT")
    if doc.backup_from:
        banners.append(f"BACKUP FROM {doc.backup_from}")
    return banners


def late_banner(minutes: int) -> str:
    """The banner on a job that waited for its printer: how late it is."""
    return f"LATE - {max(minutes, 1)} MIN"


def _ticket_line(page: Page, line: TicketLineDoc) -> None:
    head = f"{line.quantity} x "
    if line.voided:
        head = "VOID " + head
    page.line(
        head + line.name,
        size="large",
        bold=True,
        invert=line.voided,
        hanging=" " * min(len(head), page.width("large") // 2),
    )
    if line.seat:
        page.line(f"Seat {line.seat}", bold=True, indent="    ")
    for modifier in line.modifiers:
        page.line(modifier, size="tall", indent="    - ", hanging="      ")
    if line.note:
        page.line(f"NOTE: {line.note}", size="tall", bold=True, indent="    ", hanging="    ")


def render_kitchen_ticket(doc: KitchenTicketDoc, profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    """A station ticket: banners, the table in large type, then each item large and bold."""
    page = Page(profile)
    for banner in kitchen_banners(doc):
        page.banner(banner)
    page.line(doc.table_label, size="large", bold=True, align="center")
    page.line(f"{doc.station} - {doc.course_name}", size="tall", bold=True, align="center")
    page.columns(f"Check {doc.check_number}", f"Server {doc.server_name}")
    if doc.kind == "void":
        page.columns("Voided", doc.fire_time.strftime("%H:%M"), bold=True)
        if doc.voided_by:
            page.line(f"Voided by {doc.voided_by}", hanging="  ")
        if doc.void_approved_by:
            page.line(f"Approved by {doc.void_approved_by}", hanging="  ")
        if doc.void_reason:
            page.line(f"Reason: {doc.void_reason}", size="tall", bold=True, hanging="  ")
    else:
        page.columns("Fired", doc.fire_time.strftime("%H:%M"), bold=True)
    page.rule()
    if doc.allergies:
        page.banner(allergy_banner(doc.allergies))
    for line in doc.lines:
        _ticket_line(page, line)
    page.rule()
    if doc.allergies and len(doc.lines) > 3:
        # a long ticket says it again where the cook's eye ends up
        page.banner(allergy_banner(doc.allergies))
    page.cut()
    return page.output()


def allergy_banner(allergies: str) -> str:
    """The banner printed white on black over a ticket's items when the guest has allergies."""
    return f"ALLERGY: {allergies.upper()}"


def _header(page: Page, doc: GuestCheckDoc | ReceiptDoc, title: str) -> None:
    if doc.reprint:
        page.banner("REPRINT")
    page.line(doc.venue_name, size="tall", bold=True, align="center")
    for venue_line in doc.venue_lines:
        page.line(venue_line, align="center")
    page.blank()
    page.line(title, bold=True, align="center")
    page.rule()
    page.columns(f"Check {doc.check_number}", f"Table {doc.table_label}")
    covers = f"Guests {doc.covers}" if doc.covers is not None else ""
    page.columns(f"Server {doc.server_name}", covers)
    page.columns("Opened", _stamp(doc.opened_at))
    if isinstance(doc, ReceiptDoc):
        page.columns("Closed", _stamp(doc.closed_at))
    page.rule()


def _check_line(page: Page, line: CheckLineDoc, money: MoneyFormat) -> None:
    page.columns(f"{line.quantity} {line.name}", money.format(line.amount_cents))
    for modifier in line.modifiers:
        page.line(modifier, indent="    ", hanging="      ")


def _body(page: Page, doc: GuestCheckDoc | ReceiptDoc) -> None:
    money = doc.money
    for line in doc.lines:
        _check_line(page, line, money)
    if doc.seat_subtotals:
        page.rule()
        for seat in doc.seat_subtotals:
            page.columns(f"Seat {seat.seat}", money.format(seat.amount_cents))
    page.rule()
    page.columns("Subtotal", money.format(doc.subtotal_cents))
    for adjustment in doc.adjustments:
        page.columns(adjustment.label, money.format(adjustment.amount_cents))
    if doc.service_charge is not None:
        page.columns(doc.service_charge.label, money.format(doc.service_charge.amount_cents))
    per_line = [tax for tax in doc.taxes if tax.rounded_per_line]
    if per_line:
        # Said once above the rates, so each rate's line keeps its amount beside it on narrow paper.
        page.line("Tax included, rounded per line:" if per_line[0].included else "Tax rounded per line:")
    for tax in doc.taxes:
        if tax.rounded_per_line:
            page.columns(f"  {tax.label}", money.format(tax.tax_cents))
            continue
        label = f"incl. {tax.label}" if tax.included else tax.label
        if tax.base_cents is not None:
            label = f"{label} on {money.format(tax.base_cents)}"
        page.columns(label, money.format(tax.tax_cents))
    page.columns("TOTAL", money.format(doc.total_cents), size="tall", bold=True)


def _footer(page: Page, footer_lines: tuple[str, ...]) -> None:
    if footer_lines:
        page.blank()
        for footer_line in footer_lines:
            page.line(footer_line, align="center")


def render_guest_check(doc: GuestCheckDoc, profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    """The check guests read before paying: lines, adjustments, taxes and total."""
    page = Page(profile)
    _header(page, doc, "GUEST CHECK")
    _body(page, doc)
    _footer(page, doc.footer_lines)
    page.cut()
    return page.output()


def render_receipt(
    doc: ReceiptDoc,
    profile: PrinterProfile = DEFAULT_PROFILE,
    *,
    open_drawer: bool = False,
) -> bytes:
    """The receipt for a paid check; kicks the cash drawer first only when `open_drawer`."""
    page = Page(profile)
    if open_drawer:
        page.drawer_kick()
    _header(page, doc, "RECEIPT")
    _body(page, doc)
    money = doc.money
    if doc.payments:
        page.rule()
    for payment in doc.payments:
        tender = payment.tender
        if payment.card_brand or payment.card_last4:
            card = " ".join(
                part
                for part in (payment.card_brand, f"****{payment.card_last4}" if payment.card_last4 else None)
                if part
            )
            tender = f"{tender} {card}"
        page.columns(tender, money.format(payment.amount_cents))
        if payment.tip_cents:
            page.columns("  Tip", money.format(payment.tip_cents))
        if payment.auth_code:
            page.line(f"Auth {payment.auth_code}", indent="  ")
    if doc.change_due_cents:
        page.columns("Change due", money.format(doc.change_due_cents), bold=True)
    for code in doc.qr_codes:
        page.rule()
        page.line(code.label, bold=True, align="center")
        page.qr(code.data)
        if code.caption:
            page.line(code.caption, align="center")
    _footer(page, doc.footer_lines)
    page.cut()
    return page.output()


def render_drawer_kick(profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    """Only the pulse that opens the cash drawer, for a no-sale."""
    page = Page(profile)
    page.drawer_kick()
    return page.output()


def render_z_report(doc: ZReportDoc, profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    """The end-of-day Z report."""
    page = Page(profile)
    money = doc.money
    page.line(doc.venue_name, size="tall", bold=True, align="center")
    page.line("Z REPORT", size="large", bold=True, align="center")
    page.columns("Business day", doc.business_day.isoformat())
    page.columns("Printed", _stamp(doc.printed_at))
    page.rule()
    page.line("Net sales by category", bold=True)
    page.line("after discounts and comps, tax excluded")
    for category in doc.categories:
        page.columns(category.label, money.format(category.amount_cents))
    page.columns("Net sales", money.format(doc.net_sales_cents), bold=True)
    page.rule()
    page.line("Tenders (tips included)", bold=True)
    for tender in doc.tenders:
        page.columns(f"{tender.tender} ({tender.count})", money.format(tender.amount_cents))
    page.rule()
    page.line("Taxes", bold=True)
    if any(tax.rounded_per_line for tax in doc.taxes):
        # The day's base stays beside each rate for the books; the note explains the cents it may not match.
        page.line("rounded per line, not rate x base")
    for tax in doc.taxes:
        label = f"incl. {tax.label}" if tax.included else tax.label
        if tax.base_cents is not None:
            label = f"{label} on {money.format(tax.base_cents)}"
        page.columns(label, money.format(tax.tax_cents))
    page.rule()
    for name, counted in (("Voids after send", doc.voids), ("Comps", doc.comps), ("Discounts", doc.discounts)):
        page.columns(f"{name} ({counted.count})", money.format(counted.amount_cents))
    if doc.promotions is not None and (doc.promotions.count or doc.promotions.amount_cents):
        page.columns(f"Promotions ({doc.promotions.count} sold)", money.format(doc.promotions.amount_cents))
    page.columns("Tips (not in sales)", money.format(doc.tips_cents))
    page.columns("Cash over/short", money.format(doc.cash_over_short_cents), bold=True)
    page.rule()
    page.cut()
    return page.output()
