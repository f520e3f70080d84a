"""Counting what the app sends its database: the statements-budget tests list them when a ceiling is passed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def statements_sent(runtime: Any) -> Iterator[list[str]]:
    """The statements every engine of the app's database sends inside the block, whitespace folded."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    engines = [engine.sync_engine for engine in runtime.db.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def listing(sent: list[str]) -> str:
    """The statements, one a line, cut to 160 characters: what a failed budget prints."""
    return "\n".join(f"  {statement[:160]}" for statement in sent)
