"""Print jobs keep their document: the worker lays it out for the printer it sends it to, and again with REPRINT,
BACKUP FROM or LATE banners."""

from __future__ import annotations

import datetime as dt

from app.kitchen.models import Printer, PrintJob
from app.kitchen.print_documents import (
    AmountLineDoc,
    CheckLineDoc,
    CountedAmountDoc,
    GuestCheckDoc,
    KitchenTicketDoc,
    PaymentDoc,
    ReceiptDoc,
    TaxLineDoc,
    TicketLineDoc,
    ZReportDoc,
)
from printers.layouts import render_drawer_kick, render_guest_check, render_kitchen_ticket, render_receipt
from printers.profiles import PrinterProfile
from printers.queue import document_from_json, document_to_json, job_bytes
from tests.support.escpos_decoder import decode

TZ = dt.timezone(dt.timedelta(hours=1))
TICKET = KitchenTicketDoc(
    station="Pastry",
    table_label="Table 7",
    check_number="1042",
    server_name="Lena Brooks",
    course_name="Dessert",
    fire_time=dt.datetime(2025, 3, 14, 21, 5, tzinfo=TZ),
    lines=(TicketLineDoc(quantity="2", name="Crème Brûlée", seat="1", modifiers=("no sugar",), note="birthday €"),),
)
RECEIPT = ReceiptDoc(
    venue_name="Brigade Bistro",
    check_number="1042",
    table_label="7",
    server_name="Lena Brooks",
    opened_at=dt.datetime(2025, 3, 14, 19, 0, tzinfo=TZ),
    closed_at=dt.datetime(2025, 3, 14, 21, 30, tzinfo=TZ),
    lines=(CheckLineDoc(quantity="2", name="Crème Brûlée", amount_cents=1700),),
    subtotal_cents=1700,
    adjustments=(AmountLineDoc(label="Comp", amount_cents=-100),),
    taxes=(TaxLineDoc(label="VAT 9 %", tax_cents=144, base_cents=1600),),
    total_cents=1744,
    payments=(PaymentDoc(tender="Card", amount_cents=1744, card_brand="VISA", card_last4="4242"),),
)


def test_documents_survive_the_round_trip_through_json() -> None:
    for doc in (TICKET, RECEIPT):
        assert document_from_json(document_to_json(doc)) == doc
    report = ZReportDoc(
        venue_name="Brigade Bistro",
        business_day=dt.date(2025, 3, 14),
        printed_at=dt.datetime(2025, 3, 15, 2, 0, tzinfo=TZ),
        net_sales_cents=100,
        voids=CountedAmountDoc(count=0, amount_cents=0),
        comps=CountedAmountDoc(count=0, amount_cents=0),
        discounts=CountedAmountDoc(count=0, amount_cents=0),
        tips_cents=0,
        cash_over_short_cents=0,
    )
    assert document_from_json(document_to_json(report)) == report


def _job(**kwargs: object) -> PrintJob:
    values: dict[str, object] = {
        "printer_id": 1,
        "target_printer_id": 1,
        "kind": "kitchen_ticket",
        "reference": "ticket:1",
        "data": render_kitchen_ticket(TICKET),
        "document": document_to_json(TICKET),
    }
    values.update(kwargs)
    return PrintJob(**values)  # type: ignore[arg-type]


KITCHEN = Printer(id=1, name="Kitchen", uri="tcp://127.0.0.1:9100")
BAR = Printer(id=2, name="Bar", uri="tcp://127.0.0.1:9101", columns=32)


def test_a_first_send_uses_the_bytes_rendered_at_enqueue_time() -> None:
    job = _job()
    assert job_bytes(job, primary=KITCHEN, target=KITCHEN) == job.data


def test_a_job_sent_to_the_backup_is_rendered_again_for_it_with_the_banner() -> None:
    paper = decode(job_bytes(_job(on_backup=True, target_printer_id=2), primary=KITCHEN, target=BAR))
    # 32 columns hold 16 large characters: the banner wraps, white on black
    assert [line.strip() for line in paper.lines[:2]] == ["BACKUP FROM", "Kitchen"]
    assert paper.styled_lines[0].style.inverted
    assert "2 x Crème Brûlée" in paper.text
    assert "NOTE: birthday €" in paper.text
    assert max(len(line) for line in paper.lines) <= 32


def test_a_resend_after_an_ambiguous_failure_says_reprint() -> None:
    paper = decode(job_bytes(_job(mark_reprint=True), primary=KITCHEN, target=KITCHEN))
    assert paper.lines[0].strip() == "REPRINT"


def test_a_job_without_a_document_gets_its_banner_printed_before_its_bytes() -> None:
    check = GuestCheckDoc(
        venue_name="Brigade Bistro",
        check_number="1042",
        table_label="7",
        server_name="Lena",
        opened_at=dt.datetime(2025, 3, 14, 19, 0, tzinfo=TZ),
        subtotal_cents=1700,
        total_cents=1853,
    )
    job = _job(kind="guest_check", data=render_guest_check(check), document=None, mark_reprint=True, on_backup=True)
    paper = decode(job_bytes(job, primary=KITCHEN, target=BAR))
    assert [line.strip() for line in paper.lines[:3]] == ["REPRINT", "BACKUP FROM", "Kitchen"]
    assert "GUEST CHECK" in paper.text
    assert "€18.53" in paper.text


# A receipt printer set up with the TH230's capabilities on 58 mm paper.
TILL = Printer(id=3, name="Till", uri="tcp://127.0.0.1:9102", profile="TH230", columns=32)


def test_a_receipt_enqueued_without_bytes_is_laid_out_with_the_till_printers_own_capabilities() -> None:
    job = _job(kind="receipt", data=b"", document=document_to_json(RECEIPT), printer_id=3, target_printer_id=3)
    till = PrinterProfile(name="Till", capability="TH230", columns=32, code_page="CP858")
    sent = job_bytes(job, primary=TILL, target=TILL)
    assert sent == render_receipt(RECEIPT, till)
    # The code page is selected by the TH230's own number for CP858, not the generic printer's.
    assert sent != render_receipt(RECEIPT, PrinterProfile(name="Till", columns=32, code_page="CP858"))


def test_a_drawer_kick_enqueued_without_bytes_pulses_the_drawer_and_prints_nothing() -> None:
    job = _job(kind="drawer_kick", data=b"", document=None, open_drawer=True, printer_id=3, target_printer_id=3)
    sent = job_bytes(job, primary=TILL, target=TILL)
    assert sent == render_drawer_kick(PrinterProfile(name="Till", capability="TH230", columns=32, code_page="CP858"))
    assert b"\x1bp" in sent  # ESC p: the drawer's pulse
    assert decode(render_drawer_kick(PrinterProfile(columns=32))).text.strip() == ""  # and no paper


def test_a_job_whose_document_cannot_be_read_prints_a_slip_saying_so_instead_of_stopping_the_queue() -> None:
    unreadable = {"type": "ReceiptDoc", "fields": {"venue_name": "Brigade Bistro"}}
    job = _job(kind="receipt", reference="check:1042", data=b"", document=unreadable)
    paper = decode(job_bytes(job, primary=KITCHEN, target=KITCHEN))
    assert paper.lines[0].strip() == "CANNOT PRINT"
    assert "receipt check:1042" in paper.text
    assert "Print it again from its screen." in paper.text
