"""Printer status from ESC/POS real-time queries (DLE EOT n)."""

from __future__ import annotations

import enum
from typing import Protocol

DLE_EOT_PRINTER = b"\x10\x04\x01"
"""Ask for the printer status byte; bit 3 set means offline."""

DLE_EOT_PAPER = b"\x10\x04\x04"
"""Ask for the paper roll sensor byte; bits 2-3 near end, bits 5-6 paper end."""

# Status bytes always have bit 1 and bit 4 set and bits 0 and 7 clear; anything else is
# not an answer to our query (a stray byte, an automatic status message).
_FIXED_MASK = 0x93
_FIXED_BITS = 0x12
_OFFLINE = 0x08
_NEAR_END = 0x0C
_PAPER_END = 0x60


class PrinterStatus(enum.Enum):
    """What the printer says about itself; UNKNOWN when it does not answer."""

    OK = "ok"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    UNKNOWN = "unknown"


def is_status_byte(value: int) -> bool:
    """Whether a byte has the fixed bits every DLE EOT answer carries."""
    return value & _FIXED_MASK == _FIXED_BITS


def status_from_bytes(printer: int | None, paper: int | None) -> PrinterStatus:
    """Combine the answers to DLE EOT 1 and DLE EOT 4 (None when not answered)."""
    if printer is None or not is_status_byte(printer):
        return PrinterStatus.UNKNOWN
    if paper is not None and is_status_byte(paper):
        if paper & _PAPER_END:
            return PrinterStatus.PAPER_OUT
        if printer & _OFFLINE:
            return PrinterStatus.OFFLINE
        if paper & _NEAR_END:
            return PrinterStatus.PAPER_LOW
        return PrinterStatus.OK
    return PrinterStatus.OFFLINE if printer & _OFFLINE else PrinterStatus.OK


class StatusLink(Protocol):
    """An open connection to a printer that can ask one real-time question."""

    def ask(self, query: bytes) -> int | None:
        """Send a DLE EOT query; the answer byte, or None after a short wait."""
        ...


def query_status(link: StatusLink) -> PrinterStatus:
    """Ask the printer status, then the paper sensor; UNKNOWN if the printer stays silent."""
    printer = link.ask(DLE_EOT_PRINTER)
    if printer is None or not is_status_byte(printer):
        # a silent printer is not asked again: a late answer would be misread
        return PrinterStatus.UNKNOWN
    paper = link.ask(DLE_EOT_PAPER)
    return status_from_bytes(printer, paper)
