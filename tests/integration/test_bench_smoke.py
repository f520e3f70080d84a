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
    # the night's CPU per fired order, by process: the app's and the benchmark's own, adding up
    cpu = report["cpu"]
    assert set(cpu["ms_per_order"]) == {"app", "bench"}
    assert cpu["ms_per_order"]["app"] > 0
    assert cpu["ms_per_order_all"] == pytest.approx(sum(cpu["ms_per_order"].values()), abs=0.2)
    assert 0 < cpu["cores_busy"] <= report["cores"]


def _bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_per_step_benchmarks_run_and_report_their_counts(backend: str) -> None:
    """bench.statements (under bench.cache_keys), bench.kitchen_path and bench.payment_statements, tiny: each runs
    and prints its figures."""
    if backend != "sqlite":
        pytest.skip("the step benchmarks run once, with the sqlite backend")
    order = _bench("bench.cache_keys", "bench.statements", "--orders", "1")
    assert order.returncode == 0, order.stderr[-3000:]
    assert "one order" in order.stdout, order.stdout
    # the demo restaurant's set-up builds its statements as it goes: its lines are listed
    report = order.stderr.split("cache keys derived, by the app's line", 1)[1]
    assert "app/demo.py:" in report, report
    kitchen = _bench("bench.kitchen_path", "--fires", "2", "--spacing", "0.05")
    assert kitchen.returncode == 0, kitchen.stderr[-3000:]
    [kitchen_line] = [line for line in kitchen.stdout.splitlines() if line.startswith("KITCHEN_PATH ")]
    per_fire = json.loads(kitchen_line.removeprefix("KITCHEN_PATH "))["per_fire"]
    assert per_fire["dispatcher"]["statements"] > 0
    assert per_fire["printer"]["statements"] > 0
    assert json.loads(kitchen_line.removeprefix("KITCHEN_PATH "))["cpu_ms_per_fire"]["p50"] > 0
    payment = _bench("bench.payment_statements", "--repeat", "1")
    assert payment.returncode == 0, payment.stderr[-3000:]
    [payment_line] = [line for line in payment.stdout.splitlines() if line.startswith("PAYMENT ")]
    assert json.loads(payment_line.removeprefix("PAYMENT "))["pay"]["statements"] > 0
