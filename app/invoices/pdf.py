"""An issued invoice or credit note as a PDF (A4, fpdf2's built-in Helvetica: no fonts to install)."""

from __future__ import annotations

from fpdf import FPDF

from app.invoices.models import CustomerInvoice, InvoiceKind


def _text(value: str) -> str:
    # The built-in fonts cover Latin-1; anything else prints as '?' rather than failing the document.
    return value.replace("\u20ac", "EUR").encode("latin-1", "replace").decode("latin-1")


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d} {currency}"


def render(invoice: CustomerInvoice, *, credits_number: str | None = None) -> bytes:
    """The document's PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"{invoice.kind.label} {invoice.document_number}")
    pdf.set_creator("Brigade")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _text(invoice.venue_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if invoice.venue_address:
        pdf.multi_cell(0, 4.5, _text(invoice.venue_address), new_x="LMARGIN", new_y="NEXT")
    if invoice.venue_vat_number:
        pdf.cell(0, 5, _text(f"VAT number: {invoice.venue_vat_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _text(f"{invoice.kind.label} {invoice.document_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        f"Issued {invoice.issue_date.isoformat()} for check #{invoice.check_number}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if invoice.kind is InvoiceKind.CREDIT_NOTE and credits_number:
        pdf.cell(0, 6, _text(f"Credits invoice {credits_number}: {invoice.reason}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Billed to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, _text(f"{invoice.company_name}\n{invoice.company_address}"), new_x="LMARGIN", new_y="NEXT")
    if invoice.vat_number:
        pdf.cell(0, 6, _text(f"VAT number: {invoice.vat_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (78, 14, 26, 16, 26, 30)
    heads = ("Description", "Qty", "Net", "VAT %", "VAT", "Total")
    pdf.set_font("Helvetica", "B", 9)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in invoice.lines:
        cells = (
            _text(str(line["description"]))[:48],
            str(line["quantity"]),
            _money(int(line["net_cents"]), invoice.currency),
            f"{int(line['tax_rate_bp']) / 100:g}",
            _money(int(line["tax_cents"]), invoice.currency),
            _money(int(line["total_cents"]), invoice.currency),
        )
        for index, (width, value) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 6, value, align="L" if index == 0 else "R")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for label, cents in (("Net", invoice.net_cents), ("VAT", invoice.tax_cents)):
        pdf.cell(160, 6, label, align="R")
        pdf.cell(30, 6, _money(cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(160, 7, "Total", align="R")
    pdf.cell(30, 7, _money(invoice.total_cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.taxes:
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 9)
        for tax in invoice.taxes:
            base = int(tax.get("base_cents") or 0)
            text = f"VAT {int(tax['rate_bp']) / 100:g} %: {_money(int(tax['tax_cents']), invoice.currency)}"
            if base:
                text += f" on {_money(base, invoice.currency)}"
            pdf.cell(0, 5, _text(text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
