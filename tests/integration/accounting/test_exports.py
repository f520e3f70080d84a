"""Exports that independent tools accept: bean-check and `hledger check --strict`, plus CSV and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.accounting.exports import export_ledger
from app.accounting.reversals import reverse_entry
from app.accounting.services import PostingLine, post_entry
from app.lib.errors import InvalidInput
from tests.integration.accounting.conftest import DAY, post_sale
from tests.support.services import in_ci

ROOT = Path(__file__).resolve().parents[3]


def _tool(name: str) -> str:
    """The tool's path; a missing tool fails under CI and skips elsewhere."""
    beside_python = Path(sys.executable).parent / name
    path = str(beside_python) if beside_python.exists() else shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs hledger; beancount is a dev dependency)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("bean-check"), str(path)], capture_output=True, text=True, timeout=120)


def hledger_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("hledger"), "-f", str(path), "check", "--strict"], capture_output=True, text=True, timeout=120
    )


async def _real_postings(runtime: Any) -> None:
    """A week of books: sales on several days, a tricky description, dimensions, a reversal, an earlier day."""
    await post_sale(runtime, "before", day=DAY - dt.timedelta(days=3))
    await post_sale(runtime, "1")
    await post_sale(runtime, "2", cash=2180, food=2000, tax=180, day=DAY + dt.timedelta(days=1))
    refunded = await post_sale(runtime, "3", cash=545, food=500, tax=45, day=DAY + dt.timedelta(days=1))
    async with runtime.db.write() as session:
        await post_entry(
            session,
            date=DAY + dt.timedelta(days=2),
            description='Card sale; "quoted" \\ back-slashed, déjà vu',
            lines=[
                PostingLine("1020", 4235, "card; visa", {"terminal": "T1", "memo": "x,y"}),
                PostingLine("4030", -3000, "alcohol"),
                PostingLine("4500", 300, "happy hour"),
                PostingLine("2102", -567, "tax 21 %"),
                PostingLine("2101", -58),
                PostingLine("2020", -910, "tip"),
            ],
            source_type="sale",
            source_id="4",
        )
        await reverse_entry(session, refunded.id, "refunded", date=DAY + dt.timedelta(days=2))
        await post_entry(
            session,
            date=DAY + dt.timedelta(days=2),
            description="Stock used",
            lines=[PostingLine("5010", 1234), PostingLine("1100", -1234)],
            source_type="stock",
            source_id="s-1",
        )


async def _export(runtime: Any, fmt: str, tmp_path: Path, start: dt.date = DAY, end: dt.date | None = None) -> Path:
    async with runtime.db.read() as session:
        content = await export_ledger(
            session, start=start, end=end or DAY + dt.timedelta(days=6), fmt=fmt, currency="EUR", title="Books"
        )
    path = tmp_path / f"books.{fmt}"
    path.write_text(content, encoding="utf-8")
    return path


async def test_the_beancount_export_of_real_postings_passes_bean_check(books: Any, tmp_path: Path) -> None:
    await _real_postings(books)
    path = await _export(books, "beancount", tmp_path)
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr + path.read_text()
    text = path.read_text()
    assert "Opening balances" in text, "balances from before the range are carried in"
    assert "balance Assets:1000-Current-assets:1010-Cash-drawers  43.60 EUR" in text


async def test_the_hledger_journal_of_the_same_postings_passes_hledger_check_strict(books: Any, tmp_path: Path) -> None:
    await _real_postings(books)
    path = await _export(books, "hledger", tmp_path)
    result = hledger_check(path)
    assert result.returncode == 0, result.stdout + result.stderr + path.read_text()


async def test_an_empty_range_still_passes_both_tools(books: Any, tmp_path: Path) -> None:
    beancount = await _export(books, "beancount", tmp_path)
    journal = await _export(books, "hledger", tmp_path)
    assert bean_check(beancount).returncode == 0
    assert hledger_check(journal).returncode == 0


async def test_an_unbalanced_corruption_is_rejected_by_both_tools(books: Any, tmp_path: Path) -> None:
    await _real_postings(books)
    for fmt, check in (("beancount", bean_check), ("hledger", hledger_check)):
        path = await _export(books, fmt, tmp_path)
        text = path.read_text()
        assert "-20.00 EUR" in text
        path.write_text(text.replace("-20.00 EUR", "-19.99 EUR", 1))
        result = check(path)
        assert result.returncode != 0, f"{fmt} accepted an unbalanced transaction"
        assert "balance" in (result.stdout + result.stderr).lower()


