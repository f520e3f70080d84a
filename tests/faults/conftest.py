"""Fault-test fixtures: private Redis and PostgreSQL servers, and fresh databases on the shared PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.faults.harness import fresh_database
from tests.support.servers import PostgresServer, RedisServer
from tests.support.services import own_server, postgres_url, require_service


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop and start (never the machine's)."""
    server = own_server(RedisServer)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of this test's own in a temporary folder, to stop and start."""
    with own_server(PostgresServer) as server:
        yield server


@pytest.fixture
async def shared_postgres_database() -> AsyncIterator[str]:
    """A new database on the shared PostgreSQL (which is never stopped), dropped at the end; its URL."""
    admin = postgres_url()
    require_service("PostgreSQL", admin)
    async with fresh_database(admin) as url:
        yield url
