"""A head office on PostgreSQL and two venues on SQLite, as real `brigade serve` processes on loopback.

Each venue enrols with the CLI, sells a simulated day and closes it, and sends it up. NORTH's link is cut
mid-batch by a proxy, then head office is stopped and restarted, and the venue catches up; SOUTH's sender
is killed with SIGKILL while head office's answer to a batch it already stored is on its way. Afterwards
every closed check is at head office once, the group ledger holds each venue entry once and balances, and
`brigade reconcile` finds no difference between either venue's Z report and head office's books.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.faults.harness import ROOT, AppServer, app_env
from tests.group.proxy import LinkProxy
from tests.support.services import PostgresDatabase, postgres_url, require_service

CHECKS = 12


def brigade(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run a `brigade` command as an operator would; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"brigade {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until(predicate: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.1)


@dataclass
class Venue:
    """One restaurant: its code, environment, SQLite file, proxy to head office and (when running) server."""

    code: str
    env: dict[str, str]
    path: Path
    proxy: LinkProxy
    server: AppServer
    token: str

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path, timeout=30) as connection:
            return connection.execute(sql).fetchall()

    def link(self) -> tuple[int, str | None]:
        acked, error = self.query("SELECT acked_sequence, last_error FROM head_office_link")[0]
        return int(str(acked)), None if error is None else str(error)

    def queued(self) -> int:
        acked = self.link()[0]
        return int(
            str(self.query(f"SELECT count(*) FROM sync_record WHERE sequence IS NULL OR sequence > {acked}")[0][0])
        )


@pytest.fixture
def head_office_database() -> Iterator[str]:
    require_service("PostgreSQL", postgres_url())
    database = PostgresDatabase(postgres_url(), f"brigade_group_{os.getpid()}", with_tables=False)
    yield database.url
    database.drop()


def _at_head_office(url: str, sql: str) -> list[asyncpg.Record]:
    async def read() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            return list(await connection.fetch(sql))
        finally:
            await connection.close()

    return asyncio.run(read())


CATALOG_DISHES = 3


def copy_catalog(venue: Venue, head_office_url: str) -> list[str]:
    """Give head office a catalog: the venue's tax rates and categories, and its first dishes (same SKUs)."""
    rates = venue.query("SELECT id, name, rate_bp FROM tax_rate")
    categories = venue.query("SELECT id, name, course, tax_rate_id, sort_order, color FROM menu_category")
    items = venue.query(
        f"SELECT id, sku, name, price_cents, category_id, sort_order FROM menu_item ORDER BY id LIMIT {CATALOG_DISHES}"
    )

    async def write() -> None:
        connection = await asyncpg.connect(head_office_url.replace("+asyncpg", ""))
        try:
            await connection.executemany("INSERT INTO tax_rate (id, name, rate_bp) VALUES ($1, $2, $3)", rates)
            await connection.executemany(
                "INSERT INTO menu_category (id, name, course, tax_rate_id, sort_order, color) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                categories,
            )
            await connection.executemany(
                "INSERT INTO menu_item (id, sku, name, price_cents, category_id, sort_order, description, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, '', now())",
                items,
            )
        finally:
            await connection.close()

    asyncio.run(write())
    return [str(row[1]) for row in items]


def copy_chart(venue: Venue, head_office_url: str) -> None:
    """Give head office the group chart of accounts and warehouses: a venue's own, code for code."""
    accounts = venue.query("SELECT id, code, name, type, parent_id, description FROM ledger_account ORDER BY id")
    locations = venue.query("SELECT id, name, sort_order FROM stock_location")

    async def write() -> None:
        connection = await asyncpg.connect(head_office_url.replace("+asyncpg", ""))
        try:
            await connection.executemany(
                "INSERT INTO ledger_account (id, code, name, type, parent_id, description, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, now())",
                accounts,
            )
            await connection.executemany(
                "INSERT INTO stock_location (id, name, sort_order) VALUES ($1, $2, $3)", locations
            )
        finally:
            await connection.close()

    asyncio.run(write())


