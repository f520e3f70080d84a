"""Shutting down waits for the background tasks, within a bound: a stuck one cannot hold a restart up."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.main as app_main
from app.lib.settings import Settings
from tests.support.services import create_schema


class _Heard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


@pytest.fixture
def heard() -> Iterator[_Heard]:
    """What the app says in its log at WARNING and above (its logger keeps to its own handlers)."""
    handler = _Heard()
    logger = logging.getLogger("brigade")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def _app(tmp_path: Path) -> app_main.Litestar:
    url = f"sqlite+aiosqlite:///{tmp_path / 'brigade.db'}"
    await create_schema(url)
    settings = Settings(
        database_url=url, var_dir=tmp_path / "var", secret_key="shutdown-secret-key-0123456789", pin_hash_profile="fast"
    )
    return app_main.create_app(settings)


async def test_a_task_that_will_not_stop_is_left_behind_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, heard: _Heard
) -> None:
    monkeypatch.setattr(app_main, "STOP_WAIT_SECONDS", 0.5)
    app = await _app(tmp_path)
    stopped: list[str] = []

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)  # a send that will not be cut short

    async def prompt() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.append("prompt")

    async with app.lifespan():
        runtime = app.state.runtime
        workers = list(runtime.tasks)
        stuck = asyncio.create_task(stubborn(), name="stuck send")
        runtime.tasks += [stuck, asyncio.create_task(prompt(), name="prompt")]
        await asyncio.sleep(0.05)
        began = time.monotonic()
    took = time.monotonic() - began
    try:
        assert took < 5, f"shutting down waited {took:.1f} s for a task that would not stop"
        assert stopped == ["prompt"]
        assert all(task.done() for task in workers), "the app's own workers did not stop"
        assert not stuck.done()
        assert any("stuck send" in said for said in heard.said), heard.said
    finally:
        stuck.cancel()


async def test_a_task_that_failed_as_it_stopped_is_logged_and_the_rest_still_stop(
    tmp_path: Path, heard: _Heard
) -> None:
    app = await _app(tmp_path)

    async def failing() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("the printer's socket broke as it closed") from None

    async with app.lifespan():
        runtime = app.state.runtime
        runtime.tasks.insert(0, asyncio.create_task(failing(), name="failing"))
        workers = list(runtime.tasks)
        await asyncio.sleep(0.05)
    assert all(task.done() for task in workers)
    assert any("failing" in said for said in heard.said), heard.said
