"""Live floor, check and menu updates: every committed change tells the tablets what to redraw.

A flush that touches a check, a line or a kitchen fire records which checks and tables it touched; once
the transaction commits, one message naming them goes out on the app's channels (in-process, or Redis
across processes). Messages carry no state, only "look again": each tablet's websocket reads the tables
fresh and sends their HTML, so messages arriving late or twice still leave every tablet right, and a
tablet that reconnects reloads its whole floor.

A menu item 86'd or back on sale (by a manager, or by a stock count), or whose portions left moved (a ring-in,
a void, a delivery, a count), goes out on the menu channel, so every order-entry screen redraws its button at
once. The kitchen says when it has made food ready (`kitchen_progressed`), so a check's screen shows it ready
without the check itself changing.

Which floor each table stands on is taken from the rows the transaction itself read (a check's table, a
table's floor, or a floor a read carried along: `tables_placed`), so most changes are published without a read of
their own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from app.floor.models import DiningTable
from app.lib.db import Database, writing
from app.lib.events import ChannelsUnavailable
from app.lib.settings import Settings
from app.menu.models import MenuItem
from app.orders import floor_queries
from app.orders.models import Check, CheckLine, KitchenFire

log = logging.getLogger(__name__)

PUBLISHER_KEY = "orders_live_publisher"
TOUCHED_KEY = "orders_live_touched"
PLACES_KEY = "orders_live_places"
PUBLISH_TIMEOUT_S = 2.0
ORIGIN_REFUSED = 4403


def floor_channel(floor_id: int) -> str:
    """The channel a floor's tablets listen on."""
    return f"floor:{floor_id}"


def check_channel(check_id: int) -> str:
    """The channel tablets showing one check listen on."""
    return f"check:{check_id}"


def menu_channel() -> str:
    """The channel every order-entry screen listens on for items 86'd and back on sale."""
    return "menu:items"


@dataclass
class Places:
    """Where the checks and tables one transaction read or wrote stand, as that transaction holds them."""

    check_tables: dict[int, int | None] = field(default_factory=dict)
    table_floors: dict[int, int] = field(default_factory=dict)


@dataclass
class Touched:
    """Checks and tables one transaction changed."""

    checks: set[int] = field(default_factory=set)
    tables: set[int] = field(default_factory=set)
    places: Places = field(default_factory=Places)
    items: set[int] = field(default_factory=set)
    kitchen: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.checks or self.tables or self.items or self.kitchen)


@dataclass(frozen=True)
class Change:
    """One live message: which tables, checks and menu items to look at again.

    `kitchen` names checks whose food the kitchen made ready (or recalled): the check itself did not change,
    so a tablet showing it must redraw whatever version it holds.
    """

    tables: frozenset[int]
    checks: frozenset[int]
    everything: bool = False
    items: frozenset[int] = frozenset()
    kitchen: frozenset[int] = frozenset()

    @classmethod
    def all(cls) -> Change:
        """Redraw everything (after the channels were down and messages may have been lost)."""
        return cls(frozenset(), frozenset(), everything=True)

    def names_check(self, check_id: int) -> bool:
        """Whether a tablet showing `check_id` must look at it again."""
        return self.everything or check_id in self.checks or check_id in self.kitchen

    def encode(self) -> str:
        """The message as sent on the channel."""
        raw: dict[str, list[int]] = {"tables": sorted(self.tables), "checks": sorted(self.checks)}
        if self.items:
            raw["items"] = sorted(self.items)
        if self.kitchen:
            raw["kitchen"] = sorted(self.kitchen)
        return json.dumps(raw)

    @classmethod
    def decode(cls, data: bytes | str) -> Change:
        """A message read back from the channel; anything malformed reads as no change."""
        try:
            raw = json.loads(data)

            def ids(name: str) -> frozenset[int]:
                return frozenset(int(i) for i in raw.get(name, []))

            return cls(ids("tables"), ids("checks"), items=ids("items"), kitchen=ids("kitchen"))
        except (ValueError, TypeError, AttributeError):
            return cls(frozenset(), frozenset())


