"""The per-process memory of who is behind a login cookie: how long it trusts an answer, and when it forgets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.staff.models import Staff
from app.staff.permissions import Role
from app.staff.session_cache import SessionCache, _decode, _encode, listen
from app.staff.sessions import ActiveSession


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


AT = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
STAFF = Staff(id=7, name="Server One", role=Role.SERVER, pin_lookup="x", pin_hash="y")
SESSIONS = {n: ActiveSession(n, STAFF, 3, AT, AT) for n in (1, 2)}


def _active(session_id: int = 1) -> ActiveSession:
    return SESSIONS[session_id]


def _listening(clock: Clock | None = None) -> SessionCache:
    cache = SessionCache(clock=clock or Clock())
    cache.listening = True
    return cache


def test_an_answer_is_trusted_for_the_ttl_and_then_read_again() -> None:
    clock = Clock()
    cache = _listening(clock)
    cache.put("a", _active(), generation=cache.generation)
    assert cache.get("a") == _active()
    clock.now += cache.ttl_s
    assert cache.get("a") == _active(), "still fresh at exactly the TTL"
    clock.now += 0.01
    assert cache.get("a") is None, "too old: read from the database again"
    assert len(cache) == 0


def test_a_lookup_that_began_before_a_change_is_not_remembered_after_it() -> None:
    cache = _listening()
    before = cache.generation
    cache.forget(["a"])  # a logout committed while the lookup was on its way
    cache.put("a", _active(), generation=before)
    assert cache.get("a") is None


def test_forgetting_one_session_keeps_the_others_and_everyone_forgets_all() -> None:
    cache = _listening()
    cache.put("a", _active(1), generation=cache.generation)
    cache.put("b", _active(2), generation=cache.generation)
    cache.forget(["a"])
    assert cache.get("a") is None
    assert cache.get("b") == _active(2)
    cache.put("a", _active(1), generation=cache.generation)
    cache.forget_all()
    assert cache.get("a") is None
    assert cache.get("b") is None


def test_nothing_is_trusted_while_the_process_does_not_hear_the_others() -> None:
    healthy = [True]
    cache = SessionCache(healthy=lambda: healthy[0])
    cache.put("a", _active(), generation=cache.generation)
    assert cache.get("a") is None, "not listening yet: nothing remembered"
    cache.listening = True
    cache.put("a", _active(), generation=cache.generation)
    assert cache.get("a") == _active()
    healthy[0] = False  # Redis went away: another process's logout would not be heard
    assert cache.get("a") is None
    healthy[0] = True
    assert cache.get("a") is None, "what was remembered before the outage is gone"


def test_the_oldest_entries_make_room() -> None:
    cache = _listening()
    cache.max_entries = 2
    for name in ("a", "b", "c"):
        cache.put(name, _active(), generation=cache.generation)
    assert len(cache) == 2
    assert cache.get("a") is None
    assert cache.get("c") == _active()


def test_a_message_names_its_sender_and_a_malformed_one_forgets_everyone() -> None:
    assert _decode(_encode("p1", ["b", "a"])) == ("p1", ["a", "b"])
    assert _decode("not json") == ("", ["*"])
    assert _decode('["a", "b"]') == ("", ["*"])
    assert _decode('{"from": "p1", "sessions": [1, 2]}') == ("", ["*"])
    assert _decode(b'{"from": "p1"}') == ("", ["*"])


class _SwallowingChannels:
    """Channels whose client answers a cancellation with an error of its own, as a Redis client mid-command may."""

    def __init__(self, *, fail_subscribing: bool) -> None:
        self.started = asyncio.Event()
        self.started.set()
        self.fail_subscribing = fail_subscribing
        self.waiting = asyncio.Event()

    async def _wait_then_fail(self) -> None:
        self.waiting.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise ConnectionError("Connection closed by server.") from None

    async def subscribe(self, channels: list[str]) -> Any:
        if self.fail_subscribing:
            await self._wait_then_fail()
        return self

    async def iter_events(self) -> AsyncIterator[bytes]:
        await self._wait_then_fail()
        yield b""

    async def unsubscribe(self, subscriber: Any) -> None:
        return None


@pytest.mark.parametrize("fail_subscribing", [True, False])
async def test_listening_stops_when_cancelled_even_if_the_client_answers_with_an_error(fail_subscribing: bool) -> None:
    channels = _SwallowingChannels(fail_subscribing=fail_subscribing)
    cache = SessionCache()
    task = asyncio.create_task(listen(cache, channels, retry_s=0.01))
    await asyncio.wait_for(channels.waiting.wait(), timeout=2)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done, "the listener went on after it was cancelled: the process could never stop"
    assert task.cancelled()
    assert not cache.listening
