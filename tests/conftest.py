"""Fixtures: settings and databases per backend, the demo restaurant, personas logged in on their own devices."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from app.lib.settings import Settings
from app.main import create_app
from tests.support.devices import enrol
from tests.support.lifespan import serving
from tests.support.reuse import collect_garbage_less_often, share_compiled_templates
from tests.support.servers import RedisServer
from tests.support.services import (
    DemoSnapshots,
    PostgresDatabase,
    SqliteTemplate,
    flush_redis,
    own_server,
    postgres_url,
    redis_url,
    require_service,
)


def pytest_collection_finish(session: pytest.Session) -> None:
    collect_garbage_less_often()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["sqlite", "postgres"],
        default=os.environ.get("BRIGADE_TEST_BACKEND", "sqlite"),
        help="sqlite: embedded, in-process channels; postgres: PostgreSQL + Redis channels",
    )


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """Which deployment the integration tests run against."""
    return str(request.config.getoption("--backend"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def demo_snapshots() -> DemoSnapshots:
    return DemoSnapshots()


@pytest.fixture(scope="session")
def postgres_database(backend: str) -> Iterator[PostgresDatabase | None]:
    if backend != "postgres":
        yield None
        return
    require_service("PostgreSQL", postgres_url())
    require_service("Redis", redis_url())
    database = PostgresDatabase(postgres_url(), f"brigade_test_{os.getpid()}")
    yield database
    database.drop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of the test's own, which it may stop and start (the shared one serves the other tests)."""
    server = own_server(lambda: RedisServer(tmp_path))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def settings(
    backend: str,
    tmp_path: Path,
    sqlite_template: SqliteTemplate,
    postgres_database: PostgresDatabase | None,
) -> Settings:
    """Settings for one test: its own empty, migrated database and var/ folder."""
    common: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "secret_key": "test-secret-key-0123456789abcdef",
        "outbox_poll_seconds": 0.05,
        # PINs hashed with real argon2id at its cheap end: the strong default costs about a second per PIN here
        "pin_hash_profile": "fast",
    }
    if backend == "postgres":
        assert postgres_database is not None
        await postgres_database.empty()
        await flush_redis(redis_url())
        return Settings(database_url=postgres_database.url, redis_url=redis_url(), **common)
    return Settings(database_url=sqlite_template.fresh(tmp_path / "brigade.db"), **common)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    application = create_app(settings)
    share_compiled_templates(application)
    yield application
    # A test that publishes without running the lifespan still opened Redis connections; close them here.
    await application.state.runtime.channels.close_backend()
    await application.state.runtime.db.dispose()


@pytest.fixture
async def runtime(app: Litestar) -> Any:
    """The app's database, bus and dispatcher (for arranging data and reading results)."""
    return app.state.runtime


@pytest.fixture
async def demo(runtime: Any, settings: Settings, demo_snapshots: DemoSnapshots) -> None:
    """The demo restaurant, loaded through the same code as `brigade demo` (once, then copied: see DemoSnapshots)."""
    await demo_snapshots.load(runtime.db, settings)


CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Device:
    """A tablet or screen: its own cookie jar, logged in as one person."""

    client: httpx.AsyncClient
    csrf: str

    async def post(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = True, **kwargs: Any) -> Any:
        headers = {"x-csrftoken": self.csrf, **({"hx-request": "true"} if htmx else {}), **kwargs.pop("headers", {})}
        return await self.client.post(url, data=data or {}, headers=headers, **kwargs)

    async def get(self, url: str, *, htmx: bool = False, **kwargs: Any) -> Any:
        headers = {**({"hx-request": "true"} if htmx else {}), **kwargs.pop("headers", {})}
        return await self.client.get(url, headers=headers, **kwargs)


@pytest.fixture
async def live(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan (channels, outbox dispatcher, workers) in the test's own event loop, as a server runs it.

    Devices talk to the app in this loop too, so background work, channels and requests share one loop.
    """
    async with serving(app) as client:
        yield client


@pytest.fixture
async def device_factory(app: Litestar, live: Any) -> AsyncIterator[Any]:
    """Open devices (tablets, screens) on the running app; each has its own cookies and its own LAN address.

    A device is enrolled with the demo manager's PIN as it opens, unless `enrolled=False` (a stranger's browser).
    """
    opened: list[httpx.AsyncClient] = []

    async def open_device(*, enrolled: bool = True, address: str | None = None, name: str = "Tablet") -> Device:
        client_address = (address or f"10.0.{len(opened) // 250}.{len(opened) % 250 + 2}", 50000)
        transport = httpx.ASGITransport(app=app, client=client_address)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
        opened.append(client)
        if enrolled:
            return Device(client, await enrol(client, name=name))
        page = await client.get("/login")
        assert page.status_code == 200
        match = CSRF_INPUT.search(page.text)
        assert match, "login page has no CSRF field"
        return Device(client, match.group(1))

    yield open_device
    for client in opened:
        await client.aclose()


async def log_in(device: Device, pin: str) -> Device:
    """Enter `pin` on `device`; the device is then logged in."""
    response = await device.client.post("/login", data={"pin": pin, "_csrf_token": device.csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return device


@pytest.fixture
async def server(device_factory: Any, demo: None) -> Device:
    """Lena, a server, logged in on her tablet (PIN 1111)."""
    return await log_in(await device_factory(), "1111")


@pytest.fixture
async def second_server(device_factory: Any, demo: None) -> Device:
    """Milo, another server, on another tablet (PIN 4444)."""
    return await log_in(await device_factory(), "4444")


@pytest.fixture
async def bartender(device_factory: Any, demo: None) -> Device:
    """Theo, the bartender (PIN 2222)."""
    return await log_in(await device_factory(), "2222")


@pytest.fixture
async def cook(device_factory: Any, demo: None) -> Device:
    """Ravi, a cook, at a kitchen screen (PIN 3333)."""
    return await log_in(await device_factory(), "3333")


@pytest.fixture
async def manager(device_factory: Any, demo: None) -> Device:
    """Nora, the manager (PIN 9999)."""
    return await log_in(await device_factory(), "9999")
