from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.kitchen.print_documents import TaxLineDoc, TicketLineDoc
from printers.layouts import (
    render_drawer_kick,
    render_guest_check,
    render_kitchen_ticket,
    render_receipt,
    render_z_report,
)
from printers.profiles import DEFAULT_PROFILE, PrinterProfile
from tests.support.escpos_decoder import Decoded, decode
from tests.unit.printers.samples import FIRED_AT, guest_check, kitchen_ticket, receipt, z_report

WIDE_PROFILE = PrinterProfile(name="80mm font A, 48 columns", capability="TM-T20II", columns=48)


def ticket(**changes: object) -> Decoded:
    return decode(render_kitchen_ticket(kitchen_ticket(**changes)))


def test_kitchen_ticket_prints_table_large_and_note_on_its_own_line() -> None:
    printed = ticket()

    table = printed.line("T12")
    assert table.text == "T12"
    assert table.style.large
    assert table.style.align == "center"
    note_at = printed.index("NOTE: allergic to nuts")
    assert printed.lines[note_at].strip() == "NOTE: allergic to nuts"
    assert printed.index("Ribeye") < note_at < printed.index("Fries")


def test_kitchen_ticket_prints_each_item_large_and_bold_with_seat_and_indented_modifiers() -> None:
    printed = ticket()

    for item in ("2 x Ribeye", "1/2 x Fries"):
        line = printed.line(item)
        assert line.text == item
        assert line.style.large
        assert line.style.bold
    assert printed.line("Seat 1").text == "    Seat 1"
    assert printed.line("medium rare").text == "    - medium rare"
    assert printed.line("no onion").text == "    - no onion"


def test_kitchen_ticket_names_station_course_server_check_and_fire_time() -> None:
    printed = ticket()

    assert printed.line("Grill - Mains").style.double_height
    assert printed.line("Check 1042").text.endswith("Server Nico")
    assert printed.line("Fired").text.endswith("19:42")


def test_new_ticket_carries_no_banner() -> None:
    printed = ticket()

    assert not [line for line in printed.styled_lines if line.style.inverted]


@pytest.mark.parametrize(("kind", "banner"), [("void", "VOID"), ("addition", "ADDITION"), ("rush", "RUSH")])
def test_ticket_kind_prints_a_reversed_large_banner_above_the_table(kind: str, banner: str) -> None:
    printed = ticket(kind=kind)

    line = printed.styled_lines[0]
    assert line.text.strip() == banner
    assert line.style.inverted
    assert line.style.large
    assert printed.index(banner) < printed.index("T12")


def test_reprint_from_a_backup_printer_says_so_in_banners() -> None:
    printed = ticket(reprint=True, backup_from="Grill 2")

    banners = [line.text.strip() for line in printed.styled_lines if line.style.inverted]
    assert banners == ["REPRINT", "BACKUP FROM Grill 2"]


def test_long_backup_printer_name_wraps_inside_the_banner() -> None:
    printed = ticket(backup_from="Grill printer by the pass")

    banners = [line.text for line in printed.styled_lines if line.style.inverted]
    assert " ".join(b.strip() for b in banners) == "BACKUP FROM Grill printer by the pass"
    assert all(len(b) <= DEFAULT_PROFILE.wide_columns for b in banners)


def test_voided_line_is_marked_void_and_reversed() -> None:
    printed = ticket(kind="void", lines=(TicketLineDoc(quantity="1", name="Ribeye", voided=True),))

    line = printed.line("1 x Ribeye")
    assert line.text == "VOID 1 x Ribeye"
    assert line.style.inverted


def test_kitchen_ticket_ends_with_a_cut() -> None:
    printed = ticket()

    assert printed.kinds()[-1] == "cut"
    assert printed.events_of("cut")[0].line == len(printed.lines)


def test_long_item_name_wraps_within_the_double_width_line() -> None:
    long_name = "Slow roasted pork belly with apple and celeriac puree"
    printed = ticket(lines=(TicketLineDoc(quantity="12", name=long_name),))

    item_lines = [line for line in printed.styled_lines if line.style.large and line.style.align != "center"]
    assert all(len(line.text) <= DEFAULT_PROFILE.wide_columns for line in item_lines)
    assert " ".join(line.text.strip() for line in item_lines) == f"12 x {long_name}"
    assert item_lines[1].text.startswith("     ")


