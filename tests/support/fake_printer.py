"""Fake ESC/POS printers for tests: a real TCP port-9100 server and a serial printer on a pty.

Both record every byte they receive and answer DLE EOT status queries the way a real
printer does, or stay silent. Use them as context managers so their threads and file
descriptors are always released.
"""

from __future__ import annotations

import enum
import os
import queue
import select
import selectors
import socket
import struct
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from printers.transports import NetworkTransport, SerialTransport


class PrinterState(enum.Enum):
    """What a fake printer answers to DLE EOT queries."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    COVER_OPEN = "cover_open"
    SILENT = "silent"


# Answer bytes per state and DLE EOT n, as an Epson TM printer sends them: a paper end
# also takes the printer offline, and DLE EOT 2 says why it is offline (bit 2 cover open,
# bit 5 stopped at paper end, bit 6 an error).
_ANSWERS: dict[PrinterState, dict[int, int]] = {
    PrinterState.OK: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    PrinterState.PAPER_LOW: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    PrinterState.PAPER_OUT: {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    PrinterState.OFFLINE: {1: 0x1A, 2: 0x52, 3: 0x12, 4: 0x12},
    PrinterState.COVER_OPEN: {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    PrinterState.SILENT: {},
}

_DLE_EOT = b"\x10\x04"


class _StatusQueries:
    """Finds DLE EOT n queries in a stream that arrives in arbitrary chunks."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[int]:
        buffer = self._tail + chunk
        found: list[int] = []
        start = 0
        while (index := buffer.find(_DLE_EOT, start)) != -1 and index + 2 < len(buffer):
            found.append(buffer[index + 2])
            start = index + 3
        if buffer.endswith(_DLE_EOT):
            self._tail = _DLE_EOT
        elif buffer.endswith(b"\x10"):
            self._tail = b"\x10"
        else:
            self._tail = b""
        return found


def answers_for(state: PrinterState, queries: list[int]) -> bytes:
    """The bytes a printer in this state sends back for these queries."""
    table = _ANSWERS[state]
    return bytes(table[query] for query in queries if query in table)


@dataclass
class FakeConnection:
    """One client connection and the chunks of bytes it sent."""

    chunks: list[bytes] = field(default_factory=list)
    closed: bool = False
    dropped: bool = False

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


