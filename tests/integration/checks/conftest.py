"""Fixtures for settling checks: the app running in the test's loop, and a terminal the test controls."""

from __future__ import annotations

from typing import Any

import pytest

from app.checks.delivery import TERMINAL_KEY
from app.checks.terminal import SimulatedTerminal
from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The test's settings without background workers: tests drain the outbox themselves, when they mean to."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def terminal(runtime: Any, settings: Any) -> SimulatedTerminal:
    """The card terminal the app talks to, scriptable: approve, decline or time out on demand."""
    simulated = SimulatedTerminal(settings.var_dir / "terminal-test")
    runtime.db.context[TERMINAL_KEY] = simulated
    return simulated


@pytest.fixture
async def cash_drawer(runtime: Any, demo: None) -> Any:
    """The house drawer, opened by the manager with a float before service: cash goes into it."""
    from sqlmodel import select

    from app.closes.drawers import open_drawer
    from app.staff.models import Staff

    async with runtime.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        return await open_drawer(session, name="House", float_cents=10000, actor=manager)
