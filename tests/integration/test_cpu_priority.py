"""BRIGADE_NICENESS: a web process that leaves the kitchen's delivery to another runs below it on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SERVE_ONCE = """
import asyncio, os, sys
from sqlalchemy.ext.asyncio import create_async_engine
from app.lib.settings import Settings
from app.main import create_app
from app.models import metadata

url = f"sqlite+aiosqlite:///{sys.argv[1]}/brigade.db"

async def main() -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    before = os.getpriority(os.PRIO_PROCESS, 0)
    settings = Settings(
        database_url=url, var_dir=sys.argv[1], secret_key="priority-secret-key-0123456789",
        run_workers=False, niceness=int(sys.argv[2]),
    )
    app = create_app(settings)
    async with app.lifespan():
        print(before, os.getpriority(os.PRIO_PROCESS, 0))

asyncio.run(main())
"""


def _serve_once(tmp_path: Path, niceness: int, *, start_at: int = 0) -> tuple[int, int]:
    """The process's niceness before the app starts and while it serves."""
    argv = [sys.executable, "-c", _SERVE_ONCE, str(tmp_path), str(niceness)]
    if start_at:
        argv = ["nice", "-n", str(start_at), *argv]
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIGADE_")}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, serving = done.stdout.split()[-2:]
    return int(before), int(serving)


def test_a_web_process_takes_the_niceness_it_is_given(tmp_path: Path) -> None:
    assert _serve_once(tmp_path, 10) == (0, 10)


def test_by_default_a_process_keeps_its_priority(tmp_path: Path) -> None:
    assert _serve_once(tmp_path, 0) == (0, 0)


def test_a_process_started_lower_is_never_raised(tmp_path: Path) -> None:
    # Raising a priority takes privileges; a process an operator started lower stays where it was put.
    assert _serve_once(tmp_path, 5, start_at=12) == (12, 12)
