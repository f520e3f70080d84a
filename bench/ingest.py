"""How many closed checks a head office takes in: `python -m bench.ingest [--venues 4] [--checks 1500]`.

Starts a head office (`BRIGADE_ROLE=head_office`) on a fresh PostgreSQL database and a private Redis, served by
uvicorn processes on loopback, with its books posting what arrives as in production. Enrols `--venues` venues;
each is one concurrent sender posting batches over HTTP, as a venue's sender does: every closed check travels
as a venue's records do, the check itself (lines, modifiers, payment), its sales journal entry and two stock
moves. The figure is closed checks per second acknowledged across all venues, from the first batch sent to
the last acknowledged; `posted_checks_per_s` also waits until head office's books have posted every entry
and move. Then it checks that each (venue, sequence) is held exactly once and every venue is acknowledged to
its last record. Prints one line `BENCH {json}`; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from app.accounting.models import Account
from app.group import services
from app.group.books_models import PostingStatus, VenuePosting
from app.group.models import Venue, VenueRecord
from app.group.protocol import ENROL_PATH, RECORDS_PATH
from app.inventory.models import StockLocation
from app.lib.db import Database
from bench.services import (
    AppCluster,
    bench_env,
    brigade,
    drop_postgres_database,
    recreate_postgres_database,
)
from tests.support.servers import RedisServer

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "brigade_ingest_bench"
RECORDS_PER_CHECK = 4
BOOKED_PER_CHECK = 3  # the journal entry and the two stock moves


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _records(check: int, sequence: int, accounts: list[str], location: str, at: dt.datetime) -> list[dict[str, Any]]:
    """One closed check as a venue sends it: the check, its sales entry, and the stock its dishes used."""
    when = at.isoformat()
    day = at.date().isoformat()
    total, tax, tip = 3850, 350, 400
    lines = [
        {
            "id": check * 3 + n,
            "check_id": check,
            "menu_item_id": 10 + n,
            "sku": f"DISH-{n}",
            "name": f"Dish {n}",
            "category_id": 1,
            "unit_price_cents": 1000 + 500 * n,
            "modifiers_cents": 0,
            "quantity_num": 1,
            "quantity_den": 1,
            "tax_rate_id": 1,
            "tax_rate_bp": 1000,
            "seat": n + 1,
            "course": "main",
            "state": "sent",
            "added_at": when,
        }
        for n in range(3)
    ]
    cash, sales, tax_account, tips = accounts
    entry_id = check
    payloads: list[tuple[str, str, dict[str, Any]]] = [
        (
            "check.closed",
            f"check.closed:{check}:1",
            {
                "closing": {
                    "id": check,
                    "check_id": check,
                    "sequence": 1,
                    "total_cents": total,
                    "paid_cents": total,
                    "tips_cents": tip,
                    "closed_at": when,
                },
                "check": {"id": check, "number": check, "kind": "dine_in", "status": "closed", "covers": 3},
                "lines": lines,
                "modifiers": [],
                "discounts": [],
                "comps": [],
                "payments": [{"id": check, "check_id": check, "tender_id": 1, "amount_cents": total, "tip_cents": tip}],
                "refunds": [],
                "refund_lines": [],
            },
        ),
        (
            "journal.entry",
            f"journal.entry:{entry_id}",
            {
                "entry": {
                    "id": entry_id,
                    "date": day,
                    "description": f"Check {check}",
                    "source_type": "check",
                    "source_id": str(check),
                    "reverses_id": None,
                    "posted_at": when,
                },
                "lines": [
                    {"position": 0, "account_id": 1, "amount_cents": total + tip, "memo": "", "dimensions": {}},
                    {"position": 1, "account_id": 2, "amount_cents": -(total - tax), "memo": "", "dimensions": {}},
                    {"position": 2, "account_id": 3, "amount_cents": -tax, "memo": "", "dimensions": {}},
                    {"position": 3, "account_id": 4, "amount_cents": -tip, "memo": "", "dimensions": {}},
                ],
                "accounts": {"1": cash, "2": sales, "3": tax_account, "4": tips},
            },
        ),
    ]
    for n in range(2):
        move = {
            "id": check * 2 + n,
            "operation_id": check,
            "kind": "sale",
            "stock_item_id": n + 1,
            "location_id": 1,
            "quantity_milli": -150,
            "unit_cost_millicents": 40000,
            "value_cents": -60,
            "created_at": when,
        }
        payloads.append(("stock.move", f"stock.move:{move['id']}", {"move": move, "location": location}))
    return [
        {"sequence": sequence + i, "kind": kind, "key": key, "occurred_at": when, "payload": payload}
        for i, (kind, key, payload) in enumerate(payloads)
    ]


async def _chart(db: Database) -> tuple[list[str], str]:
    """Four live group accounts and a warehouse, so the venues' entries and moves post (not exceptions)."""
    async with db.read() as session:
        codes = list((await session.exec(select(Account.code).where(col(Account.archived_at).is_(None)))).all())
        places = list((await session.exec(select(StockLocation.name))).all())
    if len(codes) < 4 or not places:
        raise RuntimeError("head office has no chart of accounts or warehouse to post to")
    return sorted(codes)[:4], places[0]


