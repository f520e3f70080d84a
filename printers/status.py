"""Printer status from ESC/POS real-time queries (DLE EOT n)."""

from __future__ import annotations

import enum
from typing import Protocol

DLE_EOT_PRINTER = b"\x10\x04\x01"
"""Ask for the printer status byte; bit 3 set means offline."""

DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
"""Ask why the printer is offline; bit 2 cover open, bit 5 stopped at paper end, bit 6 error."""

DLE_EOT_PAPER = b"\x10\x04\x04"
"""Ask for the paper roll sensor byte; bits 2-3 near end, bits 5-6 paper end."""

# Status bytes always have bit 1 and bit 4 set and bits 0 and 7 clear; anything else is
# not an answer to our query (a stray byte, an automatic status message).
_FIXED_MASK = 0x93
_FIXED_BITS = 0x12
_OFFLINE = 0x08
_COVER_OPEN = 0x04
_NEAR_END = 0x0C
_PAPER_END = 0x60


class PrinterStatus(enum.Enum):
    """What the printer says about itself; UNKNOWN when it does not answer."""

    OK = "ok"
    OFFLINE = "offline"
    COVER_OPEN = "cover_open"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    UNKNOWN = "unknown"


def is_status_byte(value: int) -> bool:
    """Whether a byte has the fixed bits every DLE EOT answer carries."""
    return value & _FIXED_MASK == _FIXED_BITS


def _answered(value: int | None) -> bool:
    return value is not None and is_status_byte(value)


def status_from_bytes(printer: int | None, paper: int | None, cause: int | None = None) -> PrinterStatus:
    """Combine the answers to DLE EOT 1, DLE EOT 4 and DLE EOT 2 (None when not answered).

    Paper end comes first: loading paper means opening the cover, and the paper is what a cook must fix.
    """
    if printer is None or not is_status_byte(printer):
        return PrinterStatus.UNKNOWN
    if paper is not None and is_status_byte(paper) and paper & _PAPER_END:
        return PrinterStatus.PAPER_OUT
    # A cover sensor may report through DLE EOT 2 only, so an open cover counts even without the offline bit.
    if cause is not None and is_status_byte(cause) and cause & _COVER_OPEN:
        return PrinterStatus.COVER_OPEN
    if printer & _OFFLINE:
        return PrinterStatus.OFFLINE
    if paper is not None and is_status_byte(paper) and paper & _NEAR_END:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK


class StatusLink(Protocol):
    """An open connection to a printer that can ask one real-time question."""

    def ask(self, query: bytes) -> int | None:
        """Send a DLE EOT query; the answer byte, or None after a short wait."""
        ...


def query_status(link: StatusLink) -> PrinterStatus:
    """Ask the printer status, why it is offline (cover open?), then the paper sensor.

    UNKNOWN if the printer stays silent: it is not asked again, since a late answer would be misread.
    """
    printer = link.ask(DLE_EOT_PRINTER)
    if not _answered(printer):
        return PrinterStatus.UNKNOWN
    cause = link.ask(DLE_EOT_OFFLINE_CAUSE)
    if not _answered(cause):
        # a printer that answers one query but not the next is not trusted with a job
        return PrinterStatus.UNKNOWN
    paper = link.ask(DLE_EOT_PAPER)
    if not _answered(paper):
        return PrinterStatus.UNKNOWN
    return status_from_bytes(printer, paper, cause)
