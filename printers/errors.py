"""Errors a transport raises, each saying whether sending the same bytes again is safe."""

from __future__ import annotations


class PrinterError(Exception):
    """A job did not print; `retryable` is True when nothing reached the printer."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class PrinterUnreachable(PrinterError):
    """No connection (refused, timed out, no device): nothing was sent, retry-safe."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class PrinterNotAnswering(PrinterUnreachable):
    """The printer took the connection but answered no status query (firmware hung): nothing was sent, retry-safe.

    A job is never sent to a printer that cannot confirm it, or it would count as printed with no one to read it.
    """


class PrinterPaperOut(PrinterError):
    """The printer reports paper end: nothing was sent, retry-safe once paper is loaded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class PrinterOffline(PrinterError):
    """The printer answers but is offline (cover open, error): nothing was sent, retry-safe."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class PrinterCoverOpen(PrinterOffline):
    """The printer answers that its cover is open: nothing was sent, retry-safe once it is closed."""


class AmbiguousDelivery(PrinterError):
    """The link broke mid-job: the bytes may or may not have printed, so NOT retry-safe.

    A ticket may be sent again only marked as a reprint; a drawer kick never.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)
