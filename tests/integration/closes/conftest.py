"""Fixtures for the back office: no background workers (tests deliver the outbox when they mean to), a terminal."""

from __future__ import annotations

from typing import Any

import pytest

from app.checks.delivery import TERMINAL_KEY
from app.checks.terminal import SimulatedTerminal
from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The test's settings without background workers: tests drain the outbox themselves."""
    settings.run_workers = False
    return settings


@pytest.fixture
async def terminal(runtime: Any, settings: Settings) -> SimulatedTerminal:
    """The card terminal the app talks to."""
    simulated = SimulatedTerminal(settings.var_dir / "terminal-test")
    runtime.db.context[TERMINAL_KEY] = simulated
    return simulated


@pytest.fixture
async def live(app: Any) -> Any:
    """The app's lifespan (channels) in the test's own event loop, as one process runs it."""
    from tests.support.lifespan import serving

    async with serving(app) as client:
        yield client


@pytest.fixture(autouse=True)
async def running(live: Any) -> None:
    """Every back-office test runs with the app's lifespan, so live updates have open channels (and close them)."""


@pytest.fixture
async def cash_drawer(runtime: Any, demo: None) -> Any:
    """The house drawer, opened by the manager with a float before service: cash goes into it."""
    from sqlmodel import select

    from app.closes.drawers import open_drawer
    from app.staff.models import Staff

    async with runtime.db.write() as session:
        manager = (await session.exec(select(Staff).where(Staff.name == "Nora Vance"))).one()
        return await open_drawer(session, name="House", float_cents=10000, actor=manager)
