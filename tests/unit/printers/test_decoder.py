from __future__ import annotations

import pytest

from tests.support.escpos_decoder import DecodeError, TruncatedCommand, UnknownCommand, decode


def test_decoder_rejects_unknown_command() -> None:
    with pytest.raises(UnknownCommand, match=r"ESC 'G' \(0x1b 0x47\) at offset 3"):
        decode(b"abc\x1bG\x01")


@pytest.mark.parametrize(("data", "named"), [(b"\x07", "0x07"), (b"x\r\n", "0x0d"), (b"\x1d\x28", "0x28")])
def test_decoder_names_the_byte_it_does_not_know(data: bytes, named: str) -> None:
    with pytest.raises(UnknownCommand, match=named):
        decode(data)


def test_decoder_rejects_a_command_cut_short() -> None:
    with pytest.raises(TruncatedCommand):
        decode(b"\x1bp\x00\x32")


def test_decoder_rejects_a_code_page_it_cannot_map() -> None:
    with pytest.raises(DecodeError, match="code page 99"):
        decode(b"\x1bt\x63")


def test_decoder_reads_text_in_the_code_page_selected_by_esc_t() -> None:
    printed = decode(b"\x1bt\x00\x9b\n\x1bt\x13\xd5\n\x1bt\x10\x80\n\x1bt\x02\xd5\n", codepage="cp437")

    assert printed.lines == ["¢", "€", "€", "\u0131"]  # dotless i in CP850
    assert [event.value for event in printed.events_of("codepage")] == [
        (0, "cp437"),
        (19, "cp858"),
        (16, "cp1252"),
        (2, "cp850"),
    ]


def test_decoder_returns_to_the_power_on_code_page_after_init() -> None:
    printed = decode(b"\x1bt\x13\xd5\n\x1b@\xd5\n", codepage="cp437")

    assert printed.lines == ["€", "╒"]


def test_decoder_reports_cut_drawer_kick_and_print_modes() -> None:
    data = (
        b"\x1b@\x1bp\x01\x32\x32"
        b"\x1b!\x30\x1bE\x01\x1dB\x01BIG\n"
        b"\x1b!\x00\x1dB\x00\x1ba\x02small\n"
        b"\x1bd\x03\x1dV\x42\x00"
    )

    printed = decode(data)

    assert printed.lines == ["BIG", "small"]
    big, small = printed.styled_lines
    assert big.style.large
    assert big.style.bold
    assert big.style.inverted
    assert not small.style.bold
    assert small.style.align == "right"
    assert not small.style.inverted
    assert printed.events_of("drawer_kick")[0].value == 5
    assert printed.events_of("cut")[0].value == "partial"
    assert printed.events_of("feed")[0].value == 3


def test_decoder_reads_magnified_text_and_status_queries() -> None:
    printed = decode(b"\x10\x04\x01\x1d!\x11two\n\x1d!\x00\x10\x04\x04")

    assert printed.styled_lines[0].style.width == 2
    assert printed.styled_lines[0].style.height == 2
    assert [event.value for event in printed.events_of("status_query")] == [1, 4]
