"""Where a run's CPU goes, by role: the app's web and delivery processes, the database server, Redis and the
benchmark's own clients, read from Linux's /proc while the night runs.

The database server's processes come and go with its connections, so the meter samples every half second and keeps
the last figure of a process that has ended; on a system without /proc it measures nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC = Path("/proc")
DATABASE_SERVERS = frozenset({"postgres"})
SAMPLE_EVERY_S = 0.5
# where there is no sysconf there is no /proc either, and the meter measures nothing
_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int) -> float | None:
    """User and system CPU seconds of one process so far, or None if it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def _database_server_pids() -> list[int]:
    pids = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in DATABASE_SERVERS:
                    pids.append(int(entry.name))
    return pids


@dataclass
class CpuMeter:
    """CPU seconds per role between `start` and `stop`; `roles` names the processes the run started itself."""

    roles: dict[str, list[int]]
    with_database_server: bool = False
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _role_of: dict[int, str] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _started_at: float = 0.0
    seconds: float = field(default=0.0, init=False)
    """How long the meter ran, once stopped."""

    @staticmethod
    def available() -> bool:
        return (PROC / "self" / "stat").exists()

    def start(self) -> None:
        if not self.available():
            return
        self._started_at = time.perf_counter()
        self._sample()
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> dict[str, float]:
        """CPU seconds per role over the measured span (empty without /proc)."""
        if self._task is None:
            return {}
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._sample()
        self.seconds = time.perf_counter() - self._started_at
        used: dict[str, float] = dict.fromkeys(self.roles, 0.0)
        for pid, last in self._last.items():
            role = self._role_of[pid]
            used[role] = used.get(role, 0.0) + last - self._first[pid]
        return used

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            self._sample()

    def _sample(self) -> None:
        pids = {pid: role for role, members in self.roles.items() for pid in members}
        if self.with_database_server:
            pids.update(dict.fromkeys(_database_server_pids(), "database"))
        for pid, role in pids.items():
            used = _cpu_s(pid)
            if used is None:
                continue
            if pid not in self._first:
                # a process born during the span counts from zero
                self._first[pid] = used if not self._task else 0.0
                self._role_of[pid] = role
            self._last[pid] = used


def per_order(used: dict[str, float], orders: int, seconds: float) -> dict[str, Any]:
    """The report: CPU milliseconds per order by role and in all, and how many cores were busy."""
    if not used or orders == 0 or seconds <= 0:
        return {}
    total = sum(used.values())
    return {
        "ms_per_order": {role: round(s * 1000 / orders, 1) for role, s in sorted(used.items())},
        "ms_per_order_all": round(total * 1000 / orders, 1),
        "cores_busy": round(total / seconds, 2),
    }
