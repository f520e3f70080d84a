"""Talking to a printer for the print worker: a claimed job's bytes out, a status query in.

Both block on sockets and serial lines, so the worker runs them in a thread, outside any transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.kitchen.models import PrinterHealth
from printers.errors import PrinterError, PrinterUnreachable
from printers.status import PrinterStatus
from printers.transports import Transport

TransportFactory = Callable[[str], Transport]

_HEALTH = {
    PrinterStatus.OK: PrinterHealth.OK,
    PrinterStatus.PAPER_LOW: PrinterHealth.PAPER_LOW,
    PrinterStatus.PAPER_OUT: PrinterHealth.PAPER_OUT,
    PrinterStatus.COVER_OPEN: PrinterHealth.COVER_OPEN,
    PrinterStatus.OFFLINE: PrinterHealth.OFFLINE,
    # a transport says UNKNOWN only for a printer set up not to be asked; it took the connection
    PrinterStatus.UNKNOWN: PrinterHealth.OK,
}


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds, with what it needs to send it outside any transaction."""

    job_id: int
    uri: str
    data: bytes
    printer_id: int = 0
    # whether its printer may have more jobs due: recording the send then takes the next in the same transaction
    more: bool = True


@dataclass(frozen=True)
class Outcome:
    """How one send went."""

    error: PrinterError | None = None


def send_blocking(transport_factory: TransportFactory, uri: str, data: bytes) -> None:
    """Send a job's bytes; raises the PrinterError that says how it went wrong."""
    try:
        transport = transport_factory(uri)
    except ValueError as exc:
        raise PrinterUnreachable(f"printer address {uri!r} is not usable: {exc}") from exc
    transport.send(data)


def probe_blocking(transport_factory: TransportFactory, uri: str) -> tuple[PrinterHealth, str | None]:
    """Ask a printer how it is: its health and, when it could not be asked, why."""
    try:
        status = transport_factory(uri).status()
    except (PrinterError, ValueError) as exc:
        return PrinterHealth.UNREACHABLE, str(exc)
    return _HEALTH[status], None
