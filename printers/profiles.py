"""Printer profiles: paper width, capabilities and the one code page a printer is driven in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from escpos.capabilities import CAPABILITIES


def _capability_profiles() -> dict[str, Any]:
    profiles: dict[str, Any] = CAPABILITIES["profiles"]
    return profiles


def _encodings() -> dict[str, Any]:
    encodings: dict[str, Any] = CAPABILITIES["encodings"]
    return encodings


@dataclass(frozen=True, kw_only=True)
class PrinterProfile:
    """How to drive one model of printer: capabilities, paper width and its one code page."""

    name: str = "default"
    # a python-escpos capability profile: "default", "TM-T88V", "TM-T20II", ...
    capability: str = "default"
    # characters per line in font A: 42 on most 80 mm printers, 48 on some, 32 on 58 mm
    columns: int = 42
    # forced once per job: python-escpos would otherwise switch code pages per character,
    # and printers disagree about what many of those pages contain
    code_page: str = "CP858"
    # the ESC t number from the printer's manual, for clones that number pages their own way
    code_page_number: int | None = None
    partial_cut: bool = True
    drawer_pin: Literal[2, 5] = 2
    cancel_kanji: bool = False

    def __post_init__(self) -> None:
        profiles = _capability_profiles()
        if self.capability not in profiles:
            raise ValueError(f"unknown python-escpos capability profile {self.capability!r}")
        if not 24 <= self.columns <= 80:
            raise ValueError(f"columns must be between 24 and 80, got {self.columns}")
        if self.code_page != self.code_page.upper():
            object.__setattr__(self, "code_page", self.code_page.upper())
        encoding = _encodings().get(self.code_page)
        if encoding is None or "python_encode" not in encoding:
            raise ValueError(f"code page {self.code_page!r} has no known text encoding")
        if self.code_page_number is None:
            pages: dict[str, str] = profiles[self.capability]["codePages"]
            numbers = {page: int(number) for number, page in pages.items()}
            if self.code_page not in numbers:
                raise ValueError(
                    f"capability profile {self.capability!r} has no code page "
                    f"{self.code_page!r}; set code_page_number from the printer's manual"
                )
            object.__setattr__(self, "code_page_number", numbers[self.code_page])
        elif not 0 <= self.code_page_number <= 255:
            raise ValueError("code_page_number must fit in one byte")
        if self.drawer_pin not in (2, 5):
            raise ValueError("drawer_pin must be 2 or 5")

    @property
    def esc_t_number(self) -> int:
        """The `n` of the `ESC t n` command that selects the forced code page."""
        assert self.code_page_number is not None
        return self.code_page_number

    @property
    def codec(self) -> str:
        """The Python codec that encodes text for the forced code page."""
        codec: str = _encodings()[self.code_page]["python_encode"]
        return codec

    @property
    def wide_columns(self) -> int:
        """Characters per line in double-width text."""
        return self.columns // 2


DEFAULT_PROFILE = PrinterProfile()
"""An 80 mm printer with 42 columns in font A, driven in CP858 (which has the euro sign)."""
