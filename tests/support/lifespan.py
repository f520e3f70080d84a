"""An app served in the test's own event loop, as one server process runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

BASE_URL = "http://testserver.local"
ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan (channels, outbox dispatcher, workers) and a client on it.

    The lifespan is entered and left in one task, as a server does: a fixture's setup and teardown run in
    different tasks.
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run())
    await asyncio.wait_for(started.wait(), timeout=10)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            yield client
    finally:
        stopping.set()
        await task


_FRESH_PROCESS = """
import asyncio, gc, json, os, sys
from sqlalchemy.ext.asyncio import create_async_engine
from app.lib.settings import Settings
from app.main import create_app
from app.models import metadata

url = f"sqlite+aiosqlite:///{{sys.argv[1]}}/brigade.db"


def settings(**overrides):
    return Settings(
        database_url=url, var_dir=sys.argv[1], secret_key="fresh-process-secret-key-0123456789", run_workers=False,
        **overrides,
    )


async def main() -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
{body}

asyncio.run(main())
"""


def run_in_fresh_process(folder: Path, body: str, *args: str, nice: int = 0) -> str:
    """`body`, the rest of an async `main` (indented by four spaces), run by a Python process of its own on a new
    SQLite database in `folder`: for what only a whole process shows (its priority, its heap). `settings(...)`
    builds the app's settings there, `sys.argv[2:]` are `args`; `nice` starts the process that much lower.
    Returns what it printed."""
    argv = [sys.executable, "-c", _FRESH_PROCESS.format(body=body), str(folder), *args]
    if nice:
        argv = ["nice", "-n", str(nice), *argv]
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIGADE_")}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
