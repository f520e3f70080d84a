"""Litestar channels that survive their backend going away (a Redis restart) and say when they are back.

The stock plugin has two weak spots on Redis: its publish task ends at the first failed
publish, so every later `publish()` is silently lost; and its subscriber task ends when the
connection drops, so no event reaches this process again. Here both tasks keep going, the
subscriber reconnects with backoff (redis-py re-subscribes on reconnect), and listeners are
told when events flow again, so screens can redraw whatever they missed meanwhile.

Subscribing is also one at a time: redis-py's PubSub opens its connection on the first subscribe,
and two screens subscribing at once (every screen reconnects together after a restart) each open
one; the second replaces the first, whose channels then hear nothing, silently, for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.types import LitestarEncodableType

log = logging.getLogger(__name__)

RecoveryListener = Callable[[], None]


class ResilientChannelsPlugin(ChannelsPlugin):
    """ChannelsPlugin whose publisher and subscriber outlive backend errors."""

    max_backoff_s = 5.0
    publish_timeout_s = 2.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.healthy = True
        self.outages = 0
        self._listeners: set[RecoveryListener] = set()
        self._subscribing = asyncio.Lock()

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

    async def try_publish(self, data: LitestarEncodableType, channels: str | Iterable[str]) -> bool:
        """Publish now and say whether the backend took it (never raises; gives up after `publish_timeout_s`)."""
        try:
            await asyncio.wait_for(self.wait_published(data, channels), self.publish_timeout_s)
        except Exception as exc:  # the caller decides what a lost event costs
            log.warning("publishing to %s failed: %r", channels, exc)
            return False
        return True

    def _recovered(self) -> None:
        if self.healthy:
            return
        self.healthy = True
        log.warning("event channels are back after an outage")
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a channels recovery listener failed")

    def _lost(self, exc: BaseException) -> None:
        if self.healthy:
            self.outages += 1
            log.warning("event channels lost their backend: %r", exc)
        self.healthy = False

    async def close_backend(self) -> None:
        """Close the backend's connections (the stock shutdown leaves the Redis publishing pool open)."""
        redis = getattr(self._backend, "_redis", None)
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def _on_shutdown(self) -> None:
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
                self._lost(exc)
            finally:
                self._pub_queue.task_done()

    async def _sub_worker(self) -> None:
        delay = 0.1
        while True:
            try:
                if not self.healthy:
                    # Re-subscribing reconnects, or raises while the backend is still away.
                    async with self._subscribing:
                        channels = [name for name, subscribers in self._channels.items() if subscribers]
                        if channels:
                            await self._backend.subscribe(channels)
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
