"""Sample documents from one evening at the demo restaurant, for printer tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from app.kitchen.print_documents import (
    AmountLineDoc,
    CheckLineDoc,
    CountedAmountDoc,
    GuestCheckDoc,
    KitchenTicketDoc,
    PaymentDoc,
    ReceiptDoc,
    SeatSubtotalDoc,
    TaxLineDoc,
    TenderTotalDoc,
    TicketLineDoc,
    ZReportDoc,
)

VENUE_TZ = dt.timezone(dt.timedelta(hours=1))
FIRED_AT = dt.datetime(2025, 3, 14, 19, 42, tzinfo=VENUE_TZ)
SEATED_AT = dt.datetime(2025, 3, 14, 19, 5, tzinfo=VENUE_TZ)
PAID_AT = dt.datetime(2025, 3, 14, 21, 17, tzinfo=VENUE_TZ)

SERVER = "Nico"

RIBEYE = TicketLineDoc(
    quantity="2",
    name="Ribeye",
    seat="1",
    modifiers=("medium rare", "no onion"),
    note="allergic to nuts",
)
FRIES = TicketLineDoc(quantity="1/2", name="Fries")


def kitchen_ticket(**changes: Any) -> KitchenTicketDoc:
    """A grill ticket for the mains of table 12."""
    ticket = KitchenTicketDoc(
        station="Grill",
        table_label="T12",
        check_number="1042",
        server_name=SERVER,
        course_name="Mains",
        fire_time=FIRED_AT,
        lines=(RIBEYE, FRIES),
    )
    return replace(ticket, **changes)


_CHECK_LINES = (
    CheckLineDoc(quantity="2", name="Ribeye", amount_cents=5800, modifiers=("medium rare",)),
    CheckLineDoc(quantity="1", name="Crème brûlée", amount_cents=850),
    CheckLineDoc(quantity="2", name="Café au lait", amount_cents=700),
)
_TAXES = (TaxLineDoc(label="VAT 10%", tax_cents=670, base_cents=6700, included=True),)


def guest_check(**changes: Any) -> GuestCheckDoc:
    """The check for table 12 before payment."""
    check = GuestCheckDoc(
        venue_name="Brasserie Démo",
        venue_lines=("1 Rue de l'Exemple", "75000 Paris"),
        check_number="1042",
        table_label="T12",
        server_name=SERVER,
        opened_at=SEATED_AT,
        covers=2,
        lines=_CHECK_LINES,
        seat_subtotals=(
            SeatSubtotalDoc(seat="1", amount_cents=3750),
            SeatSubtotalDoc(seat="2", amount_cents=3600),
        ),
        subtotal_cents=7350,
        adjustments=(AmountLineDoc(label="Comp: birthday dessert", amount_cents=-850),),
        service_charge=None,
        taxes=_TAXES,
        total_cents=6500,
        footer_lines=("Merci et à bientôt!",),
    )
    return replace(check, **changes)


def receipt(**changes: Any) -> ReceiptDoc:
    """The receipt for table 12, paid by card with a tip and partly in cash."""
    paid = ReceiptDoc(
        venue_name="Brasserie Démo",
        venue_lines=("1 Rue de l'Exemple", "75000 Paris"),
        check_number="1042",
        table_label="T12",
        server_name=SERVER,
        opened_at=SEATED_AT,
        closed_at=PAID_AT,
        covers=2,
        lines=_CHECK_LINES,
        subtotal_cents=7350,
        adjustments=(AmountLineDoc(label="Comp: birthday dessert", amount_cents=-850),),
        service_charge=AmountLineDoc(label="Service 10%", amount_cents=650),
        taxes=_TAXES,
        total_cents=7150,
        payments=(
            PaymentDoc(
                tender="Card",
                amount_cents=5000,
                tip_cents=500,
                card_brand="Visa",
                card_last4="4242",
                auth_code="A1B2C3",
            ),
            PaymentDoc(tender="Cash", amount_cents=3000),
        ),
        change_due_cents=850,
        footer_lines=("Merci et à bientôt!",),
    )
    return replace(paid, **changes)


def z_report(**changes: Any) -> ZReportDoc:
    """The Z report for the business day of 14 March."""
    report = ZReportDoc(
        venue_name="Brasserie Démo",
        business_day=dt.date(2025, 3, 14),
        printed_at=dt.datetime(2025, 3, 15, 1, 30, tzinfo=VENUE_TZ),
        categories=(
            AmountLineDoc(label="Food", amount_cents=184_500),
            AmountLineDoc(label="Drinks", amount_cents=96_250),
        ),
        net_sales_cents=280_750,
        tenders=(
            TenderTotalDoc(tender="Card", count=41, amount_cents=231_000),
            TenderTotalDoc(tender="Cash", count=12, amount_cents=49_750),
        ),
        taxes=(TaxLineDoc(label="VAT 10%", tax_cents=25_523, base_cents=255_227, included=True),),
        voids=CountedAmountDoc(count=3, amount_cents=4_200),
        comps=CountedAmountDoc(count=2, amount_cents=1_700),
        discounts=CountedAmountDoc(count=5, amount_cents=6_350),
        tips_cents=18_900,
        cash_over_short_cents=-250,
    )
    return replace(report, **changes)
