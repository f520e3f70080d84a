"""Transports that carry ESC/POS bytes to a printer: network (port 9100), serial and file.

Every call blocks for at most its timeouts; callers run them in a worker thread, never on
the event loop. Retry safety by error:

- PrinterUnreachable, PrinterNotAnswering, PrinterPaperOut, PrinterOffline, PrinterCoverOpen:
  nothing was sent; retry-safe.
- AmbiguousDelivery: some bytes may have printed; resend a ticket only as a reprint and
  never resend a drawer kick.

With `check_status` on (the default) a job counts as sent only when the printer has confirmed it:
it answers the status queries before the job (or gets nothing), and the one after it, which it
can only read once it has read the whole job. With `check_status` off (a printer wired to listen
only) the job counts as sent once the bytes are written.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import serial

from printers.errors import (
    AmbiguousDelivery,
    PrinterCoverOpen,
    PrinterNotAnswering,
    PrinterOffline,
    PrinterPaperOut,
    PrinterUnreachable,
)
from printers.status import DLE_EOT_PRINTER, PrinterStatus, StatusLink, query_status


class Transport(Protocol):
    """Something that delivers a job's bytes to one printer and asks how it is."""

    def send(self, data: bytes) -> None:
        """Deliver the whole job or raise a PrinterError saying whether retry is safe."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer; PrinterUnreachable if absent or silent, UNKNOWN if it is not to be asked."""
        ...


def _refuse_to_print(status: PrinterStatus, where: str) -> None:
    if status is PrinterStatus.PAPER_OUT:
        raise PrinterPaperOut(f"printer {where} is out of paper")
    if status is PrinterStatus.COVER_OPEN:
        raise PrinterCoverOpen(f"printer {where} has its cover open")
    if status is PrinterStatus.OFFLINE:
        raise PrinterOffline(f"printer {where} is offline (error or paper feed)")


def _answered_status(link: StatusLink, where: str, wait: float) -> PrinterStatus:
    """The printer's status; PrinterNotAnswering when it takes the bytes but says nothing."""
    status = query_status(link)
    if status is PrinterStatus.UNKNOWN:
        raise PrinterNotAnswering(
            f"printer {where} took the connection but answered no status query within {wait:g} s "
            "(hung, or switched off mid-way); nothing was sent"
        )
    return status


def _confirm(link: StatusLink, where: str, wait: float) -> None:
    """Have the printer answer one status query sent after the job; it can only read it after the whole job."""
    try:
        answer = link.ask(DLE_EOT_PRINTER)
    except OSError as exc:
        raise AmbiguousDelivery(
            f"printer {where} dropped the connection before confirming the job; it may or may not have printed: {exc}"
        ) from exc
    if answer is None:
        raise AmbiguousDelivery(
            f"printer {where} did not confirm the job within {wait:g} s; it may or may not have printed"
        )


class _SocketLink:
    """A connected socket that can ask a real-time status question."""

    def __init__(self, sock: socket.socket, send_timeout: float) -> None:
        self.sock = sock
        self.send_timeout = send_timeout
        self.answer_timeout = send_timeout

    def ask(self, query: bytes) -> int | None:
        self.sock.settimeout(self.send_timeout)
        self.sock.sendall(query)
        self.sock.settimeout(self.answer_timeout)
        try:
            answer = self.sock.recv(1)
        except TimeoutError:
            return None
        if not answer:
            raise ConnectionResetError("printer closed the connection")
        return answer[0]


