from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from printers.text import clean_text, fit_code_page, two_columns, wrap


def test_clean_text_keeps_newlines_only_in_multiline_text() -> None:
    assert clean_text("one\r\ntwo\rthree\u2028four") == "one two three four"
    assert clean_text("one\r\ntwo\rthree", multiline=True) == "one\ntwo\nthree"


def test_clean_text_drops_control_and_invisible_characters() -> None:
    assert clean_text("a\x1b@b\x00c\x7fd\u200be\u202ef\tg") == "a@bcdef g"


@given(st.text())
def test_clean_text_never_leaves_a_control_byte(text: str) -> None:
    cleaned = fit_code_page(clean_text(text, multiline=True), "cp858").encode("cp858")

    assert all(byte >= 0x20 or byte == 0x0A for byte in cleaned)
    assert 0x7F not in cleaned


def test_wrap_splits_long_words_and_indents_continuations() -> None:
    assert wrap("Supercalifragilistic fries", 10, indent="- ", hanging="  ") == [
        "- Supercal",
        "  ifragili",
        "  stic",
        "  fries",
    ]


def test_two_columns_pads_to_width_and_puts_the_value_on_the_last_label_line() -> None:
    assert two_columns("Subtotal", "€73.50", 20) == ["Subtotal      €73.50"]
    lines = two_columns("A very long comp reason for the dessert", "-€8.50", 20)
    assert all(len(line) == 20 for line in lines)
    assert lines[-1].endswith(" -€8.50")


@given(
    label=st.text(alphabet="abcdefghij ", max_size=60),
    value=st.text(alphabet="ABCDEFGHIJ ", min_size=1, max_size=90),
    width=st.integers(min_value=24, max_value=80),
)
def test_two_columns_fills_every_line_and_loses_no_character_whatever_the_lengths(
    label: str, value: str, width: int
) -> None:
    lines = two_columns(label, value, width)
    assert all(len(line) == width for line in lines)
    printed = "".join("".join(lines).split())
    assert printed == "".join(label.split()) + "".join(value.split())


def test_a_long_server_name_on_narrow_paper_goes_under_the_check_number_whole() -> None:
    # "Server " and a 22-letter name on a 32-column (58 mm) roll left the label two columns, and wrapping it failed
    lines = two_columns("Check 1042", "Server Christopher Richardson", 32)
    assert lines == ["Check 1042".ljust(32), "Server Christopher Richardson".rjust(32)]
