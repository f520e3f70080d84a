"""Which statements SQLAlchemy derives a cache key for again and again, by the app's line that ran them.

    .venv/bin/python -m bench.cache_keys bench.statements
    .venv/bin/python -m bench.cache_keys bench.payment_statements --repeat 15
    .venv/bin/python -m bench.cache_keys bench.kitchen_path --fires 50

Runs the named benchmark module (with its own arguments) and, at the end, prints each place in `app/`, `kds/` or
`printers/` whose statements had their cache key derived, with how often and how long it took. A statement built
once derives its key once; one built on every call derives it on every call, and building it and deriving the key
cost more CPU than running it. The ORM's own INSERT or UPDATE … RETURNING of an entity is rebuilt on every execution
even when built once: `rows_as` (app/lib/sql.py) keeps its key. What the benchmark's set-up does (the demo
restaurant) is counted too, so read the counts against how many orders, payments or fires it ran.
"""

from __future__ import annotations

import atexit
import runpy
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import greenlet
from sqlalchemy.sql import cache_key

ROOT = f"{Path(__file__).resolve().parent.parent}/"
APP_FOLDERS = tuple(f"{ROOT}{folder}/" for folder in ("app", "kds", "printers"))
SHOWN = 40

derived: Counter[str] = Counter()
spent: Counter[str] = Counter()
_derive = cache_key.HasCacheKey._generate_cache_key
_depth = 0


def _frames() -> list[FrameType]:
    """This stack, then the stack of the greenlet that spawned this one: SQLAlchemy's async session runs the
    statement in a greenlet of its own, whose stack starts afresh."""
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    parent = greenlet.getcurrent().parent
    frame = parent.gr_frame if parent is not None else None
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


def _site() -> str:
    for frame in _frames():
        path = frame.f_code.co_filename
        if path.startswith(APP_FOLDERS):
            return f"{path.removeprefix(ROOT)}:{frame.f_lineno} {frame.f_code.co_name}"
    return "(no app line)"


def _counted(statement: Any) -> Any:
    global _depth
    if _depth:
        return _derive(statement)
    _depth += 1
    started = time.perf_counter()
    try:
        return _derive(statement)
    finally:
        took = time.perf_counter() - started
        _depth -= 1
        site = _site()
        derived[site] += 1
        spent[site] += took


def report() -> None:
    print("\ncache keys derived, by the app's line (times, ms in all):", file=sys.stderr)
    for site, times in derived.most_common(SHOWN):
        print(f"{times:7d} {spent[site] * 1000:8.1f}  {site}", file=sys.stderr)


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m bench.cache_keys BENCH_MODULE [its arguments]")
    module, sys.argv = sys.argv[1], sys.argv[1:]
    cache_key.HasCacheKey._generate_cache_key = _counted  # type: ignore[method-assign]
    atexit.register(report)
    runpy.run_module(module, run_name="__main__")


if __name__ == "__main__":
    main()
