"""What a benchmark run stands on: a fresh database, the channels backend, and real app processes on free ports."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DATABASE = "brigade_bench"
DELIVERY_POLL_SECONDS = 0.03
# how far below the delivery process the web processes run on the CPU, when a delivery process runs
WEB_NICENESS = 10


def brigade(env: dict[str, str], *args: str) -> str:
    """Run a `brigade` command (python -m app) with `env`; its output, or an error that shows it."""
    result = subprocess.run(
        [PYTHON, "-m", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"brigade {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


async def flush_redis_db(url: str) -> None:
    """Empty the one Redis database `url` names (never the others)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def recreate_postgres_database(admin_url: str, name: str) -> None:
    """Drop and create database `name` on the server of `admin_url` (a plain postgresql:// URL)."""
    import asyncpg  # type: ignore[import-untyped]

    await drop_postgres_database(admin_url, name)
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_postgres_database(admin_url: str, name: str) -> None:
    """Drop database `name` (after ending any connection still on it)."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()


@dataclass
class AppProcess:
    """One Brigade app process served by uvicorn on its own port."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class AppCluster:
    """The app processes of one run; `env` is every BRIGADE_* setting they share."""

    env: dict[str, str]
    folder: Path
    processes: list[AppProcess] = field(default_factory=list)
    delivery: list[AppProcess] = field(default_factory=list)

    def start(self, count: int, *, delivery_process: bool = False) -> None:
        """Start `count` processes, each on a free port, and wait until each answers /healthz.

        With `delivery_process`, the `count` processes serve requests only, and one more runs the outbox
        dispatcher and the print worker (polling often, since the others' commits cannot wake it), above them on
        the CPU.
        """
        for index in range(count + (1 if delivery_process else 0)):
            delivers = index == count
            env = dict(self.env)
            if delivery_process:
                env["BRIGADE_RUN_WORKERS"] = "true" if delivers else "false"
                # on a busy machine the kitchen's delivery goes before the pages (see BRIGADE_NICENESS)
                env["BRIGADE_NICENESS"] = "0" if delivers else str(WEB_NICENESS)
            if delivers:
                env["BRIGADE_OUTBOX_POLL_SECONDS"] = str(DELIVERY_POLL_SECONDS)
            port = free_port()
            log = self.folder / ("delivery.log" if delivers else f"app-{index + 1}.log")
            handle = log.open("ab")
            # The same server `brigade serve` runs (uvicorn with uvloop and httptools), without a line per request.
            argv = [
                PYTHON,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--no-proxy-headers",
            ]
            process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
            handle.close()
            app = AppProcess(port=port, log=log, process=process)
            (self.delivery if delivers else self.processes).append(app)
        for app in self.processes + self.delivery:
            self._wait_healthy(app)

    def _wait_healthy(self, app: AppProcess, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if app.process is not None and app.process.poll() is not None:
                raise RuntimeError(f"app process on port {app.port} exited:\n{app.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{app.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"app process on port {app.port} did not become healthy:\n{app.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Ask every process to shut down (SIGINT, as Ctrl-C), and kill any that does not within 15 s."""
        everyone = self.processes + self.delivery
        for app in everyone:
            if app.process is not None and app.process.poll() is None:
                app.process.send_signal(signal.SIGINT)
        for app in everyone:
            if app.process is None:
                continue
            try:
                app.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.process.kill()
                app.process.wait(timeout=10)
        self.processes.clear()
        self.delivery.clear()

    def errors(self) -> list[str]:
        """Tracebacks and errors the processes logged."""
        found: list[str] = []
        for app in self.processes + self.delivery:
            if app.log.exists():
                text = app.log.read_text(errors="replace")
                found.extend(line for line in text.splitlines() if "Traceback" in line or " ERROR " in line)
        return found


def bench_env(base: dict[str, str], **settings: str) -> dict[str, str]:
    """The environment for app processes and CLI commands: the caller's, minus any BRIGADE_*, plus `settings`."""
    env = {k: v for k, v in base.items() if not k.startswith("BRIGADE_")}
    env.update({f"BRIGADE_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env