class _Waitable:
    """Shared recording and waiting for both fakes."""

    def __init__(self) -> None:
        self._changed = threading.Condition()

    def _received(self) -> bytes:
        raise NotImplementedError

    @property
    def received(self) -> bytes:
        """Every byte received so far, in order."""
        with self._changed:
            return self._received()

    def wait_for_bytes(self, min_len: int, timeout: float = 2.0) -> bytes:
        """Wait until at least `min_len` bytes arrived; all bytes received so far."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received()) >= min_len, timeout):
                got = len(self._received())
                raise AssertionError(f"expected {min_len} bytes within {timeout}s, got {got}")
            return self._received()


class FakeNetworkPrinter(_Waitable):
    """A printer on 127.0.0.1 with a free port, served from one background thread."""

    host = "127.0.0.1"

    def __init__(
        self, state: PrinterState = PrinterState.OK, *, drop_after: int | None = None, hang_after: int | None = None
    ) -> None:
        super().__init__()
        self.state = state
        self.drop_after = drop_after
        # after this many bytes on a connection the printer stops reading it, its firmware hung mid-job
        self.hang_after = hang_after
        self._hung: set[socket.socket] = set()
        self.connections: list[FakeConnection] = []
        self.port = 0
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._clients: dict[socket.socket, tuple[FakeConnection, _StatusQueries]] = {}
        self._listener: socket.socket | None = None
        self._reading = True
        self._running = False
        self._thread = threading.Thread(target=self._serve, name="fake-network-printer", daemon=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        """The printer's address as the app configures it."""
        return f"tcp://{self.host}:{self.port}"

    def transport(self, **options: Any) -> NetworkTransport:
        """A transport to this printer with test-sized timeouts."""
        settings: dict[str, Any] = {"connect_timeout": 2.0, "io_timeout": 2.0, "status_timeout": 1.0}
        settings.update(options)
        return NetworkTransport(self.host, self.port, **settings)

    def _received(self) -> bytes:
        return b"".join(connection.data for connection in self.connections)

    def start(self) -> None:
        """Listen and serve in the background."""
        self._open_listener()
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self._running = True
        self._thread.start()

    def stop(self) -> None:
        """Close every socket and join the thread."""
        if self._running:
            self._call(self._shutdown)
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                raise AssertionError("fake network printer thread did not stop")
        for sock in list(self._clients):
            sock.close()
        self._clients.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def refuse_connections(self) -> None:
        """Close the listening socket: new connections are refused."""
        self._call(self._close_listener)

    def accept_connections(self) -> None:
        """Listen again on the same port."""
        self._call(self._open_listener)

    def stop_reading(self) -> None:
        """Stop reading from clients, as a jammed printer does; their writes back up."""
        self._call(lambda: self._set_reading(False))

    def resume_reading(self) -> None:
        """Read from clients again."""
        self._call(lambda: self._set_reading(True))

    def wait_for_connections(self, count: int, timeout: float = 2.0) -> list[FakeConnection]:
        """Wait until `count` clients connected and their connections are closed."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: len(self.connections) >= count and all(c.closed for c in self.connections),
                timeout,
            )
            if not done:
                raise AssertionError(f"expected {count} finished connections, got {self.connections}")
            return list(self.connections)

    def _call(self, command: Callable[[], None]) -> None:
        if not self._running:
            command()
            return
        finished = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                command()
            except BaseException as exc:
                failure.append(exc)
            finally:
                finished.set()

        self._commands.put(run)
        self._wake_writer.send(b"x")
        if not finished.wait(timeout=5):
            raise AssertionError("fake network printer did not respond")
        if failure:
            raise failure[0]

    def _open_listener(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # connections we closed sit in TIME_WAIT on this port; rebinding needs this
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "listener")

    def _close_listener(self) -> None:
        if self._listener is None:
            return
        self._selector.unregister(self._listener)
        self._listener.close()
        self._listener = None

    def _set_reading(self, reading: bool) -> None:
        if reading == self._reading:
            return
        self._reading = reading
        for sock in self._clients:
            if sock in self._hung:
                continue
            if reading:
                self._selector.register(sock, selectors.EVENT_READ, "client")
            else:
                self._selector.unregister(sock)

    def _shutdown(self) -> None:
        self._running = False

    def _serve(self) -> None:
        while self._running:
            for key, _ in self._selector.select(timeout=1.0):
                if key.data == "wake":
                    self._wake_reader.recv(64)
                    while not self._commands.empty():
                        self._commands.get()()
                elif key.data == "listener" and self._listener is not None:
                    self._accept()
                elif key.data == "client":
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock in self._clients:
                        self._read(sock)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        connection = FakeConnection()
        with self._changed:
            self.connections.append(connection)
            self._changed.notify_all()
        self._clients[sock] = (connection, _StatusQueries())
        if self._reading:
            self._selector.register(sock, selectors.EVENT_READ, "client")

    def _forget(self, sock: socket.socket, *, dropped: bool) -> None:
        connection, _ = self._clients.pop(sock)
        if self._reading and sock not in self._hung:
            self._selector.unregister(sock)
        self._hung.discard(sock)
        try:
            if dropped:
                # linger 0 resets the connection, as a printer losing power mid-job would
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            sock.close()
        with self._changed:
            connection.closed = True
            connection.dropped = dropped
            self._changed.notify_all()

    def _read(self, sock: socket.socket) -> None:
        connection, queries = self._clients[sock]
        limit = 65536
        if self.drop_after is not None:
            limit = max(self.drop_after - len(connection.data), 1)
        if self.hang_after is not None:
            limit = min(limit, max(self.hang_after - len(connection.data), 1))
        try:
            chunk = sock.recv(limit)
        except BlockingIOError:
            return
        except OSError:
            self._forget(sock, dropped=False)
            return
        if not chunk:
            self._forget(sock, dropped=False)
            return
        with self._changed:
            connection.chunks.append(chunk)
            self._changed.notify_all()
        if self.drop_after is not None and len(connection.data) >= self.drop_after:
            self._forget(sock, dropped=True)
            return
        answer = answers_for(self.state, queries.feed(chunk))
        if answer:
            try:
                sock.send(answer)
            except OSError:
                self._forget(sock, dropped=False)
                return
        if self.hang_after is not None and len(connection.data) >= self.hang_after and self._reading:
            self._selector.unregister(sock)
            self._hung.add(sock)


class FakeSerialPrinter(_Waitable):
    """A printer behind a pseudo-terminal: the app opens `device` like a real serial port."""

    def __init__(self, state: PrinterState = PrinterState.OK) -> None:
        super().__init__()
        self.state = state
        self.chunks: list[bytes] = []
        self._master, self._slave = os.openpty()
        # raw, so the line discipline neither echoes nor rewrites newlines
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._wake_reader, self._wake_writer = os.pipe()
        self._reading = True
        self._running = False
        self._queries = _StatusQueries()
        self._thread = threading.Thread(target=self._serve, name="fake-serial-printer", daemon=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        """The printer's address as the app configures it."""
        return f"serial://{self.device}"

    def transport(self, **options: Any) -> SerialTransport:
        """A transport to this printer with test-sized timeouts."""
        settings: dict[str, Any] = {"write_timeout": 2.0, "status_timeout": 1.0}
        settings.update(options)
        return SerialTransport(self.device, **settings)

    def _received(self) -> bytes:
        return b"".join(self.chunks)

    def start(self) -> None:
        """Read the pty in the background."""
        self._running = True
        self._thread.start()

    def stop(self) -> None:
        """Stop the reader thread and close both ends of the pty."""
        if self._running:
            self._running = False
            os.write(self._wake_writer, b"x")
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                raise AssertionError("fake serial printer thread did not stop")
        for fd in (self._master, self._slave, self._wake_reader, self._wake_writer):
            os.close(fd)

    def stop_reading(self) -> None:
        """Stop reading, as a printer holding flow control does; writes back up."""
        self._reading = False
        os.write(self._wake_writer, b"x")

    def resume_reading(self) -> None:
        """Read again."""
        self._reading = True
        os.write(self._wake_writer, b"x")

    def _serve(self) -> None:
        while self._running:
            watched = [self._wake_reader, self._master] if self._reading else [self._wake_reader]
            ready, _, _ = select.select(watched, [], [], 1.0)
            if self._wake_reader in ready:
                os.read(self._wake_reader, 64)
            if self._master in ready and self._reading:
                try:
                    chunk = os.read(self._master, 65536)
                except OSError:
                    # EIO: no process holds the slave open right now
                    time.sleep(0.01)
                    continue
                with self._changed:
                    self.chunks.append(chunk)
                    self._changed.notify_all()
                answer = answers_for(self.state, self._queries.feed(chunk))
                if answer:
                    os.write(self._master, answer)
