"""Live boards: ticket changes become card messages on each station's channel, exactly as durable as the tickets.

A change to tickets enqueues a "kds.push" outbox message in the same transaction; its deliverer
renders the cards from the database as they are now and publishes them (a push owed by a fire's routing
is rendered in the routing transaction and published as soon as it commits). A card message replaces
the card with the same id, and carries the ticket's version, so a screen that gets it twice, or
late, never shows a duplicate or goes back in time. Every connecting screen first gets its whole
board; screens of a process whose channels lost Redis get their whole board again when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen import queries
from app.kitchen.events import KitchenTicketsChanged
from app.kitchen.models import Station
from app.lib import outbox, web
from app.lib.clock import utcnow
from app.lib.outbox import OutboxMessage, RetryLater
from app.lib.settings import Settings
from kds.channels import ResilientChannelsPlugin

log = logging.getLogger(__name__)

PUSH_TOPIC = "kds.push"
BROADCAST_CHANNEL = "kds.all"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def station_channel(station_id: int) -> str:
    """The channel a station's screens listen on."""
    return f"kds.station.{station_id}"


class CardRenderer:
    """Renders cards and boards with the same templates the board page uses."""

    def __init__(self, settings: Settings) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), auto_reload=False
        )
        self.env.filters["local_time"] = lambda value, fmt="%H:%M": web.local_time(value, settings.timezone, fmt)

    def card(self, ticket: queries.TicketView, station: queries.StationView) -> str:
        """One ticket card."""
        return self.env.get_template("kds/_ticket.html").render(ticket=ticket, station=station)

    def board(self, board: queries.BoardView) -> str:
        """The cards of a whole board."""
        return self.env.get_template("kds/_cards.html").render(board=board, station=board.station)

    def all_day(self, board: queries.BoardView) -> str:
        """A board's all-day counts."""
        return self.env.get_template("kds/_all_day.html").render(board=board)


def card_message(ticket: queries.TicketView, html: str) -> dict[str, Any]:
    """A card update: the screen replaces the card with this id unless it holds a newer version."""
    return {
        "type": "card",
        "id": ticket.dom_id,
        "version": ticket.version,
        "open": ticket.is_open,
        "sort": ticket.sort_key,
        "html": html if ticket.is_open else "",
    }


def board_message(board: queries.BoardView, renderer: CardRenderer) -> dict[str, Any]:
    """A whole board, sent first on every (re)connect."""
    return {
        "type": "board",
        "station": board.station.id,
        "html": renderer.board(board),
        "all_day": renderer.all_day(board),
        "can_recall": board.can_recall,
        "at": utcnow().isoformat(),
    }


class Publisher:
    """The "kds.push" deliverer: renders the changed cards and publishes them to their stations.

    A push owed by the dispatcher's own delivery (a fire's routing) is rendered in that transaction, from the
    tickets it holds, and published as soon as it commits; its delivery then only marks it delivered.
    """

    EARLY_KEPT = 1000
    EARLY_WAIT_S = 2.0

    def __init__(self, channels: Any, settings: Settings) -> None:
        self.channels = channels
        self.renderer = CardRenderer(settings)
        self._failed = False
        # push message (id, created: an id written by a rolled-back transaction comes again) → whether its cards were
        # published right after the commit that wrote it (unset until then)
        self._early: dict[tuple[int, datetime], asyncio.Future[bool]] = {}

    async def on_tickets_changed(self, session: AsyncSession, event: KitchenTicketsChanged) -> None:
        """Subscriber: owe the screens these tickets; when the dispatcher is the writer, render them now."""
        message = await outbox.enqueue(session, PUSH_TOPIC, {"tickets": list(event.ticket_ids)})
        if message is None or message.claimed_by is None:
            return
        cards = await self.card_messages(session, event.ticket_ids)
        message_id = message.id or 0
        published = asyncio.get_running_loop().create_future()

        async def publish_early() -> None:
            ok = False
            try:
                ok = not self._failed and await self._publish_all(cards)
            finally:
                published.set_result(ok)

        if outbox.when_committed(session, message, publish_early):
            self._early[(message_id, message.created_at)] = published
            while len(self._early) > self.EARLY_KEPT:
                del self._early[next(iter(self._early))]

    async def deliver(self, session: AsyncSession, message: OutboxMessage) -> None:
        """Publish every card of the message; a failed publish leaves the message to be delivered again."""
        early = self._early.pop((message.id or 0, message.created_at), None)
        if early is not None:
            # Published right after the commit that wrote the message, from the cards that commit held. Another
            # pass of this dispatcher may take the message between that commit and the publish: it waits for it.
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(asyncio.shield(early), timeout=self.EARLY_WAIT_S):
                    return
        ids = [int(i) for i in message.payload.get("tickets", [])]
        messages = await self.card_messages(session, ids)
        if self._failed:
            # events were lost while the backend was away: every screen redraws its board
            if not await self._publish({"type": "resync"}, BROADCAST_CHANNEL):
                raise RetryLater("event channels are unavailable", delay=1.0)
            self._failed = False
        if not await self._publish_all(messages):
            raise RetryLater("event channels are unavailable", delay=1.0)

    async def _publish_all(self, messages: dict[str, list[dict[str, Any]]]) -> bool:
        for channel, payloads in messages.items():
            for payload in payloads:
                if not await self._publish(payload, channel):
                    self._failed = True
                    return False
        return True

    async def card_messages(self, session: AsyncSession, ticket_ids: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
        """Card messages per channel for these tickets, rendered as the transaction sees them now."""
        views = await queries.ticket_views(session, ticket_ids)
        held = queries.held_tickets(session, ticket_ids)
        if held is not None:
            stations = {station.id: queries.station_view(station) for _ticket, _lines, station in held}
        else:
            station_ids = {view.station_id for view in views}
            stations = {
                s.id: queries.station_view(s)
                for s in (await session.exec(select(Station).where(col(Station.id).in_(station_ids)))).all()
            }
        result: dict[str, list[dict[str, Any]]] = {}
        for view in views:
            station = stations.get(view.station_id)
            if station is None:
                continue
            html = self.renderer.card(view, station) if view.is_open else ""
            result.setdefault(station_channel(view.station_id), []).append(card_message(view, html))
        return result

    async def _publish(self, payload: dict[str, Any], channel: str) -> bool:
        data = json.dumps(payload)
        if isinstance(self.channels, ResilientChannelsPlugin):
            return await self.channels.try_publish(data, channel)
        try:
            await self.channels.wait_published(data, channel)
        except Exception:
            log.exception("publishing to %s failed", channel)
            return False
        return True


def wire(runtime: Any) -> None:
    """Kitchen screens follow the tickets: changes enqueue pushes, the dispatcher publishes them."""
    publisher = Publisher(runtime.channels, runtime.settings)
    runtime.bus.subscribe(KitchenTicketsChanged, publisher.on_tickets_changed)
    runtime.dispatcher.register(PUSH_TOPIC, publisher.deliver)
