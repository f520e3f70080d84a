"""A SQLite file is switched to WAL once, and a switch refused as "locked" by a neighbour is tried again."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.lib import db


class _Cursor:
    """Answers PRAGMA journal_mode with `mode`, and refuses the switch with each of `refusals` in turn."""

    def __init__(self, mode: str, refusals: list[str]) -> None:
        self.mode, self.refusals, self.switches = mode, refusals, 0

    def execute(self, sql: str) -> Any:
        if sql == "PRAGMA journal_mode=WAL":
            self.switches += 1
            if self.refusals:
                raise sqlite3.OperationalError(self.refusals.pop(0))
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_a_new_file_is_switched_to_wal_and_stays_so(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "brigade.db")
    db._use_wal(connection.cursor())
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    again = sqlite3.connect(tmp_path / "brigade.db")
    assert again.execute("PRAGMA journal_mode").fetchone() == ("wal",), "the mode is kept in the file"
    again.close()


def test_a_file_already_in_wal_is_not_switched_again() -> None:
    cursor = _Cursor("wal", [])
    db._use_wal(cursor)
    assert cursor.switches == 0


def test_a_switch_refused_as_locked_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db.time, "sleep", lambda _seconds: None)
    cursor = _Cursor("delete", ["database is locked", "database is locked"])
    db._use_wal(cursor)
    assert (cursor.switches, cursor.mode) == (3, "wal")


def test_other_errors_and_a_lock_that_never_clears_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db.time, "sleep", lambda _seconds: None)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        db._use_wal(_Cursor("delete", ["disk I/O error"]))
    stuck = _Cursor("delete", ["database is locked"] * 5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db._use_wal(stuck, tries=3)
    assert stuck.switches == 3
