"""Who is behind a login cookie, remembered for a few seconds in each process instead of read on every request.

A tablet sends a request every few seconds through service; each used to begin with a read of its session and
person. The cache keeps that answer for `TTL` at most, and for no longer than the session's idle clock would be
refreshed anyway (`auth.TOUCH_EVERY`), so locking, logging out and the idle lock work as before:

- A write transaction that changes a staff session, a person or a device (logout, lock, a new login, archiving
  someone, a revoked device, a new role or PIN) forgets the sessions it touched in this process when it commits,
  and tells every other process on the `SESSIONS_CHANNEL` channel, which forgets them too.
- A process whose channels are not hearing events (Redis away) does not use the cache at all; when they hear again
  it starts empty.
- A lookup that began before such a change is not remembered after it (the `generation` check).
- A change made outside every app process (a script on the database) is seen within `TTL`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.lib.db import Database, writing
from app.staff.models import Device, Staff, StaffSession
from app.staff.sessions import ActiveSession

log = logging.getLogger(__name__)

SESSIONS_CHANNEL = "staff-sessions"
TTL_S = 10.0
MAX_ENTRIES = 2048
_CHANGES_KEY = "staff_sessions_changed"
_EVERYONE = "*"


class Channels(Protocol):
    """What the cache needs of the process's event channels (Litestar's ChannelsPlugin)."""

    async def subscribe(self, channels: str | Iterable[str], history: int | None = None) -> Any: ...

    async def unsubscribe(self, subscriber: Any, channels: str | Iterable[str] | None = None) -> None: ...

    async def try_publish(self, data: Any, channels: str | Iterable[str]) -> bool: ...


@dataclass
class _Entry:
    active: ActiveSession
    read_at: float


@dataclass
class SessionCache:
    """Live sessions by token digest, for one process."""

    ttl_s: float = TTL_S
    max_entries: int = MAX_ENTRIES
    clock: Callable[[], float] = time.monotonic
    # whether this process's channels hear events (Redis is there): no cache when they do not
    healthy: Callable[[], bool] = lambda: True
    # whether `listen` is subscribed to the other processes' changes: no cache before it is
    listening: bool = False
    generation: int = 0
    # names this process's own messages, which it already acted on when it sent them
    sender: str = field(default_factory=lambda: secrets.token_hex(8))
    _entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)

    def hearing(self) -> bool:
        """Whether a change made by another process would reach this one now."""
        return self.listening and self.healthy()

    def get(self, token_hash: str) -> ActiveSession | None:
        """The session remembered for this digest, if it is fresh enough to trust."""
        if not self.hearing():
            if self._entries:
                self.forget_all()
            return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if self.clock() - entry.read_at > self.ttl_s:
            del self._entries[token_hash]
            return None
        return entry.active

    def put(self, token_hash: str, active: ActiveSession, *, generation: int) -> None:
        """Remember a session read while the cache was at `generation`; a change since then means it is not."""
        if generation != self.generation or not self.hearing():
            return
        self._entries[token_hash] = _Entry(active, self.clock())
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, token_hashes: Iterable[str]) -> None:
        """These sessions changed: read them again next time."""
        self.generation += 1
        for token_hash in token_hashes:
            if token_hash == _EVERYONE:
                self._entries.clear()
            else:
                self._entries.pop(token_hash, None)

    def forget_all(self) -> None:
        """A person or device changed, or this process may have missed changes: read every session again."""
        self.forget([_EVERYONE])

    def __len__(self) -> int:
        return len(self._entries)


def wire(db: Database, cache: SessionCache, channels: Channels | None) -> None:
    """Forget, here and in every process, the sessions a committed write transaction on `db` changed."""
    db.context[_CACHE_KEY] = _Wiring(cache, channels)
    # Changes told while the channels were away were not heard: start again from an empty cache.
    on_recovery = getattr(channels, "on_recovery", None)
    if callable(on_recovery):
        on_recovery(cache.forget_all)
    if not event.contains(Session, "after_flush", _track):
        event.listen(Session, "after_flush", _track)


async def listen(cache: SessionCache, channels: Channels, *, retry_s: float = 1.0) -> None:
    """Forget what other processes say changed, for as long as the process runs; the cache is used only while
    this listens."""
    while True:
        # The plugin starts its backend after the app's lifespan began, and says when it has.
        started: asyncio.Event | None = getattr(channels, "started", None)
        if started is not None:
            await started.wait()
        try:
            subscriber = await channels.subscribe([SESSIONS_CHANNEL])
        except Exception:  # the channels are not up yet, or their backend is away: no cache meanwhile
            _unless_stopping()
            await asyncio.sleep(retry_s)
            continue
        cache.forget_all()
        cache.listening = True
        try:
            async for message in subscriber.iter_events():
                sender, changed = _decode(message)
                if sender != cache.sender:
                    cache.forget(changed)
        except Exception:
            _unless_stopping()
            log.warning("stopped hearing staff session changes; reading every session until heard again", exc_info=True)
        finally:
            # Cancelled too (the process stops): nothing more is trusted; the plugin closes the subscription itself.
            cache.listening = False
            cache.forget_all()
        with contextlib.suppress(Exception):
            await channels.unsubscribe(subscriber)
        await asyncio.sleep(retry_s)


def _unless_stopping() -> None:
    """Go on unless the process is stopping this task: a Redis client cancelled mid-command may answer with an
    error of its own instead of the cancellation, and listening again would then wait for channels that never
    start again, holding the process's shutdown up for good."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


_CACHE_KEY = "staff_session_cache"


@dataclass(frozen=True)
class _Wiring:
    cache: SessionCache
    channels: Channels | None


def _track(session: Session, _flush_context: Any) -> None:
    wiring: _Wiring | None = session.info.get(_CACHE_KEY)
    if wiring is None or not writing(session):
        return
    changed: set[str] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, StaffSession):
            token_hash = inspect(obj).dict.get("token_hash")
            changed.add(token_hash if isinstance(token_hash, str) else _EVERYONE)
        elif isinstance(obj, (Staff, Device)):
            changed.add(_EVERYONE)
    if not changed:
        return
    pending: set[str] | None = session.info.get(_CHANGES_KEY)
    if pending is None:
        pending = session.info[_CHANGES_KEY] = set()
        session.info.setdefault("after_commit", []).append(lambda: _committed(wiring, pending))
    pending.update(changed)


async def _committed(wiring: _Wiring, changed: set[str]) -> None:
    wiring.cache.forget(changed)
    started: asyncio.Event | None = getattr(wiring.channels, "started", None)
    if wiring.channels is None or (started is not None and not started.is_set()):
        return  # no channels running in this process (a command, a test without the server): nobody to tell
    # Never raises, and an outage is logged once by the plugin: the other processes, whose channels are down too,
    # stop trusting their caches meanwhile.
    await wiring.channels.try_publish(_encode(wiring.cache.sender, changed), channels=[SESSIONS_CHANNEL])


def _encode(sender: str, changed: Iterable[str]) -> str:
    return json.dumps({"from": sender, "sessions": sorted(changed)})


def _decode(message: bytes | str) -> tuple[str, list[str]]:
    """Who sent a message and the sessions it names; a message that cannot be read forgets every session."""
    try:
        raw = json.loads(message)
        sender, changed = raw["from"], raw["sessions"]
    except (ValueError, TypeError, KeyError):
        return "", [_EVERYONE]
    if not isinstance(sender, str) or not isinstance(changed, list) or not all(isinstance(t, str) for t in changed):
        return "", [_EVERYONE]
    return sender, changed