def test_two_venues_send_every_closed_check_exactly_once_through_a_cut_link_and_a_killed_sender(
    tmp_path: Path, head_office_database: str
) -> None:
    ho_env = app_env(tmp_path / "ho", head_office_database, role="head_office")
    brigade(ho_env, "db", "upgrade")
    head_office = AppServer(ho_env, tmp_path / "ho.log")
    head_office.start()
    venues: list[Venue] = []
    try:

        def set_up(code: str) -> Venue:
            path = tmp_path / code / "brigade.db"
            env = app_env(
                tmp_path / code,
                f"sqlite+aiosqlite:///{path}",
                pin_hash_profile="fast",
                sync_poll_seconds="0.2",
                sync_batch_size="40",
                venue_name=f"Brigade {code.title()}",
            )
            brigade(env, "db", "upgrade")
            brigade(env, "demo")
            token = brigade(ho_env, "venues", "add", "--code", code, "--name", f"Brigade {code.title()}").strip()
            proxy = LinkProxy(head_office.port)
            assert code in brigade(env, "head-office", "join", proxy.url, token)
            return Venue(code, env, path, proxy, AppServer(env, tmp_path / f"{code}.log"), token)

        with ThreadPoolExecutor(max_workers=2) as pool:
            venues = list(pool.map(set_up, ("NORTH", "SOUTH")))
        token = venues[0].token
        # A token works once.
        reuse = subprocess.run(
            [sys.executable, "-m", "app", "head-office", "join", head_office.url, token],
            cwd=ROOT,
            env=venues[0].env,
            capture_output=True,
            text=True,
        )
        assert reuse.returncode != 0
        assert "already linked" in reuse.stderr
        # The group's chart and warehouses: the venues' own (head office books their entries by account code).
        copy_chart(venues[0], head_office_database)

        # Both venues sell a day and close it while the link is idle (no server runs at the venues yet).
        selling = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "simulate", "--checks", str(CHECKS), "--close", "--seed", str(seed)],
                cwd=ROOT,
                env=venue.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for seed, venue in enumerate(venues, start=3)
        ]
        for process in selling:
            output, _ = process.communicate(timeout=120)
            assert process.returncode == 0, output.decode()
        north, south = venues
        for venue in venues:
            assert venue.queued() > 40, "more than one batch is owed"

        # NORTH: the link is cut in the middle of a batch; the venue records why, then catches up.
        north.proxy.mode = "cut"
        north.server.start()
        wait_until(lambda: north.link()[1] is not None and north.proxy.cuts > 0, 30, "NORTH notices the cut")
        assert north.link()[0] == 0
        status = brigade(north.env, "sync", "status", "--json")
        assert '"last_error": null' not in status
        # Head office goes down mid-day: the venue says why and keeps its records; it restarts and takes them all.
        head_office.stop()
        north.proxy.mode = "pass"
        down = subprocess.run(
            [sys.executable, "-m", "app", "sync", "now"], cwd=ROOT, env=north.env, capture_output=True, text=True
        )
        assert down.returncode != 0
        assert "could not be reached" in down.stderr
        assert north.queued() > 40
        head_office.start()
        brigade(north.env, "sync", "now")
        wait_until(lambda: north.queued() == 0, 60, "NORTH catches up")

        # SOUTH: head office stores a batch, and the sender is killed before it hears so; it resends on restart.
        south.proxy.mode = "swallow"
        south.server.start()
        wait_until(south.proxy.answered.is_set, 30, "head office answers SOUTH's first batch")
        south.server.kill()
        assert south.link()[0] == 0, "the venue never heard the acknowledgement"
        stored = _at_head_office(
            head_office_database,
            "SELECT count(*) AS n FROM group_venue_record r JOIN group_venue v ON v.id = r.venue_id "
            "WHERE v.code = 'SOUTH'",
        )[0]["n"]
        assert stored > 0
        south.proxy.mode = "pass"
        south.server.start()
        wait_until(lambda: south.queued() == 0, 60, "SOUTH catches up after the kill")

        for venue in venues:
            owed = int(str(venue.query("SELECT count(*) FROM sync_record")[0][0]))
            closings = {f"check.closed:{c}:{s}" for c, s in venue.query("SELECT check_id, sequence FROM check_closing")}
            held = _at_head_office(
                head_office_database,
                "SELECT r.sequence, r.kind, r.key FROM group_venue_record r JOIN group_venue v ON v.id = r.venue_id "
                f"WHERE v.code = '{venue.code}' ORDER BY r.sequence",
            )
            assert [row["sequence"] for row in held] == list(range(1, owed + 1)), f"{venue.code}: gapless, once"
            keys = [row["key"] for row in held]
            assert len(keys) == len(set(keys)), f"{venue.code}: no record twice"
            assert {k for k in keys if k.startswith("check.closed:")} == closings, f"{venue.code}: every closing"
            kinds = {row["kind"] for row in held}
            assert {"check.closed", "journal.entry", "stock.move", "drawer.counted", "day.closed"} <= kinds
            (mark,) = _at_head_office(
                head_office_database,
                f"SELECT acked_sequence, records_received FROM group_venue WHERE code = '{venue.code}'",
            )
            assert (mark["acked_sequence"], mark["records_received"]) == (owed, owed)
            assert venue.link() == (owed, None)

        # Head office booked both days into the group ledger once: it balances, nothing waits as an exception,
        # and each venue's Z report agrees with what head office posted for it, figure by figure.
        (row,) = _at_head_office(
            head_office_database,
            "SELECT payload->'business_day'->>'day' AS day FROM group_venue_record WHERE kind = 'day.closed' LIMIT 1",
        )
        ledger = _at_head_office(
            head_office_database,
            "SELECT (SELECT count(*) FROM group_venue_posting WHERE status = 'exception') AS exceptions, "
            "(SELECT coalesce(sum(amount_cents), 0) FROM journal_line) AS net, "
            "(SELECT count(*) FROM journal_entry) AS entries, "
            "(SELECT count(*) FROM group_venue_record WHERE kind = 'journal.entry') AS sent",
        )[0]
        assert (ledger["exceptions"], ledger["net"]) == (0, 0)
        assert ledger["entries"] == ledger["sent"] > 0
        reconciled = json.loads(brigade(ho_env, "reconcile", "--day", row["day"], "--json"))
        assert [v["venue"] for v in reconciled["venues"]] == ["NORTH", "SOUTH"]
        assert all(v["z_received"] for v in reconciled["venues"])
        assert reconciled["differences"] == []

        # The catalog: head office keeps the menu (here, three dishes of the venues' own), publishes it, then
        # changes two prices. Both venues take both releases on their timer; the dish NORTH 86'd stays 86'd.
        skus = copy_catalog(north, head_office_database)
        assert "catalog release 1 published" in brigade(ho_env, "catalog", "publish", "--note", "opening menu")
        eighty_sixed, repriced = skus[0], skus[1]
        north.query(
            "UPDATE menu_item SET eighty_sixed_at = '2026-12-06 12:00:00', eighty_six_reason = 'out' "
            f"WHERE sku = '{eighty_sixed}'"
        )
        _at_head_office(
            head_office_database,
            f"UPDATE menu_item SET price_cents = price_cents + 150 WHERE sku IN ('{eighty_sixed}', '{repriced}')",
        )
        group_prices = {
            row["sku"]: row["price_cents"]
            for row in _at_head_office(head_office_database, "SELECT sku, price_cents FROM menu_item")
        }
        assert "catalog release 2 published" in brigade(ho_env, "catalog", "publish", "--note", "winter prices")
        for venue in venues:
            wait_until(
                lambda v=venue: v.query("SELECT catalog_release FROM head_office_link")[0][0] == 2,
                30,
                f"{venue.code} applies both releases",
            )
            prices = dict(venue.query(f"SELECT sku, price_cents FROM menu_item WHERE sku IN {tuple(skus)}"))
            assert prices == group_prices, f"{venue.code} sells at head office's new prices"
        assert north.query(f"SELECT eighty_sixed_at IS NOT NULL FROM menu_item WHERE sku = '{eighty_sixed}'") == [(1,)]
        assert south.query(f"SELECT eighty_sixed_at IS NULL FROM menu_item WHERE sku = '{eighty_sixed}'") == [(1,)]
        wait_until(
            lambda: (
                sorted(
                    (r["code"], r["applied_release"])
                    for r in _at_head_office(
                        head_office_database,
                        "SELECT v.code, c.applied_release FROM group_catalog_venue c "
                        "JOIN group_venue v ON v.id = c.venue_id",
                    )
                )
                == [("NORTH", 2), ("SOUTH", 2)]
            ),
            30,
            "head office hears which release each venue trades on",
        )

        # Revoked at head office, a venue is refused with a message it shows its manager.
        assert "revoked" in brigade(ho_env, "venues", "revoke", "NORTH")
        north.server.stop()
        refused = subprocess.run(
            [sys.executable, "-m", "app", "sync", "now"], cwd=ROOT, env=north.env, capture_output=True, text=True
        )
        assert refused.returncode != 0
        assert "revoked venue NORTH" in refused.stderr
        assert '"status": "revoked"' in brigade(north.env, "sync", "status", "--json")
    finally:
        for venue in venues:
            venue.server.stop()
            venue.proxy.close()
        head_office.stop()
