"""The head-office ingest benchmark runs end to end in a tiny configuration and finds nothing lost or doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _admin_url() -> str:
    """The PostgreSQL server the tests use, as a plain URL to its `postgres` database."""
    url = os.environ.get("BRIGADE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    server = url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{server}/postgres"


def test_a_tiny_ingest_benchmark_prints_a_bench_line_with_each_record_held_once(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the ingest benchmark runs a head office on PostgreSQL, once, with the postgres backend")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.ingest",
            "--venues",
            "2",
            "--checks",
            "12",
            "--batch",
            "5",
            "--processes",
            "1",
            "--postgres-url",
            _admin_url(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0].removeprefix("BENCH "))
    assert report["bench"] == "head_office_ingest"
    assert report["checks"] == 24
    assert report["held"] == report["records"] == 96
    assert report["lost"] == 0
    assert report["doubled"] == 0
    assert report["acked_to_end"] is True
    assert report["checks_per_s"] > 0
    assert report["posted"] == 72, "every entry and move is booked"
    assert report["posting_exceptions"] == 0