def _batches(checks: int, batch: int, accounts: list[str], location: str) -> list[bytes]:
    """One venue's outbox as its sender would send it: batches of `batch` checks, encoded before the clock starts
    (a venue is another machine; encoding there costs head office nothing)."""
    at = dt.datetime.now(dt.UTC)
    bodies = []
    for first in range(1, checks + 1, batch):
        records: list[dict[str, Any]] = []
        for check in range(first, min(first + batch, checks + 1)):
            records += _records(check, (check - 1) * RECORDS_PER_CHECK + 1, accounts, location, at)
        bodies.append(json.dumps({"records": records}).encode())
    return bodies


async def _sender(client: httpx.AsyncClient, credential: str, bodies: list[bytes]) -> tuple[int, list[float]]:
    """One venue's sender: batches in order, each resent until acknowledged; the last acknowledged sequence."""
    headers = {"authorization": f"Bearer {credential}", "content-type": "application/json"}
    acked = 0
    latencies: list[float] = []
    for body in bodies:
        for _attempt in range(5):
            started = time.perf_counter()
            response = await client.post(RECORDS_PATH, content=body, headers=headers)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
                acked = int(response.json()["acked"])
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"a batch was refused: {response.status_code} {response.text[:300]}")
    return acked, latencies


async def _posted(db: Database) -> int:
    async with db.read() as session:
        return int((await session.exec(select(func.count()).select_from(VenuePosting))).one())


