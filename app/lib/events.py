"""Typed domain events and the bus that hands them to subscribers inside the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, named in the restaurant's words, defined by the domain that owns it."""

    name: ClassVar[str] = "event"


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]


class EventBus:
    """Subscribers run in the emitting transaction, so their writes commit or roll back with it."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
        """Call `handler(session, event)` for every `event_type` emitted."""
        self._handlers[event_type].append(handler)

    async def emit(self, session: AsyncSession, event: DomainEvent) -> None:
        """Hand `event` to its subscribers, in subscription order."""
        for handler in self._handlers.get(type(event), []):
            await handler(session, event)


async def emit(session: AsyncSession, event: DomainEvent) -> None:
    """Emit `event` on the bus the session's database was wired with (none wired: nobody listens)."""
    bus: EventBus | None = session.info.get("bus")
    if bus is not None:
        await bus.emit(session, event)


class ChannelsUnavailable(Exception):
    """The live event channels' backend (Redis) is away: a publish was lost.

    The channels log the outage once when it starts and once when it ends, with how many publishes it cost,
    so a caller that can live without the message need not log it again.
    """