class NetworkTransport:
    """A printer on a raw TCP port (JetDirect, usually 9100)."""

    # python-escpos's Network waits 60 s; a worker must hear about a dead printer sooner.
    # connect_timeout bounds the connect, io_timeout the whole write, status_timeout each
    # wait for a DLE EOT answer.

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 3.0,
        io_timeout: float = 5.0,
        status_timeout: float = 0.5,
        check_status: bool = True,
    ) -> None:
        if not host:
            raise ValueError("a network printer needs a host")
        if not 0 < port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.status_timeout = status_timeout
        self.check_status = check_status

    def __repr__(self) -> str:
        return f"NetworkTransport({self.host!r}, {self.port})"

    @property
    def where(self) -> str:
        """The printer's address, for messages."""
        return f"{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise PrinterUnreachable(f"cannot connect to printer {self.where}: {exc}") from exc
        # The status query after a job is a few bytes behind unacknowledged ones: with Nagle's algorithm it
        # would wait for the printer's delayed ACK (40 ms on Linux) before it even left.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _link(self, sock: socket.socket) -> _SocketLink:
        link = _SocketLink(sock, self.io_timeout)
        link.answer_timeout = self.status_timeout
        return link

    def status(self) -> PrinterStatus:
        """Ask the printer over a fresh connection (UNKNOWN, once connected, when status checks are off)."""
        with self._connect() as sock:
            if not self.check_status:
                return PrinterStatus.UNKNOWN
            try:
                return _answered_status(self._link(sock), self.where, self.status_timeout)
            except OSError as exc:
                raise PrinterUnreachable(f"printer {self.where} dropped the connection: {exc}") from exc

    def send(self, data: bytes) -> None:
        """Check status (if enabled), write every byte, then have the printer confirm."""
        with self._connect() as sock:
            link = self._link(sock)
            if self.check_status:
                try:
                    status = _answered_status(link, self.where, self.status_timeout)
                except OSError as exc:
                    raise PrinterUnreachable(f"printer {self.where} dropped the connection: {exc}") from exc
                _refuse_to_print(status, self.where)
            self._write(sock, data)
            if self.check_status:
                # TCP is in order: an answer to a query sent after the job proves the
                # printer received the whole job
                link.answer_timeout = self.io_timeout
                _confirm(link, self.where, self.io_timeout)

    def _write(self, sock: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        sent = 0
        deadline = time.monotonic() + self.io_timeout
        try:
            while sent < len(view):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("write timed out")
                sock.settimeout(remaining)
                sent += sock.send(view[sent:])
        except OSError as exc:
            if sent == 0:
                raise PrinterUnreachable(f"printer {self.where} took no data: {exc}") from exc
            raise AmbiguousDelivery(
                f"connection to printer {self.where} broke after {sent} of {len(data)} "
                f"bytes; the job may or may not have printed: {exc}"
            ) from exc


class _SerialLink:
    """An open serial port that can ask a real-time status question."""

    def __init__(self, port: serial.Serial, answer_timeout: float) -> None:
        self.port = port
        self.answer_timeout = answer_timeout

    def ask(self, query: bytes) -> int | None:
        self.port.write(query)
        self.port.timeout = self.answer_timeout
        answer = self.port.read(1)
        return answer[0] if answer else None


class SerialTransport:
    """A printer on a serial port (RS-232 or USB-serial)."""

    # write_timeout bounds every write: with hardware or XON/XOFF flow control a printer
    # that stops accepting data would otherwise block the worker forever.

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        *,
        write_timeout: float = 5.0,
        status_timeout: float = 0.5,
        check_status: bool = True,
        rtscts: bool = False,
        dsrdtr: bool = False,
        xonxoff: bool = False,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
    ) -> None:
        if not device:
            raise ValueError("a serial printer needs a device path")
        if baudrate <= 0:
            raise ValueError(f"baudrate must be positive, got {baudrate}")
        if bytesize not in (5, 6, 7, 8):
            raise ValueError(f"bytesize must be 5 to 8, got {bytesize}")
        if parity not in ("N", "E", "O", "M", "S"):
            raise ValueError(f"parity must be one of N, E, O, M, S, got {parity!r}")
        if stopbits not in (1, 1.5, 2):
            raise ValueError(f"stopbits must be 1, 1.5 or 2, got {stopbits}")
        self.device = device
        self.baudrate = baudrate
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout
        self.check_status = check_status
        self.rtscts = rtscts
        self.dsrdtr = dsrdtr
        self.xonxoff = xonxoff
        self.bytesize = bytesize
        self.parity = parity
        self.stopbits = stopbits

    def __repr__(self) -> str:
        return f"SerialTransport({self.device!r}, {self.baudrate})"

    def _open(self) -> serial.Serial:
        try:
            return serial.Serial(
                port=self.device,
                baudrate=self.baudrate,
                bytesize=self.bytesize,
                parity=self.parity,
                stopbits=self.stopbits,
                timeout=self.status_timeout,
                write_timeout=self.write_timeout,
                rtscts=self.rtscts,
                dsrdtr=self.dsrdtr,
                xonxoff=self.xonxoff,
                # two workers interleaving bytes on one port would garble both jobs
                exclusive=True,
            )
        except (OSError, ValueError) as exc:
            raise PrinterUnreachable(f"cannot open printer {self.device}: {exc}") from exc

    def _status(self, port: serial.Serial) -> PrinterStatus:
        # bytes left from power-up or an earlier job would be taken for our answer
        port.reset_input_buffer()
        return _answered_status(_SerialLink(port, self.status_timeout), self.device, self.status_timeout)

    def status(self) -> PrinterStatus:
        """Ask the printer over the port (UNKNOWN, once opened, when status checks are off)."""
        with self._open() as port:
            if not self.check_status:
                return PrinterStatus.UNKNOWN
            try:
                return self._status(port)
            except OSError as exc:
                raise PrinterUnreachable(f"printer {self.device} failed: {exc}") from exc

    def send(self, data: bytes) -> None:
        """Check status (if enabled), write every byte, then have the printer confirm."""
        with self._open() as port:
            if self.check_status:
                try:
                    status = self._status(port)
                except OSError as exc:
                    raise PrinterUnreachable(f"printer {self.device} failed: {exc}") from exc
                _refuse_to_print(status, self.device)
            try:
                port.write(data)
            except OSError as exc:
                # pyserial cannot say how many bytes left before the failure
                raise AmbiguousDelivery(
                    f"writing to printer {self.device} failed; the job may or may not have printed: {exc}"
                ) from exc
            if self.check_status:
                # the answer comes only after every byte before it has crossed the wire
                wait = self.status_timeout + len(data) * 10 / self.baudrate
                _confirm(_SerialLink(port, wait), self.device, wait)


