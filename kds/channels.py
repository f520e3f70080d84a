"""Litestar channels that survive their backend going away (a Redis restart) and say when they are back.

The stock plugin has two weak spots on Redis: its publish task ends at the first failed
publish, so every later `publish()` is silently lost; and its subscriber task ends when the
connection drops, so no event reaches this process again. Here both tasks keep going, the
subscriber reconnects with backoff (redis-py re-subscribes on reconnect), and listeners are
told when events flow again, so screens can redraw whatever they missed meanwhile.

An outage is logged twice: one warning when the backend is lost, and one when events flow again,
saying how long it lasted and how many publishes failed in between. The failures themselves are
counted, not logged: a Redis restart during service would otherwise write a traceback per event.

Subscribing is also one at a time: redis-py's PubSub opens its connection on the first subscribe,
and two screens subscribing at once (every screen reconnects together after a restart) each open
one; the second replaces the first, whose channels then hear nothing, silently, for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.types import LitestarEncodableType

from app.lib.events import ChannelsUnavailable

log = logging.getLogger(__name__)

RecoveryListener = Callable[[], None]


class ResilientChannelsPlugin(ChannelsPlugin):
    """ChannelsPlugin whose publisher and subscriber outlive backend errors."""

    max_backoff_s = 5.0
    publish_timeout_s = 2.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # `healthy`: this process's subscription hears events (screens are told when it does not);
        # `link_down`: the backend failed and has not answered since, for the two log lines of an outage
        self.healthy = True
        self.link_down = False
        self.outages = 0
        # what the current outage has cost so far, for the line that says it is over
        self.failed_publishes = 0
        self.reconnect_attempts = 0
        self._lost_at = 0.0
        self._listeners: set[RecoveryListener] = set()
        self._subscribing = asyncio.Lock()
        # set once the backend is up, for the process's own subscribers that start with the app
        self.started = asyncio.Event()

    async def subscribe(self, channels: str | Iterable[str], history: int | None = None) -> Subscriber:
        """Subscribe, one subscriber at a time (see the module's note on redis-py's PubSub)."""
        async with self._subscribing:
            return await super().subscribe(channels, history)

    async def unsubscribe(self, subscriber: Subscriber, channels: str | Iterable[str] | None = None) -> None:
        """Unsubscribe, one at a time, like `subscribe`."""
        async with self._subscribing:
            await super().unsubscribe(subscriber, channels)

    def on_recovery(self, listener: RecoveryListener) -> Callable[[], None]:
        """Call `listener` each time events flow again after an outage; returns a function that stops that."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    async def wait_published(self, data: LitestarEncodableType, channels: str | Iterable[str]) -> None:
        """Publish now; ChannelsUnavailable (the outage counted and logged here, once) if the backend is away."""
        try:
            await super().wait_published(data, channels)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._link_failed(exc, publish=True)
            raise ChannelsUnavailable(f"event channels are unavailable: {exc!r}") from exc
        self._link_back()

    async def try_publish(self, data: LitestarEncodableType, channels: str | Iterable[str]) -> bool:
        """Publish now and say whether the backend took it (never raises; gives up after `publish_timeout_s`)."""
        try:
            await asyncio.wait_for(self.wait_published(data, channels), self.publish_timeout_s)
        except ChannelsUnavailable:  # counted by wait_published; the caller decides what a lost event costs
            return False
        except Exception as exc:
            self._link_failed(exc, publish=True)
            return False
        return True

    def _link_failed(self, exc: BaseException, *, publish: bool) -> None:
        """Count a failure; the first one of an outage is logged, the others only counted."""
        if not self.link_down:
            self.link_down = True
            self.outages += 1
            self.failed_publishes = 0
            self.reconnect_attempts = 0
            self._lost_at = time.monotonic()
            log.warning("event channels lost their backend: %r; events are retried quietly until it is back", exc)
        if publish:
            self.failed_publishes += 1
        else:
            self.reconnect_attempts += 1

    def _link_back(self) -> None:
        """The backend answered again: say so once, with what the outage cost."""
        if not self.link_down:
            return
        self.link_down = False
        log.warning(
            "event channels are back after %.1f s without their backend: %d publishes failed and the "
            "subscription was retried %d times meanwhile",
            time.monotonic() - self._lost_at,
            self.failed_publishes,
            self.reconnect_attempts,
        )

    def _recovered(self) -> None:
        self._link_back()
        if self.healthy:
            return
        self.healthy = True
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a channels recovery listener failed")

    def _lost(self, exc: BaseException, *, publish: bool = False) -> None:
        self._link_failed(exc, publish=publish)
        self.healthy = False

    async def _backend_answers(self) -> None:
        """Raise unless the backend answers now (a Redis PING); an in-memory backend always does."""
        redis = getattr(self._backend, "_redis", None)
        if redis is not None:
            await redis.ping()

    async def close_backend(self) -> None:
        """Close the backend's connections (the stock shutdown leaves the Redis publishing pool open)."""
        redis = getattr(self._backend, "_redis", None)
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def _on_startup(self) -> None:
        await super()._on_startup()
        self.started.set()

    async def _on_shutdown(self) -> None:
        self.started.clear()
        await super()._on_shutdown()
        await self.close_backend()

    async def _pub_worker(self) -> None:
        while self._pub_queue:
            data, channels = await self._pub_queue.get()
            try:
                await self._backend.publish(data, channels)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lost(exc, publish=True)
            finally:
                self._pub_queue.task_done()

    async def _sub_worker(self) -> None:
        delay = 0.1
        while True:
            try:
                if not self.healthy:
                    # Re-subscribing reconnects, or raises while the backend is still away; with nothing to
                    # subscribe to, a PING says whether it is back.
                    async with self._subscribing:
                        channels = [name for name, subscribers in self._channels.items() if subscribers]
                        if channels:
                            await self._backend.subscribe(channels)
                        else:
                            await self._backend_answers()
                    self._recovered()
                    delay = 0.1
                async for channel, payload in self._backend.stream_events():
                    for subscriber in self._channels.get(channel, []):
                        subscriber.put_nowait(payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lost(exc)
                await asyncio.sleep(delay)
                delay = min(self.max_backoff_s, delay * 2)