class LivePublisher:
    """Publishes what a committed transaction touched; never lets a channel outage fail a request."""

    def __init__(self, db: Database, channels: ChannelsPlugin) -> None:
        self.db = db
        self.channels = channels

    @property
    def running(self) -> bool:
        """Whether the channels were started with the app; a process without them has no tablets to tell."""
        # The plugin creates its publish queue on startup and drops it on shutdown.
        return getattr(self.channels, "_pub_queue", None) is not None

    async def publish(self, touched: Touched) -> None:
        """Tell every tablet showing an affected floor, check or menu item to look again."""
        if not self.running or not touched:
            return
        try:
            tables, floors = await self._floors(touched) if touched.checks or touched.tables else (set(), {})
            change = Change(
                frozenset(tables),
                frozenset(touched.checks),
                items=frozenset(touched.items),
                kitchen=frozenset(touched.kitchen),
            )
            targets = [floor_channel(f) for f in sorted(set(floors.values()))]
            targets += [check_channel(c) for c in sorted(touched.checks | touched.kitchen)]
            if touched.items:
                targets.append(menu_channel())
            if targets:
                # wait_published talks to the backend directly: an error surfaces here instead of
                # silently stopping the plugin's background publisher.
                await asyncio.wait_for(
                    self.channels.wait_published(change.encode(), channels=targets), timeout=PUBLISH_TIMEOUT_S
                )
        except ChannelsUnavailable:
            pass  # the channels log an outage once when it starts and once when it ends; tablets catch up after
        except Exception:  # a live update is a courtesy; the commit already happened
            log.warning("live floor update not published; tablets catch up when they reconnect", exc_info=True)

    async def _floors(self, touched: Touched) -> tuple[set[int], dict[int, int]]:
        """The tables to redraw and the floor of each: from the transaction's own rows, else read now."""
        places = touched.places
        tables = set(touched.tables)
        unplaced = []
        for check_id in touched.checks:
            if check_id not in places.check_tables:
                unplaced.append(check_id)
            elif (table_id := places.check_tables[check_id]) is not None:
                tables.add(table_id)
        floors = {t: places.table_floors[t] for t in tables if t in places.table_floors}
        if unplaced or len(floors) < len(tables):
            async with self.db.read() as session:
                tables |= await floor_queries.tables_of_checks(session, sorted(unplaced))
                floors.update(await floor_queries.floor_of_tables(session, sorted(tables - floors.keys())))
        return tables, floors


def wire(db: Database, channels: ChannelsPlugin) -> None:
    """Publish live updates after every write transaction on `db` that touches checks."""
    db.context[PUBLISHER_KEY] = LivePublisher(db, channels)
    if not event.contains(Session, "after_flush", _track):
        event.listen(Session, "after_flush", _track)
    for model in (Check, DiningTable):
        if not event.contains(model, "load", _loaded):
            event.listen(model, "load", _loaded)
            event.listen(model, "refresh", _refreshed)


def _places(session: Session) -> Places:
    places: Places | None = session.info.get(PLACES_KEY)
    if places is None:
        places = session.info[PLACES_KEY] = Places()
    return places


def _place(session: Session | None, obj: Any) -> None:
    if session is None or session.info.get(PUBLISHER_KEY) is None or not writing(session):
        return  # only a write transaction publishes
    # What is loaded only: an event must never make the ORM go to the database.
    loaded = inspect(obj).dict
    if not isinstance(loaded.get("id"), int):
        return
    if isinstance(obj, Check) and "table_id" in loaded:
        _places(session).check_tables[loaded["id"]] = loaded["table_id"]
    elif isinstance(obj, DiningTable) and isinstance(loaded.get("floor_id"), int):
        _places(session).table_floors[loaded["id"]] = loaded["floor_id"]


def _loaded(obj: Any, context: Any) -> None:
    _place(context.session, obj)


def _refreshed(obj: Any, context: Any, _attributes: Any) -> None:
    _place(context.session, obj)


def _touched(session: Session) -> Touched | None:
    """What this write transaction touched so far; the first call arranges its publishing after the commit."""
    publisher: LivePublisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is None:
        return None
    touched: Touched | None = session.info.get(TOUCHED_KEY)
    if touched is None:
        created = touched = session.info[TOUCHED_KEY] = Touched(places=_places(session))
        # Database.write runs these after the commit, never after a rollback.
        session.info.setdefault("after_commit", []).append(lambda: publisher.publish(created))
    return touched


def kitchen_progressed(session: AsyncSession, check_id: int) -> None:
    """The kitchen made food of `check_id` ready (or took it back): tablets showing the check redraw it."""
    if not writing(session.sync_session):
        return
    touched = _touched(session.sync_session)
    if touched is not None:
        touched.kitchen.add(check_id)


def tables_changed(session: AsyncSession, table_ids: Sequence[int]) -> None:
    """Something a table shows changed outside its checks (it is now held for a party due soon, or no longer):
    tablets showing its floor redraw it."""
    if not writing(session.sync_session):
        return
    touched = _touched(session.sync_session)
    if touched is not None:
        touched.tables.update(table_ids)


