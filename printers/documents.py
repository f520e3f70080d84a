"""The documents printers lay out; they belong to the app (`app.kitchen.print_documents`), which hands them over."""

from __future__ import annotations

from app.kitchen.print_documents import (
    AmountLineDoc,
    CheckLineDoc,
    CountedAmountDoc,
    GuestCheckDoc,
    KitchenTicketDoc,
    MoneyFormat,
    PaymentDoc,
    PrintDocument,
    QrCodeDoc,
    ReceiptDoc,
    SeatSubtotalDoc,
    TaxLineDoc,
    TenderTotalDoc,
    TicketKind,
    TicketLineDoc,
    ZReportDoc,
    format_cents,
)

__all__ = [
    "AmountLineDoc",
    "CheckLineDoc",
    "CountedAmountDoc",
    "GuestCheckDoc",
    "KitchenTicketDoc",
    "MoneyFormat",
    "PaymentDoc",
    "PrintDocument",
    "QrCodeDoc",
    "ReceiptDoc",
    "SeatSubtotalDoc",
    "TaxLineDoc",
    "TenderTotalDoc",
    "TicketKind",
    "TicketLineDoc",
    "ZReportDoc",
    "format_cents",
]
