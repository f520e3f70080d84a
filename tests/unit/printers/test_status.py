from __future__ import annotations

import pytest

from printers.errors import (
    AmbiguousDelivery,
    PrinterCoverOpen,
    PrinterNotAnswering,
    PrinterOffline,
    PrinterPaperOut,
    PrinterUnreachable,
)
from printers.status import PrinterStatus, query_status, status_from_bytes


@pytest.mark.parametrize(
    ("printer", "paper", "status"),
    [
        (0x12, 0x12, PrinterStatus.OK),
        (0x16, 0x12, PrinterStatus.OK),
        (0x12, 0x1E, PrinterStatus.PAPER_LOW),
        (0x1A, 0x7E, PrinterStatus.PAPER_OUT),
        (0x1A, 0x72, PrinterStatus.PAPER_OUT),
        (0x1A, 0x12, PrinterStatus.OFFLINE),
        (0x1A, None, PrinterStatus.OFFLINE),
        (0x12, None, PrinterStatus.OK),
        (None, None, PrinterStatus.UNKNOWN),
        (0x00, 0x12, PrinterStatus.UNKNOWN),
        (0xFF, 0x12, PrinterStatus.UNKNOWN),
        (0x12, 0x01, PrinterStatus.OK),
    ],
)
def test_status_bytes_say_how_the_printer_is(printer: int | None, paper: int | None, status: PrinterStatus) -> None:
    assert status_from_bytes(printer, paper) is status


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "status"),
    [
        (0x1A, 0x16, 0x12, PrinterStatus.COVER_OPEN),
        (0x12, 0x16, 0x12, PrinterStatus.COVER_OPEN),
        (0x1A, 0x52, 0x12, PrinterStatus.OFFLINE),
        (0x1A, 0x32, 0x7E, PrinterStatus.PAPER_OUT),
        (0x1A, 0x36, 0x7E, PrinterStatus.PAPER_OUT),
        (0x12, 0x12, 0x1E, PrinterStatus.PAPER_LOW),
        (0x12, 0x12, 0x12, PrinterStatus.OK),
        (0x12, 0x05, 0x12, PrinterStatus.OK),
    ],
)
def test_the_offline_cause_says_when_the_cover_is_open(
    printer: int, cause: int, paper: int, status: PrinterStatus
) -> None:
    assert status_from_bytes(printer, paper, cause) is status


class ScriptedPrinter:
    def __init__(self, answers: dict[bytes, int | None]) -> None:
        self.answers = answers
        self.asked: list[bytes] = []

    def ask(self, query: bytes) -> int | None:
        self.asked.append(query)
        return self.answers.get(query)


def test_silent_printer_is_asked_once_and_its_status_is_unknown() -> None:
    silent = ScriptedPrinter({})

    assert query_status(silent) is PrinterStatus.UNKNOWN
    assert silent.asked == [b"\x10\x04\x01"]


def test_printer_status_is_asked_then_the_offline_cause_then_the_paper_sensor() -> None:
    printer = ScriptedPrinter({b"\x10\x04\x01": 0x1A, b"\x10\x04\x02": 0x32, b"\x10\x04\x04": 0x7E})

    assert query_status(printer) is PrinterStatus.PAPER_OUT
    assert printer.asked == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]


def test_an_open_cover_is_asked_for_and_reported() -> None:
    printer = ScriptedPrinter({b"\x10\x04\x01": 0x1A, b"\x10\x04\x02": 0x16, b"\x10\x04\x04": 0x12})

    assert query_status(printer) is PrinterStatus.COVER_OPEN


def test_a_printer_that_falls_silent_midway_is_unknown() -> None:
    printer = ScriptedPrinter({b"\x10\x04\x01": 0x12})

    assert query_status(printer) is PrinterStatus.UNKNOWN
    assert printer.asked == [b"\x10\x04\x01", b"\x10\x04\x02"]


def test_only_ambiguous_delivery_is_unsafe_to_retry() -> None:
    assert PrinterUnreachable("x").retryable
    assert PrinterPaperOut("x").retryable
    assert PrinterOffline("x").retryable
    assert PrinterCoverOpen("x").retryable
    assert PrinterNotAnswering("x").retryable
    assert not AmbiguousDelivery("x").retryable
