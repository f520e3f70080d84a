"""A print worker process killed mid-job: after a restart every job prints, at most twice, the second copy marked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from app.kitchen.models import Printer, PrintJob, PrintJobState
from app.lib.settings import Settings
from tests.integration.kitchen.support import Order, fire, open_check
from tests.support.escpos_decoder import decode
from tests.support.fake_printer import FakeNetworkPrinter

ROOT = Path(__file__).resolve().parents[3]


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BRIGADE_DATABASE_URL": settings.resolved_database_url(),
        "BRIGADE_VAR_DIR": str(settings.var_dir),
    }
    env.pop("BRIGADE_REDIS_URL", None)
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "printers.worker", "--lease-seconds", "2", "--retry-delays", "0.1,0.1"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def wait_until(predicate: Any, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_killing_the_print_worker_mid_job_loses_nothing_and_duplicates_at_most_once_marked_reprint(
    runtime: Any, demo: None, settings: Settings, tmp_path: Path
) -> None:
    tables = ["1", "2", "3", "4", "5", "6"]
    with FakeNetworkPrinter() as kitchen:
        async with runtime.db.write() as session:
            printer = (await session.exec(select(Printer).where(Printer.name == "Kitchen"))).one()
            printer.uri = kitchen.uri + "?status_timeout=4&io_timeout=4"
            printer.backup_printer_id = None
            session.add(printer)
        for table in tables:
            scene = await open_check(runtime, table=table)
            await fire(runtime, scene, [Order("GR-RIB", seat=1)])
        await runtime.dispatcher.drain()
        # The printer stops taking bytes: the worker's first send hangs mid-job, holding its claim.
        kitchen.stop_reading()
        log = tmp_path / "worker.log"
        first = start_worker(settings, log)
        try:

            async def claimed() -> bool:
                async with runtime.db.read() as session:
                    job = (await session.exec(select(PrintJob).where(PrintJob.state == PrintJobState.PRINTING))).first()
                return job is not None and len(kitchen.connections) >= 1

            await wait_until(claimed, 20, "the first worker to start sending")
            await asyncio.sleep(0.3)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        kitchen.resume_reading()

        second = start_worker(settings, log)
        try:

            async def settled() -> bool:
                async with runtime.db.read() as session:
                    jobs = (await session.exec(select(PrintJob))).all()
                return all(job.state in (PrintJobState.PRINTED, PrintJobState.FAILED) for job in jobs)

            await wait_until(settled, 30, "every job to print")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=10)

        async with runtime.db.read() as session:
            jobs = (await session.exec(select(PrintJob).order_by(col(PrintJob.id)))).all()
        copies: dict[str, list[bool]] = {}
        for connection in kitchen.connections:
            paper = decode(connection.data)
            table = next((line.strip() for line in paper.lines if line.strip().startswith("Table ")), None)
            if table is not None:
                copies.setdefault(table, []).append(any(line.strip() == "REPRINT" for line in paper.lines))

    assert [job.state for job in jobs] == [PrintJobState.PRINTED] * len(tables), log.read_text()
    assert sorted(copies) == sorted(f"Table {t}" for t in tables)
    for table, marks in copies.items():
        assert len(marks) <= 2, f"{table} printed {len(marks)} times"
        if len(marks) == 2:
            assert marks[1], f"the second copy of {table} is not marked REPRINT"
    # the job the dead worker held comes out marked, since it may already have been on paper
    assert jobs[0].duplicate_sent
    assert copies["Table 1"][-1]