async def _exceptions(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(VenuePosting).where(VenuePosting.status == PostingStatus.EXCEPTION)
        return int((await session.exec(query)).one())


async def run(options: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="brigade-ingest-"))
    redis = RedisServer()
    await asyncio.to_thread(redis.start)
    await recreate_postgres_database(options.postgres_url, DATABASE)
    host_part = options.postgres_url.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+asyncpg://{host_part}/{DATABASE}"
    env = bench_env(
        dict(os.environ),
        var_dir=str(folder),
        database_url=url,
        redis_url=redis.url,
        role="head_office",
        secret_key=secrets.token_urlsafe(48),
    )
    cluster = AppCluster(env=env, folder=folder)
    db = Database(url)
    try:
        say(f"ingest: fresh head office on PostgreSQL, {options.processes} processes, posting {options.posting}")
        await asyncio.to_thread(brigade, env, "db", "upgrade")
        await asyncio.to_thread(brigade, env, "demo")
        accounts, location = await _chart(db)
        tokens: list[str] = []
        async with db.write() as session:
            for n in range(options.venues):
                added = await services.add_venue(
                    session, code=f"V{n + 1:02d}", name=f"Venue {n + 1}", timezone="Europe/Amsterdam", currency="EUR"
                )
                tokens.append(added.token)
        # As deployed for load: the web processes take batches in, and the posting worker of a process of its own
        # books them (`--posting inline`: each web process books its own batches after answering, as one does).
        await asyncio.to_thread(cluster.start, options.processes, delivery_process=options.posting == "worker")
        bases = [app.base_url for app in cluster.processes]
        clients = [httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=60) for n in range(options.venues)]
        credentials = []
        for client, token in zip(clients, tokens, strict=True):
            response = await client.post(ENROL_PATH, json={"token": token})
            response.raise_for_status()
            credentials.append(str(response.json()["credential"]))
        say(f"ingest: {options.venues} venues sending {options.checks} checks each, {options.batch} a batch")
        outboxes = [_batches(options.checks, options.batch, accounts, location) for _ in credentials]
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                _sender(client, credential, bodies)
                for client, credential, bodies in zip(clients, credentials, outboxes, strict=True)
            )
        )
        accepted_s = time.perf_counter() - started
        for client in clients:
            await client.aclose()
        booked = options.venues * options.checks * BOOKED_PER_CHECK
        posted = await _posted(db)
        for _poll in range(int(options.post_timeout / 0.05)):
            if posted >= booked:
                break
            await asyncio.sleep(0.05)
            posted = await _posted(db)
        posted_s = time.perf_counter() - started
        async with db.read() as session:
            held = int((await session.exec(select(func.count()).select_from(VenueRecord))).one())
            distinct = int(
                (
                    await session.exec(
                        select(func.count()).select_from(
                            select(VenueRecord.venue_id, VenueRecord.sequence).distinct().subquery()
                        )
                    )
                ).one()
            )
            marks = list((await session.exec(select(Venue.acked_sequence))).all())
        expected = options.venues * options.checks * RECORDS_PER_CHECK
        latencies = sorted(x for _, lat in results for x in lat)
        checks = options.venues * options.checks
        return {
            "bench": "head_office_ingest",
            "venues": options.venues,
            "processes": options.processes,
            "posting": options.posting,
            "checks": checks,
            "records": expected,
            "batch_checks": options.batch,
            "checks_per_s": round(checks / accepted_s, 1),
            "posted_checks_per_s": round(checks / posted_s, 1) if posted >= booked else None,
            "batch_ms_p50": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "batch_ms_max": round(latencies[-1] * 1000, 1) if latencies else None,
            "held": held,
            "doubled": held - distinct,
            "lost": expected - distinct,
            "acked_to_end": all(mark == options.checks * RECORDS_PER_CHECK for mark in marks),
            "posted": posted,
            "posting_exceptions": await _exceptions(db),
            "errors": len(cluster.errors()),
        }
    finally:
        cluster.stop()
        await db.dispose()
        await drop_postgres_database(options.postgres_url, DATABASE)
        redis.stop(graceful=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venues", type=int, default=4, help="concurrent venue senders (default 4)")
    parser.add_argument("--checks", type=int, default=1500, help="closed checks each venue sends (default 1500)")
    parser.add_argument("--batch", type=int, default=50, help="checks a batch (4 records each; default 50)")
    parser.add_argument("--processes", type=int, default=2, help="head-office app processes (default 2)")
    parser.add_argument(
        "--posting",
        choices=("worker", "inline"),
        default="worker",
        help="book in a worker process of its own (default), or in each web process after its answer",
    )
    parser.add_argument("--post-timeout", type=float, default=120, help="seconds to wait for the books to post")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN, help="PostgreSQL server to create the db on")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    report = asyncio.run(run(parse(argv)))
    print(
        f"head-office ingest: {report['checks_per_s']} closed checks/s from {report['venues']} venues "
        f"(posted: {report['posted_checks_per_s']} checks/s), lost {report['lost']}, doubled {report['doubled']}",
        file=sys.stderr,
    )
    print("BENCH " + json.dumps(report), flush=True)
    ok = report["lost"] == 0 and report["doubled"] == 0 and report["acked_to_end"] and report["errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
