"""Private Redis and PostgreSQL servers on free loopback ports, for the tests and the benchmarks that stop and
start them (`bench/` uses this module too).

The machine's shared services (PostgreSQL on 5432, Redis on 6379) are never touched here. Nothing here needs
pytest: a server program that is not installed raises `ServiceMissing`, which a test turns into a skip, or a
failure under CI, with `tests.support.services.own_server`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ServiceMissing(RuntimeError):
    """A server program is not installed on this machine."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something accepts connections on loopback `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def _binary(name: str, *candidates: str) -> str:
    for candidate in (shutil.which(name), *candidates):
        if candidate and Path(candidate).exists():
            return candidate
    raise ServiceMissing(f"{name} is not installed")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class RedisServer:
    """A redis-server of its own with nothing kept on disk; `stop()` and `start()` keep the same port.

    Pub/sub channel names are global to a Redis server whatever the db number, so anything that publishes kitchen
    cards (a benchmark, a test of two processes) runs on one of these rather than on the machine's Redis.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.binary = _binary("redis-server", "/usr/bin/redis-server")
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start (or start again on the same port) and wait until it answers PING."""
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self.folder is not None:
            argv += ["--dir", str(self.folder)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer on port {self.port} within {timeout} s")
            time.sleep(0.05)

    def stop(self, *, graceful: bool = False) -> None:
        """Kill it, as a crash or a restart would; `graceful` asks it to shut down first."""
        if self.process is None:
            return
        if graceful:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class PostgresServer:
    """A PostgreSQL cluster initialised into a temporary folder, run as the postgres user when we are root."""

    def __init__(self) -> None:
        bindir = Path("/usr/lib/postgresql")
        versions = sorted(bindir.glob("*/bin")) if bindir.exists() else []
        extra = [str(v / "initdb") for v in versions]
        self.initdb = _binary("initdb", *extra)
        self.bindir = Path(self.initdb).resolve().parent
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="brigade-pg-"))
        self.data = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _command(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self._as_postgres else argv

    def _run(self, argv: list[str]) -> None:
        subprocess.run(self._command(argv), check=True, capture_output=True)

    def start(self) -> None:
        argv = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.root),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=100",
        ]
        with (self.root / "server.log").open("ab") as log:
            self.process = subprocess.Popen(self._command(argv), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: {(self.root / 'server.log').read_text()[-2000:]}") from None
        time.sleep(0.2)

    def stop(self, *, fast: bool = True) -> None:
        """Kill -9 the postmaster (a crash) or ask it to shut down; either way wait until it is gone."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if fast else signal.SIGINT)
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            # Backends of a killed postmaster notice and exit on their own; wait for the port to free.
            subprocess.run(["pkill", "-9", "-f", "--", f"-D {self.data}"], check=False)
        if self.process is not None:
            self.process.wait(timeout=30)
            self.process = None
        time.sleep(0.2)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