def checks_written(session: AsyncSession, checks: Sequence[Check]) -> None:
    """Checks written by a statement of its own rather than a flush (a check opened in one INSERT): tablets showing
    them, or their tables, redraw them as if the flush had written them."""
    sync = session.sync_session
    if not writing(sync):
        return
    touched = _touched(sync)
    if touched is None:
        return
    for check in checks:
        if check.id is not None:
            touched.checks.add(check.id)
        if check.table_id is not None:
            touched.tables.add(check.table_id)
        _place(sync, check)


def tables_placed(session: AsyncSession, floors: Mapping[int, int]) -> None:
    """The floor of each table as a read of this write transaction found it (a column of a statement that read the
    check, say): the transaction's live update tells those floors without a read of its own."""
    sync = session.sync_session
    if sync.info.get(PUBLISHER_KEY) is None or not writing(sync):
        return
    _places(sync).table_floors.update(floors)


def _track(session: Session, _flush_context: Any) -> None:
    touched = _touched(session)
    if touched is None:
        return
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Check):
            if obj.id is not None:
                touched.checks.add(obj.id)
            touched.tables.update(_old_and_new(obj, "table_id"))
            _place(session, obj)
        elif isinstance(obj, CheckLine | KitchenFire):
            touched.checks.update(_old_and_new(obj, "check_id"))
        elif isinstance(obj, DiningTable):
            _place(session, obj)
        elif isinstance(obj, MenuItem) and obj.id is not None and _on_sale_changed(obj):
            touched.items.add(obj.id)


def _on_sale_changed(item: MenuItem) -> bool:
    """Whether an item went off sale or back on (86, un-86, archived, restored), was renamed, repriced or counted."""
    state = inspect(item)
    return any(state.attrs[name].history.has_changes() for name in _BUTTON_FIELDS)


# What an order-entry button shows of an item.
_BUTTON_FIELDS = ("eighty_sixed_at", "eighty_six_reason", "archived_at", "name", "price_cents", "portions_left")


def _old_and_new(obj: Any, attribute: str) -> set[int]:
    history = inspect(obj).attrs[attribute].history
    values = chain(history.added or (), history.deleted or (), history.unchanged or ())
    return {value for value in values if isinstance(value, int)}


def origin_allowed(socket: WebSocket[Any, Any, Any], settings: Settings) -> bool:
    """Whether a websocket comes from our own pages: its Origin must match the Host it asked for."""
    origin = socket.headers.get("origin")
    if not origin:
        return False
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc.lower() == (socket.headers.get("host") or "").lower()


Render = Callable[[Change], Awaitable[str | None]]


async def stream(
    socket: WebSocket[Any, Any, Any],
    channels: ChannelsPlugin,
    channel: str | Sequence[str],
    render: Render,
    *,
    everything: Change,
) -> None:
    """Send `render(change)` down the socket for every change on `channel` (or channels) until the tablet goes away.

    `everything` is what to redraw when the channels come back after an outage, since messages
    published meanwhile never arrived.
    """
    settings: Settings = socket.app.state.settings
    if not origin_allowed(socket, settings):
        await socket.close(code=ORIGIN_REFUSED, reason="cross-origin websocket refused")
        return

    async def send(change: Change) -> None:
        try:
            html = await render(change)
            if html:
                await socket.send_text(html)
        except Exception:  # one bad update must not end the stream; the next one redraws again
            log.warning("live update to a tablet failed", exc_info=True)

    async def on_event(data: bytes) -> None:
        await send(Change.decode(data))

    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[None]] = set()

    def recovered() -> None:
        def redraw() -> None:
            future = asyncio.ensure_future(send(everything))
            pending.add(future)
            future.add_done_callback(pending.discard)

        loop.call_soon_threadsafe(redraw)

    # Channels that survive a Redis outage say when events flow again (duck-typed: orders knows no kds).
    on_recovery = getattr(channels, "on_recovery", None)
    forget = on_recovery(recovered) if callable(on_recovery) else None
    try:
        # Subscribe before accepting: the tablet reloads its view when the socket opens, so nothing
        # committed after that reload can be missed.
        names = [channel] if isinstance(channel, str) else list(channel)
        async with channels.start_subscription(names) as subscriber:
            await socket.accept()
            async with subscriber.run_in_background(on_event):
                while (await socket.receive())["type"] != "websocket.disconnect":
                    continue
    finally:
        if callable(forget):
            forget()
