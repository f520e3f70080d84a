"""The benchmark runs end to end in a tiny configuration and finds nothing lost or doubled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_sqlite_benchmark_prints_one_bench_line_with_nothing_lost_or_doubled(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the benchmark's sqlite mode runs once, with the sqlite backend")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--mode",
            "sqlite",
            "--rate",
            "4",
            "--duration",
            "3",
            "--tablets",
            "2",
            "--kds-clients",
            "3",
            "--day-checks",
            "5",
            "--bare-messages",
            "50",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0].removeprefix("BENCH "))
    assert report["mode"] == "sqlite"
    assert report["processes"] == 1
    assert report["fired"] >= 4
    assert report["lost"] == 0, report
    assert report["duplicated"] == 0, report
    assert report["errors"] == 0, result.stderr[-3000:]
    for key in ("fire_to_kds_ms", "fire_to_print_ms", "bare_ws_ms"):
        assert set(report[key]) == {"p50", "p95", "p99"}
        assert 0 < report[key]["p50"] <= report[key]["p99"]
    assert set(report["floor_page_ms"]) == {"p50", "p95"}
    assert report["day_close_s"] > 0
    assert report["closed_checks"] >= report["fired"]