async def test_a_wrong_closing_balance_is_caught_by_both_tools(books: Any, tmp_path: Path) -> None:
    await _real_postings(books)
    for fmt, check in (("beancount", bean_check), ("hledger", hledger_check)):
        path = await _export(books, fmt, tmp_path)
        lines = path.read_text().splitlines()
        # Drop one balanced entry wholesale: every line still balances, the closing assertions do not.
        start = next(i for i, line in enumerate(lines) if "Stock used" in line)
        end = lines.index("", start)
        path.write_text("\n".join(lines[:start] + lines[end + 1 :]) + "\n")
        assert check(path).returncode != 0, f"{fmt} missed a dropped entry"


async def test_the_csv_export_has_one_row_per_line_and_every_entry_nets_to_zero(books: Any, tmp_path: Path) -> None:
    await _real_postings(books)
    rows = list(csv.DictReader(io.StringIO((await _export(books, "csv", tmp_path)).read_text())))
    assert len(rows) == 3 + 3 + 3 + 6 + 3 + 2
    by_entry: dict[str, int] = {}
    for row in rows:
        cents = int(row["amount"].replace(".", ""))
        by_entry[row["entry_id"]] = by_entry.get(row["entry_id"], 0) + cents
        assert (row["debit"] == "") != (row["credit"] == "")
    assert set(by_entry.values()) == {0}
    reversal = [r for r in rows if r["reverses_entry_id"]]
    assert len(reversal) == 3
    assert reversal[0]["description"].startswith("Reversal of #")
    card = next(r for r in rows if r["account_code"] == "1020")
    assert card["dimensions"] == '{"memo": "x,y", "terminal": "T1"}'
    assert all(r["date"] >= DAY.isoformat() for r in rows), "entries before the range stay out"


async def test_csv_cells_that_look_like_formulas_are_kept_as_text(books: Any, tmp_path: Path) -> None:
    async with books.db.write() as session:
        await post_entry(
            session,
            date=DAY,
            description="=HYPERLINK(1)",
            lines=[PostingLine("1010", 1, "+1"), PostingLine("4010", -1, "@me")],
            source_type="t",
            source_id="1",
        )
    rows = list(csv.DictReader(io.StringIO((await _export(books, "csv", tmp_path)).read_text())))
    assert rows[0]["description"] == "'=HYPERLINK(1)"
    assert [r["memo"] for r in rows] == ["'+1", "'@me"]


async def test_an_export_range_that_ends_before_it_starts_is_refused(books: Any) -> None:
    async with books.db.read() as session:
        with pytest.raises(InvalidInput, match="ends"):
            await export_ledger(session, start=DAY, end=DAY - dt.timedelta(days=1), fmt="csv")
        with pytest.raises(InvalidInput, match="format"):
            await export_ledger(session, start=DAY, end=DAY, fmt="xlsx")


def _cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRIGADE_DATABASE_URL": settings.resolved_database_url(),
        "BRIGADE_VAR_DIR": str(settings.var_dir),
        "BRIGADE_SECRET_KEY": settings.secret_key,
    }
    env.pop("BRIGADE_REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app", "export-ledger", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_brigade_export_ledger_writes_a_file_bean_check_accepts(
    books: Any, settings: Any, tmp_path: Path
) -> None:
    await _real_postings(books)
    target = tmp_path / "cli.beancount"
    result = _cli(
        settings, "--from", "2025-03-14", "--to", "2025-03-20", "--format", "beancount", "--output", str(target)
    )
    assert result.returncode == 0, result.stderr
    assert bean_check(target).returncode == 0
    printed = _cli(settings, "--from", "2025-03-14", "--to", "2025-03-20", "--format", "csv")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("date,entry_id,description")


async def test_brigade_export_ledger_refuses_a_bad_range_and_a_bad_format(books: Any, settings: Any) -> None:
    backwards = _cli(settings, "--from", "2025-03-20", "--to", "2025-03-14", "--format", "csv")
    assert backwards.returncode != 0
    assert "ends (2025-03-14) before it starts" in backwards.stderr
    bad_format = _cli(settings, "--from", "2025-03-14", "--to", "2025-03-20", "--format", "xlsx")
    assert bad_format.returncode != 0
    assert "xlsx" in bad_format.stderr
    bad_date = _cli(settings, "--from", "14/03/2025", "--to", "2025-03-20", "--format", "csv")
    assert bad_date.returncode != 0
    assert "YYYY" not in bad_date.stdout