def test_euro_and_accents_survive_forced_cp858() -> None:
    dish = TicketLineDoc(quantity="1", name="Crêpe", modifiers=("€5 jalapeño müsli",))
    data = render_kitchen_ticket(kitchen_ticket(lines=(dish,)))

    assert data.count(b"\x1bt") == 1
    assert data.index(b"\x1b@") < data.index(b"\x1bt\x13")
    assert "€5 jalapeño müsli".encode("cp858") in data
    assert b"\xd5" in data  # the euro sign in CP858
    # decoded as a printer that powers up in CP437 would read it
    printed = decode(data, codepage="cp437")
    assert printed.line("Crêpe").text == "1 x Crêpe"
    assert printed.line("jalape").text == "    - €5 jalapeño müsli"


def test_characters_missing_from_the_code_page_print_as_lookalikes() -> None:
    dish = TicketLineDoc(
        quantity="1", name="Sushi", modifiers=("Chef\u2019s \u201cspecial\u201d \u2013 łosoś\u2026 🍣",)
    )
    printed = ticket(lines=(dish,))

    assert printed.line("Chef").text == '    - Chef\'s "special" - losos... ?'


def test_note_cannot_inject_printer_commands() -> None:
    # drawer kick, cut, reset, real-time pulse, print mode and code page, and line breaks
    hostile = "no salt\x1bp\x00\x19\xfa\x1dV\x00\x1b@\x10\x14\x01\x00\x05\x1b!\x30\x1bt\x00\rsee\tme\x07\x7f\x85end"
    data = render_kitchen_ticket(
        kitchen_ticket(
            table_label="T\x1bp\x00\x31\x32",
            lines=(TicketLineDoc(quantity="1", name="Soup\x1dV\x01", modifiers=("\x1b@hot",), note=hostile),),
        )
    )

    printed = decode(data)
    assert printed.kinds().count("init") == 1
    assert printed.kinds().count("codepage") == 1
    assert printed.kinds().count("cut") == 1
    assert not printed.events_of("drawer_kick")
    note_at = printed.index("NOTE:")
    assert printed.lines[note_at : note_at + 3] == ["    NOTE: no saltpúV@!0t", "    see me", "    end"]
    assert printed.lines[0] == "Tp12"
    assert b"\x10\x14" not in data
    assert b"\x10\x04" not in data


