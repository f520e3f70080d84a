"""A print job being composed: a typed front for python-escpos's Dummy printer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from escpos.magicencode import Encoder
from escpos.printer import Dummy

from printers.profiles import PrinterProfile
from printers.text import clean_text, fit_code_page, two_columns, wrap

Size = Literal["normal", "tall", "wide", "large"]
Align = Literal["left", "center", "right"]

# Cancels Kanji/Chinese double-byte mode, which some clones power up in; without it
# every byte above 0x7F is read as half of a Chinese character.
_FS_CANCEL_KANJI = b"\x1c\x2e"


@dataclass(frozen=True)
class Style:
    """How the next characters look on paper."""

    size: Size = "normal"
    bold: bool = False
    align: Align = "left"
    invert: bool = False


class Page:
    """ESC/POS bytes for one job in one profile, with the code page forced once at the top."""

    # Every text argument is treated as user text and cleaned of control characters
    # before python-escpos sees it, so a note can never become a printer command.

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        encoder = Encoder({profile.code_page: profile.esc_t_number})
        self._printer: Any = Dummy(profile=profile.capability, magic_encode_args={"encoder": encoder})
        self._style = Style()
        self._printer.hw("INIT")
        if profile.cancel_kanji:
            self._printer._raw(_FS_CANCEL_KANJI)
        # after ESC @, which resets the printer to its power-on code page
        self._printer.charcode(profile.code_page)

    def width(self, size: Size = "normal") -> int:
        """Characters that fit on one line at this size."""
        if size in ("wide", "large"):
            return self.profile.wide_columns
        return self.profile.columns

    def _apply(self, style: Style) -> None:
        current = self._style
        if style.size != current.size:
            self._printer.set(
                normal_textsize=style.size == "normal",
                double_width=style.size in ("wide", "large"),
                double_height=style.size in ("tall", "large"),
            )
            # ESC ! clears emphasis along with the size, so bold must be sent again
            current = replace(current, size=style.size, bold=False)
        if style.bold != current.bold:
            self._printer.set(bold=style.bold)
        if style.align != current.align:
            self._printer.set(align=style.align)
        if style.invert != current.invert:
            self._printer.set(invert=style.invert)
        self._style = style

    def _fit(self, text: str, *, multiline: bool = False) -> str:
        return fit_code_page(clean_text(text, multiline=multiline), self.profile.codec)

    def _emit(self, line: str, style: Style) -> None:
        self._apply(style)
        # `_fit` made the text of the forced code page already: it is encoded here at once, where python-escpos's
        # encoder would build that page's character map again for every line.
        self._printer._raw((line + "\n").encode(self.profile.codec))

    def line(
        self,
        text: str = "",
        *,
        size: Size = "normal",
        bold: bool = False,
        align: Align = "left",
        invert: bool = False,
        indent: str = "",
        hanging: str | None = None,
    ) -> None:
        """Print user text, wrapped to the paper width at this size."""
        style = Style(size=size, bold=bold, align=align, invert=invert)
        fitted = self._fit(text, multiline=True)
        width = self.width(size)
        for piece in wrap(fitted, width, indent=indent, hanging=indent if hanging is None else hanging):
            self._emit(piece, style)

    def columns(self, left: str, right: str, *, size: Size = "normal", bold: bool = False) -> None:
        """Print a label on the left and a value flush right, padded to the paper width."""
        style = Style(size=size, bold=bold)
        for piece in two_columns(self._fit(left), self._fit(right), self.width(size)):
            self._emit(piece, style)

    def banner(self, text: str) -> None:
        """Print text large, bold and white on black, centred, with a margin of one space."""
        style = Style(size="large", bold=True, align="center", invert=True)
        for piece in wrap(self._fit(text), self.width("large") - 2):
            self._emit(f" {piece} ", style)

    def rule(self, char: str = "-") -> None:
        """Print a full-width separator."""
        self._emit(char * self.profile.columns, Style())

    def blank(self) -> None:
        """Print an empty line."""
        self._emit("", replace(self._style, invert=False))

    def qr(self, data: str, *, size: int = 6) -> None:
        """Print `data` as a QR code, centred, drawn by the printer itself (ESC/POS GS ( k)."""
        self._apply(Style(align="center"))
        self._printer.qr(clean_text(data), native=True, size=size)
        self._apply(Style())

    def drawer_kick(self) -> None:
        """Pulse the cash drawer connected to the profile's pin."""
        self._printer.cashdraw(self.profile.drawer_pin)

    def cut(self) -> None:
        """Feed past the tear bar and cut, after returning to plain text."""
        self._apply(Style())
        self._printer.cut(mode="PART" if self.profile.partial_cut else "FULL")

    def output(self) -> bytes:
        """The bytes composed so far."""
        data: bytes = self._printer.output
        return data
