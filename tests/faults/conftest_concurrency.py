"""A real Brigade server (`python -m app serve`) on a free loopback port, and tablets that talk to it over HTTP.

SQLite runs one process, as the embedded install does; PostgreSQL runs two worker processes on a fresh
database of the shared server with Redis channels, as a chain does. Each served app has its own var/ folder
(print spool, terminal journal, logs), so a test can look at everything the app wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.devices import pin_login
from tests.support.servers import free_port
from tests.support.services import PostgresDatabase, postgres_url, redis_url, require_service

ROOT = Path(__file__).resolve().parents[2]
SECRET = "faults-secret-key-0123456789abcdef"


@dataclass
class ServedApp:
    """A running server: where it listens, its database and var/ folder, and the file its output goes to."""

    backend: str
    url: str
    var_dir: Path
    database_url: str
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    tablets: list[Tablet] = field(default_factory=list)

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def tablet(self, pin: str) -> Tablet:
        """A new device logged in with `pin`, with its own cookies."""
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so no request races its close.
        client = httpx.AsyncClient(base_url=self.url, timeout=30.0, limits=httpx.Limits(keepalive_expiry=2.0))
        tablet = Tablet(client, "")
        self.tablets.append(tablet)
        tablet.csrf = await pin_login(client, pin)
        return tablet

    async def close_tablets(self) -> None:
        """Put every device down."""
        for tablet in self.tablets:
            await tablet.client.aclose()
        self.tablets.clear()


@dataclass
class Tablet:
    """A device on the real server: a cookie jar and its CSRF token, as a browser sends them with htmx."""

    client: httpx.AsyncClient
    csrf: str

    async def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = True) -> httpx.Response:
        headers = {"x-csrftoken": self.csrf, **({"hx-request": "true"} if htmx else {})}
        return await self.client.post(url, data=data or {}, headers=headers)

    async def get(self, url: str, *, htmx: bool = False) -> httpx.Response:
        return await self.client.get(url, headers={"hx-request": "true"} if htmx else {})


def _migrate_and_load_demo(database_url: str, var_dir: Path) -> None:
    """`brigade db upgrade` and `brigade demo`, run in this process (the server's imports cost seconds each)."""
    from app.demo import load_demo
    from app.lib.migrate import upgrade
    from app.lib.settings import Settings
    from app.main import build_runtime

    upgrade(database_url)
    settings = Settings(database_url=database_url, var_dir=var_dir, secret_key=SECRET, pin_hash_profile="fast")

    async def load() -> None:
        runtime = build_runtime(settings)
        try:
            async with runtime.db.write() as session:
                await load_demo(session, settings)
        finally:
            await runtime.db.dispose()
            await runtime.channels.close_backend()

    asyncio.run(load())


def _wait_healthy(app: ServedApp, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{app.url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as refused:
            refused.close()  # still starting; the answer holds a socket
        except OSError:
            pass
        if app.process is not None and app.process.poll() is not None:
            raise RuntimeError(f"the server exited: {app.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer within {timeout} s: {app.log_text()[-3000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def served_app(backend: str, root: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[ServedApp]:
    """Migrate a fresh database, load the demo restaurant and serve it until the block ends.

    `postgres` creates a database of its own on the shared server (dropped afterwards) and serves it with two
    worker processes and Redis channels; `sqlite` serves a file in `root` with one process.
    """
    var_dir = root / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    database: PostgresDatabase | None = None
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIGADE_")}
    env.update(
        {
            "BRIGADE_VAR_DIR": str(var_dir),
            "BRIGADE_SECRET_KEY": SECRET,
            "BRIGADE_OUTBOX_POLL_SECONDS": "0.1",
            # PINs hashed with real argon2id at its cheap end: each approval with the manager's PIN checks one
            "BRIGADE_PIN_HASH_PROFILE": "fast",
            **(extra_env or {}),
        }
    )
    workers = "1"
    if backend == "postgres":
        require_service("PostgreSQL", postgres_url())
        require_service("Redis", redis_url())
        database = PostgresDatabase(postgres_url(), f"brigade_faults_{uuid.uuid4().hex[:12]}", with_tables=False)
        env["BRIGADE_DATABASE_URL"] = database.url
        env["BRIGADE_REDIS_URL"] = redis_url()
        workers = "2"
    else:
        env["BRIGADE_DATABASE_URL"] = f"sqlite+aiosqlite:///{var_dir / 'brigade.db'}"
    port = free_port()
    app = ServedApp(
        backend=backend,
        url=f"http://127.0.0.1:{port}",
        var_dir=var_dir,
        database_url=env["BRIGADE_DATABASE_URL"],
        log_path=root / "server.log",
        env=env,
    )
    try:
        _migrate_and_load_demo(app.database_url, var_dir)
        with app.log_path.open("wb") as log:
            app.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", workers],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_healthy(app)
        yield app
    finally:
        if app.process is not None:
            app.process.terminate()
            try:
                app.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.process.kill()
                app.process.wait(timeout=10)
        if database is not None:
            database.drop()