printable_or_not = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=150, deadline=None)
@given(table=printable_or_not, name=printable_or_not, modifier=printable_or_not, note=printable_or_not)
def test_no_user_text_can_add_commands_to_a_ticket(table: str, name: str, modifier: str, note: str) -> None:
    data = render_kitchen_ticket(
        kitchen_ticket(
            table_label=table,
            lines=(TicketLineDoc(quantity="1", name=name, modifiers=(modifier,), note=note),),
        )
    )

    printed = decode(data)
    kinds = printed.kinds()
    assert kinds.count("init") == 1
    assert kinds.count("codepage") == 1
    assert kinds.count("cut") == 1
    assert "drawer_kick" not in kinds
    assert all(len(line.text) <= DEFAULT_PROFILE.columns // line.style.width for line in printed.styled_lines)


@pytest.mark.parametrize("profile", [DEFAULT_PROFILE, WIDE_PROFILE], ids=lambda p: f"{p.columns} columns")
def test_receipt_columns_are_padded_to_the_profile_width(profile: PrinterProfile) -> None:
    printed = decode(render_receipt(receipt(), profile))

    for label, amount in [
        ("2 Ribeye", "€58.00"),
        ("1 Crème brûlée", "€8.50"),
        ("Subtotal", "€73.50"),
        ("Comp: birthday dessert", "-€8.50"),
        ("Service 10%", "€6.50"),
        ("incl. VAT 10% on €67.00", "€6.70"),
        ("TOTAL", "€71.50"),
        ("Change due", "€8.50"),
    ]:
        line = printed.line(label).text
        assert len(line) == profile.columns, line
        assert line.startswith(label)
        assert line.endswith(" " + amount)
    rules = [line for line in printed.lines if set(line) == {"-"}]
    assert rules
    assert all(len(rule) == profile.columns for rule in rules)


def test_receipt_shows_card_brand_last_four_tip_and_auth_code_but_never_more() -> None:
    printed = decode(render_receipt(receipt()))

    card = printed.line("Card Visa ****4242").text
    assert card.endswith("€50.00")
    assert printed.line("Tip").text.endswith("€5.00")
    assert printed.line("Auth A1B2C3").text == "  Auth A1B2C3"
    assert printed.line("Cash").text.endswith("€30.00")
    assert printed.line("Closed").text.endswith("2025-03-14 21:17")


def test_total_is_printed_tall_and_bold() -> None:
    printed = decode(render_receipt(receipt()))

    total = printed.line("TOTAL").style
    assert total.bold
    assert total.double_height
    assert not total.double_width


def test_receipt_kicks_the_drawer_only_when_asked() -> None:
    assert not decode(render_receipt(receipt())).events_of("drawer_kick")

    printed = decode(render_receipt(receipt(), open_drawer=True))
    kicks = printed.events_of("drawer_kick")
    assert [kick.value for kick in kicks] == [2]
    assert kicks[0].line == 0


@pytest.mark.parametrize(
    "profile", [PrinterProfile(drawer_pin=2), PrinterProfile(drawer_pin=5)], ids=["pin 2", "pin 5"]
)
def test_drawer_kick_alone_pulses_the_profiles_pin_and_prints_nothing(profile: PrinterProfile) -> None:
    printed = decode(render_drawer_kick(profile))

    assert [kick.value for kick in printed.events_of("drawer_kick")] == [profile.drawer_pin]
    assert printed.lines == []
    assert not printed.events_of("cut")


def test_guest_check_lists_lines_seat_subtotals_and_total_but_no_payments() -> None:
    printed = decode(render_guest_check(guest_check()))

    assert printed.line("GUEST CHECK").style.align == "center"
    assert printed.line("Check 1042").text.endswith("Table T12")
    assert printed.line("Server Nico").text.endswith("Guests 2")
    assert printed.line("    medium rare").text == "    medium rare"
    assert printed.line("Seat 1").text.endswith("€37.50")
    assert printed.line("Seat 2").text.endswith("€36.00")
    assert printed.line("TOTAL").text.endswith("€65.00")
    assert printed.line("Merci et à bientôt!").style.align == "center"
    assert "Card" not in printed.text
    assert not printed.events_of("drawer_kick")


def test_reprinted_guest_check_says_reprint() -> None:
    printed = decode(render_guest_check(guest_check(reprint=True)))

    assert printed.styled_lines[0].text.strip() == "REPRINT"
    assert printed.styled_lines[0].style.inverted


def test_z_report_lists_categories_tenders_taxes_and_cash_over_short() -> None:
    printed = decode(render_z_report(z_report()))

    assert printed.line("Z REPORT").style.large
    assert printed.line("Business day").text.endswith("2025-03-14")
    assert printed.line("Net sales by category").style.bold
    assert "after discounts and comps, tax excluded" in printed.lines, "the categories say what they add up"
    assert printed.line("Food").text.endswith("€1845.00")
    [total] = [line for line in printed.lines if line.startswith("Net sales") and "category" not in line]
    assert total.endswith("€2807.50")
    assert printed.line("Tenders (tips included)").style.bold
    assert printed.line("Card (41)").text.endswith("€2310.00")
    assert printed.line("Voids after send (3)").text.endswith("€42.00")
    assert printed.line("Comps (2)").text.endswith("€17.00")
    assert printed.line("Discounts (5)").text.endswith("€63.50")
    assert printed.line("Tips (not in sales)").text.endswith("€189.00")
    assert printed.line("Cash over/short").text.endswith("-€2.50")
    assert printed.kinds()[-1] == "cut"


Renderer = Callable[[PrinterProfile], bytes]
RENDERERS: dict[str, Renderer] = {
    "kitchen ticket": lambda p: render_kitchen_ticket(kitchen_ticket(reprint=True, kind="rush"), p),
    "guest check": lambda p: render_guest_check(guest_check(), p),
    "receipt": lambda p: render_receipt(receipt(), p, open_drawer=True),
    "z report": lambda p: render_z_report(z_report(), p),
    "drawer kick": render_drawer_kick,
}
PROFILES = {
    "default": DEFAULT_PROFILE,
    "48 columns": WIDE_PROFILE,
    "full cut, kanji cancelled": PrinterProfile(partial_cut=False, cancel_kanji=True),
}


@pytest.mark.parametrize("profile_name", PROFILES)
@pytest.mark.parametrize("document", RENDERERS)
def test_every_layout_sends_only_commands_we_know_in_one_code_page(document: str, profile_name: str) -> None:
    profile = PROFILES[profile_name]
    printed = decode(RENDERERS[document](profile))

    kinds = printed.kinds()
    assert kinds[:2] == ["init", "codepage"] or kinds[:3] == ["init", "cancel_kanji", "codepage"]
    assert kinds.count("codepage") == 1
    for line in printed.styled_lines:
        assert len(line.text) <= profile.columns // line.style.width, line


def test_full_cut_profile_cuts_fully() -> None:
    printed = decode(render_kitchen_ticket(kitchen_ticket(), PrinterProfile(partial_cut=False)))

    assert [cut.value for cut in printed.events_of("cut")] == ["full"]


def test_void_ticket_says_when_it_was_voided_by_whom_with_whose_approval_and_why() -> None:
    printed = ticket(
        kind="void",
        lines=(TicketLineDoc(quantity="1", name="Ribeye", voided=True),),
        voided_by="Nico",
        void_approved_by="Sam Reyes",
        void_reason="Guest left before mains",
    )

    assert printed.line("Voided").text.endswith("19:42")
    assert printed.line("Voided").style.bold
    assert "Fired" not in printed.text
    assert "Voided by Nico" in printed.text
    assert "Approved by Sam Reyes" in printed.text
    assert printed.line("Reason: Guest left before mains").style.bold
    assert printed.index("Reason: Guest left") < printed.index("VOID 1 x Ribeye")


def test_void_ticket_without_an_approver_prints_no_approval_line() -> None:
    printed = ticket(kind="void", voided_by="Nico", void_reason="Rang in twice")

    assert "Approved by" not in printed.text
    assert "Voided by Nico" in printed.text


def test_new_ticket_still_says_fired() -> None:
    printed = ticket(voided_by="Nico", void_reason="ignored on a new ticket")

    assert printed.line("Fired").text.endswith("19:42")
    assert "Voided" not in printed.text
    assert "Reason" not in printed.text


def test_a_ticket_timed_to_finish_with_a_slower_station_says_when_to_fire_it() -> None:
    start = FIRED_AT + timedelta(minutes=10)
    printed = ticket(kind="addition", start_at=start)

    banners = [line.text.strip() for line in printed.styled_lines if line.style.inverted]
    assert banners == ["ADDITION", f"FIRE AT {start:%H:%M}"]
    assert "FIRE AT" not in ticket().text
    assert "FIRE AT" not in ticket(kind="void", start_at=start).text, "a void is for now, whatever its timing"


def test_late_ticket_says_how_late_in_a_banner_after_its_kind() -> None:
    printed = ticket(kind="rush", late_minutes=12, reprint=True, backup_from="Bar")

    banners = [line.text.strip() for line in printed.styled_lines if line.style.inverted]
    assert banners == ["RUSH", "LATE - 12 MIN", "REPRINT", "BACKUP FROM Bar"]


@pytest.mark.parametrize("profile", [DEFAULT_PROFILE, WIDE_PROFILE], ids=lambda p: f"{p.columns} columns")
def test_tax_rounded_per_line_is_printed_under_a_note_and_without_a_base(profile: PrinterProfile) -> None:
    taxes = (
        TaxLineDoc(label="Food & soft drinks 9 %", tax_cents=829, rounded_per_line=True),
        TaxLineDoc(label="Alcohol 21 %", tax_cents=1050, rounded_per_line=True),
    )
    printed = decode(render_guest_check(guest_check(taxes=taxes), profile))

    note = printed.lines.index("Tax rounded per line:")
    food, alcohol = printed.lines[note + 1 : note + 3]
    assert food.startswith("  Food & soft drinks 9 %")
    assert food.endswith(" €8.29")
    assert alcohol.startswith("  Alcohol 21 %")
    assert alcohol.endswith(" €10.50")
    assert " on €" not in printed.text, "no base beside a tax that is not its rate times that base"
    included = decode(render_guest_check(guest_check(taxes=(replace(taxes[0], included=True),)), profile))
    assert "Tax included, rounded per line:" in included.lines
