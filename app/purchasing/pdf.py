"""A purchase order as a PDF for the supplier (A4, fpdf2's built-in Helvetica: no fonts to install)."""

from __future__ import annotations

from fpdf import FPDF

from app.purchasing.queries import OrderView


def _text(value: str) -> str:
    # The built-in fonts cover Latin-1; anything else prints as '?' rather than failing the document.
    return value.replace("\u20ac", "EUR").encode("latin-1", "replace").decode("latin-1")


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d} {currency}"


def render(view: OrderView, *, venue_name: str, currency: str, day: str) -> bytes:
    """The order's PDF bytes: who orders, from whom, where to deliver, and each line in packs."""
    order, supplier = view.order, view.supplier
    pdf = FPDF(format="A4")
    pdf.set_title(f"Purchase order {order.number}")
    pdf.set_creator("Brigade")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _text(f"Purchase order {order.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _text(f"{venue_name}, deliver to: {view.location.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _text(f"Date: {day}   Status: {order.status.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "To", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    contact = "\n".join(part for part in (supplier.name, supplier.email, supplier.phone) if part)
    pdf.multi_cell(0, 5, _text(contact), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (70, 40, 20, 30, 30)
    heads = ("Item", "Pack", "Packs", "Pack price", "Total")
    pdf.set_font("Helvetica", "B", 9)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head in ("Item", "Pack") else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in view.lines:
        cells = (
            _text(line.item.name)[:44],
            _text(line.line.pack_label),
            str(line.line.packs),
            _money(line.line.pack_cost_cents, currency),
            _money(line.ordered_cents, currency),
        )
        for index, (width, value) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 6, value, align="L" if index < 2 else "R")
        pdf.ln()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(160, 8, "Total", border="T", align="R")
    pdf.cell(30, 8, _money(view.ordered_cents, currency), border="T", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    if order.note:
        pdf.multi_cell(0, 5, _text(f"Note: {order.note}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0, 6, _text(f"Please quote {order.number} on the delivery note and invoice."), new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())
