from __future__ import annotations

import pytest

from printers.layouts import render_kitchen_ticket
from printers.profiles import DEFAULT_PROFILE, PrinterProfile
from tests.support.escpos_decoder import decode
from tests.unit.printers.samples import kitchen_ticket


def test_default_profile_drives_an_80mm_printer_in_cp858_as_esc_t_19() -> None:
    assert DEFAULT_PROFILE.columns == 42
    assert DEFAULT_PROFILE.code_page == "CP858"
    assert DEFAULT_PROFILE.esc_t_number == 19
    assert DEFAULT_PROFILE.codec == "cp858"


def test_code_page_names_are_case_insensitive() -> None:
    assert PrinterProfile(code_page="cp1252").esc_t_number == 16


def test_code_page_number_from_the_printers_manual_overrides_the_database() -> None:
    clone = PrinterProfile(name="clone", code_page="CP858", code_page_number=47)

    data = render_kitchen_ticket(kitchen_ticket(), clone)
    assert data.count(b"\x1bt") == 1
    assert b"\x1bt\x2f" in data


def test_profile_refuses_a_code_page_its_printer_lacks() -> None:
    with pytest.raises(ValueError, match="no code page 'ISO_8859-15'"):
        PrinterProfile(capability="TM-T88IV", code_page="ISO_8859-15")


def test_profile_refuses_unknown_capabilities_and_code_pages() -> None:
    with pytest.raises(ValueError, match="unknown python-escpos capability"):
        PrinterProfile(capability="TM-NOPE")
    with pytest.raises(ValueError, match="no known text encoding"):
        PrinterProfile(code_page="CP9999")
    with pytest.raises(ValueError, match="columns"):
        PrinterProfile(columns=8)


def test_kanji_mode_is_cancelled_before_the_code_page_when_the_profile_asks() -> None:
    data = render_kitchen_ticket(kitchen_ticket(), PrinterProfile(cancel_kanji=True))

    assert data.startswith(b"\x1b@\x1c.\x1bt\x13")
    assert decode(data).kinds()[:3] == ["init", "cancel_kanji", "codepage"]
