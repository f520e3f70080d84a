"""A fake ESC/POS network printer inside the benchmark's event loop: it answers status queries and
timestamps every job it receives, so a printed ticket can be matched to the fire that caused it."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"
# What an Epson TM printer answers to DLE EOT 1..4 when it is online with paper.
_OK_ANSWERS = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
_CHECK = re.compile(rb"Check (\d+)")
_REPRINT = b"REPRINT"


@dataclass
class PrintedJob:
    """One connection's worth of job bytes and when its last byte arrived."""

    data: bytes
    received_at: float
    check_number: int | None
    station: str | None
    reprint: bool


@dataclass
class _Connection:
    chunks: list[bytes] = field(default_factory=list)
    last_payload_at: float = 0.0
    tail: bytes = b""


class FakePrinter:
    """Listens on 127.0.0.1 (a free port); each TCP connection is one print job, as the app's transport sends it."""

    def __init__(self, name: str, stations: list[str]) -> None:
        self.name = name
        self.stations = stations
        self.jobs: list[PrintedJob] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._station = re.compile(rb"(" + b"|".join(re.escape(s.encode()) for s in stations) + rb") - ")
        self.changed = asyncio.Event()

    @property
    def uri(self) -> str:
        """The address the app's printer row points at."""
        return f"tcp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection()
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                now = time.perf_counter()
                payload, answers = self._split(connection, chunk)
                if payload:
                    connection.chunks.append(payload)
                    connection.last_payload_at = now
                if answers:
                    writer.write(answers)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
        if connection.chunks:
            self._record(b"".join(connection.chunks), connection.last_payload_at)

    @staticmethod
    def _split(connection: _Connection, chunk: bytes) -> tuple[bytes, bytes]:
        """The chunk without DLE EOT n status queries (which may straddle chunks), and the answers they get."""
        buffer = connection.tail + chunk
        connection.tail = b""
        payload = bytearray()
        answers = bytearray()
        index = 0
        while index < len(buffer):
            found = buffer.find(DLE_EOT, index)
            if found == -1:
                if buffer.endswith(b"\x10"):
                    payload += buffer[index:-1]
                    connection.tail = b"\x10"
                else:
                    payload += buffer[index:]
                break
            payload += buffer[index:found]
            if found + 2 >= len(buffer):
                connection.tail = buffer[found:]
                break
            query = buffer[found + 2]
            if query in _OK_ANSWERS:
                answers.append(_OK_ANSWERS[query])
            index = found + 3
        return bytes(payload), bytes(answers)

    def _record(self, data: bytes, received_at: float) -> None:
        check = _CHECK.search(data)
        station = self._station.search(data)
        self.jobs.append(
            PrintedJob(
                data=data,
                received_at=received_at,
                check_number=int(check.group(1)) if check else None,
                station=station.group(1).decode() if station else None,
                reprint=_REPRINT in data,
            )
        )
        self.changed.set()