class FileTransport:
    """A file that jobs are appended to, for development and for device files."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileTransport({str(self.path)!r})"

    def send(self, data: bytes) -> None:
        """Append the job to the file."""
        try:
            with self.path.open("ab") as spool:
                spool.write(data)
        except OSError as exc:
            raise PrinterUnreachable(f"cannot write to {self.path}: {exc}") from exc

    def status(self) -> PrinterStatus:
        """OK when the file (or its directory, before the first job) is writable."""
        target = self.path if self.path.exists() else self.path.parent
        if not os.access(target, os.W_OK):
            raise PrinterUnreachable(f"cannot write to {self.path}")
        return PrinterStatus.OK


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _number(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not number > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def _options(query: str, allowed: set[str], uri: str) -> dict[str, str]:
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"malformed options in printer uri {uri!r}") from None
    for key, value in pairs:
        if key not in allowed:
            raise ValueError(
                f"unknown option {key!r} in printer uri {uri!r}; expected one of {', '.join(sorted(allowed))}"
            )
        options[key] = value
    return options


def transport_from_uri(uri: str) -> Transport:
    """A transport for `tcp://host:9100`, `serial:///dev/ttyUSB0?baudrate=19200` or `file:///path`.

    tcp options: connect_timeout, io_timeout, status_timeout, check_status.
    serial options: baudrate, write_timeout, status_timeout, check_status, rtscts,
    dsrdtr, xonxoff, bytesize, parity, stopbits.
    """
    parts = urlsplit(uri.strip())
    scheme = parts.scheme.lower()
    if scheme == "tcp":
        options = _options(
            parts.query,
            {"connect_timeout", "io_timeout", "status_timeout", "check_status"},
            uri,
        )
        if parts.path not in ("", "/"):
            raise ValueError(f"tcp printer uri {uri!r} must not have a path")
        try:
            host = parts.hostname
            port = parts.port
        except ValueError:
            raise ValueError(f"bad port in printer uri {uri!r}") from None
        if not host:
            raise ValueError(f"printer uri {uri!r} has no host")
        return NetworkTransport(
            host,
            9100 if port is None else port,
            connect_timeout=_number(options.get("connect_timeout", "3"), "connect_timeout"),
            io_timeout=_number(options.get("io_timeout", "5"), "io_timeout"),
            status_timeout=_number(options.get("status_timeout", "0.5"), "status_timeout"),
            check_status=_flag(options.get("check_status", "true"), "check_status"),
        )
    if scheme == "serial":
        options = _options(
            parts.query,
            {
                "baudrate",
                "write_timeout",
                "status_timeout",
                "check_status",
                "rtscts",
                "dsrdtr",
                "xonxoff",
                "bytesize",
                "parity",
                "stopbits",
            },
            uri,
        )
        if parts.netloc:
            raise ValueError(f"serial printer uri {uri!r} must look like serial:///dev/ttyUSB0")
        if not parts.path or parts.path == "/":
            raise ValueError(f"printer uri {uri!r} has no device path")
        return SerialTransport(
            unquote(parts.path),
            _integer(options.get("baudrate", "9600"), "baudrate"),
            write_timeout=_number(options.get("write_timeout", "5"), "write_timeout"),
            status_timeout=_number(options.get("status_timeout", "0.5"), "status_timeout"),
            check_status=_flag(options.get("check_status", "true"), "check_status"),
            rtscts=_flag(options.get("rtscts", "false"), "rtscts"),
            dsrdtr=_flag(options.get("dsrdtr", "false"), "dsrdtr"),
            xonxoff=_flag(options.get("xonxoff", "false"), "xonxoff"),
            bytesize=_integer(options.get("bytesize", "8"), "bytesize"),
            parity=options.get("parity", "N").upper(),
            stopbits=_number(options.get("stopbits", "1"), "stopbits"),
        )
    if scheme == "file":
        if parts.query:
            raise ValueError(f"file printer uri {uri!r} takes no options")
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file printer uri {uri!r} must look like file:///path/to/spool.bin")
        if not parts.path or parts.path.endswith("/"):
            raise ValueError(f"printer uri {uri!r} has no file name")
        return FileTransport(unquote(parts.path))
    raise ValueError(
        f"unsupported printer uri {uri!r}; use tcp://host:9100, "
        "serial:///dev/ttyUSB0?baudrate=19200 or file:///path/to/spool.bin"
    )
