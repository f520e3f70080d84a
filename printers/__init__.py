"""Receipt and kitchen printers: ESC/POS layouts, transports and printer status."""

from printers.documents import (
    AmountLineDoc,
    CheckLineDoc,
    CountedAmountDoc,
    GuestCheckDoc,
    KitchenTicketDoc,
    MoneyFormat,
    PaymentDoc,
    ReceiptDoc,
    SeatSubtotalDoc,
    TaxLineDoc,
    TenderTotalDoc,
    TicketKind,
    TicketLineDoc,
    ZReportDoc,
    format_cents,
)
from printers.errors import (
    AmbiguousDelivery,
    PrinterError,
    PrinterOffline,
    PrinterPaperOut,
    PrinterUnreachable,
)
from printers.layouts import (
    render_drawer_kick,
    render_guest_check,
    render_kitchen_ticket,
    render_receipt,
    render_z_report,
)
from printers.profiles import DEFAULT_PROFILE, PrinterProfile
from printers.status import PrinterStatus
from printers.transports import (
    FileTransport,
    NetworkTransport,
    SerialTransport,
    Transport,
    transport_from_uri,
)

__all__ = [
    "DEFAULT_PROFILE",
    "AmbiguousDelivery",
    "AmountLineDoc",
    "CheckLineDoc",
    "CountedAmountDoc",
    "FileTransport",
    "GuestCheckDoc",
    "KitchenTicketDoc",
    "MoneyFormat",
    "NetworkTransport",
    "PaymentDoc",
    "PrinterError",
    "PrinterOffline",
    "PrinterPaperOut",
    "PrinterProfile",
    "PrinterStatus",
    "PrinterUnreachable",
    "ReceiptDoc",
    "SeatSubtotalDoc",
    "SerialTransport",
    "TaxLineDoc",
    "TenderTotalDoc",
    "TicketKind",
    "TicketLineDoc",
    "Transport",
    "ZReportDoc",
    "format_cents",
    "render_drawer_kick",
    "render_guest_check",
    "render_kitchen_ticket",
    "render_receipt",
    "render_z_report",
    "transport_from_uri",
]
