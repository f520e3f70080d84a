"""Kitchen display pages and their websocket: station and expo boards, bump, recall, reprint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath
from litestar.response import Template

from app.kitchen import bumping, queries
from app.lib import web
from app.lib.clock import utcnow
from app.lib.db import Database, Turn
from app.lib.errors import NotFound
from app.lib.settings import Settings
from app.staff import services as staff_services
from app.staff.auth import SESSION_COOKIE, Viewer
from app.staff.permissions import Perm
from kds.channels import ResilientChannelsPlugin
from kds.live import BROADCAST_CHANNEL, CardRenderer, board_message, station_channel

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
SESSION_CHECK_SECONDS = 30.0
_RESYNC = "resync"


def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    user: Viewer = request.user
    return user


@get("/kds", permission=Perm.KITCHEN_VIEW, include_in_schema=False)
async def kds_index(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Pick a board: each station and expo, with how many tickets are open there."""
    async with db.read() as session:
        stations = await queries.live_stations(session)
        counts = await queries.open_ticket_counts(session)
    return web.page(request, "kds/index.html", stations=stations, counts=counts)


@get("/kds/{station_id:int}", permission=Perm.KITCHEN_VIEW, include_in_schema=False)
async def kds_board(request: Request[Any, Any, Any], db: web.Db, station_id: FromPath[int]) -> Template:
    """A station's (or expo's) board at 1920 x 1080; the websocket keeps it live."""
    async with db.read() as session:
        board = await queries.board(session, station_id)
        stations = await queries.live_stations(session)
    if board is None:
        raise NotFound("That station does not exist or is archived.")
    return web.page(
        request,
        "kds/board.html",
        fragment="kds/_cards.html",
        board=board,
        station=board.station,
        stations=stations,
        heartbeat_s=HEARTBEAT_SECONDS,
        timezone=request.app.state.settings.timezone,
    )


@get("/kds/ping", permission=Perm.KITCHEN_VIEW, include_in_schema=False)
async def kds_ping() -> dict[str, str]:
    """The screen's keep-alive: keeps a kitchen screen's session from idling out, and gives the server's clock."""
    return {"now": utcnow().isoformat()}


@post("/kds/tickets/{ticket_id:int}/bump", permission=Perm.KITCHEN_BUMP, include_in_schema=False)
async def kds_bump_ticket(request: Request[Any, Any, Any], db: web.Db, ticket_id: FromPath[int]) -> Response[Any]:
    """Bump a whole ticket (at expo: the order is ready to run)."""
    async with db.write(turn=Turn.KITCHEN) as session:
        changed = await bumping.bump_ticket(session, ticket_id, staff_id=_viewer(request).staff.id)
    return Response(content={"changed": changed}, status_code=200)


@post("/kds/items/{line_id:int}/bump", permission=Perm.KITCHEN_BUMP, include_in_schema=False)
async def kds_bump_item(request: Request[Any, Any, Any], db: web.Db, line_id: FromPath[int]) -> Response[Any]:
    """Bump one item on a ticket."""
    async with db.write(turn=Turn.KITCHEN) as session:
        changed = await bumping.bump_item(session, line_id, staff_id=_viewer(request).staff.id)
    return Response(content={"changed": changed}, status_code=200)


@post("/kds/{station_id:int}/recall", permission=Perm.KITCHEN_BUMP, include_in_schema=False)
async def kds_recall(request: Request[Any, Any, Any], db: web.Db, station_id: FromPath[int]) -> Response[Any]:
    """Bring back the ticket this station bumped last."""
    async with db.write(turn=Turn.KITCHEN) as session:
        ticket = await bumping.recall_last(session, station_id, staff_id=_viewer(request).staff.id)
    return Response(content={"recalled": ticket.id}, status_code=200)


@post("/kds/tickets/{ticket_id:int}/reprint", permission=Perm.KITCHEN_VIEW, include_in_schema=False)
async def kds_reprint(request: Request[Any, Any, Any], db: web.Db, ticket_id: FromPath[int]) -> Template:
    """Print a ticket again, marked REPRINT."""
    async with db.write(turn=Turn.KITCHEN) as session:
        ticket = await bumping.request_reprint(session, ticket_id, staff_id=_viewer(request).staff.id)
    return Template(
        template_name="_flash.html",
        context={"message": f"Reprinting {ticket.table_label}.", "level": "info"},
        headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
    )


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: list[str]) -> bool:
    """Whether a websocket's Origin is this site (or one the settings allow); a missing Origin is refused."""
    if not origin or not host:
        return False
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    expected = "https" if scheme == "wss" else "http"
    return parts.scheme == expected and parts.netloc.lower() == host.lower()


def _renderer(socket: WebSocket[Any, Any, Any]) -> CardRenderer:
    state = socket.app.state
    renderer: CardRenderer | None = state.get("kds_renderer")
    if renderer is None:
        renderer = CardRenderer(state.settings)
        state.kds_renderer = renderer
    return renderer


@websocket("/kds/ws/{station_id:int}", permission=Perm.KITCHEN_VIEW)
async def kds_socket(socket: WebSocket[Any, Any, Any], station_id: FromPath[int]) -> None:
    """A board's live feed: the whole board first, then updates, heartbeats, and the whole board after an outage."""
    settings: Settings = socket.app.state.settings
    user = socket.scope.get("user")
    if not isinstance(user, Viewer) or not user.can(Perm.KITCHEN_VIEW):
        await socket.close(code=4403, reason="not allowed")
        return
    if not origin_allowed(
        socket.headers.get("origin"), socket.headers.get("host"), socket.url.scheme, settings.allowed_origins
    ):
        await socket.close(code=4403, reason="origin refused")
        return
    db: Database = socket.app.state.db
    async with db.read() as session:
        board = await queries.board(session, station_id)
    if board is None:
        await socket.close(code=4404, reason="no such station")
        return
    await socket.accept()
    feed = BoardFeed(socket, db, station_id, _renderer(socket), socket.app.state.channels)
    feed.session_check = _session_check(socket, settings)
    await feed.run()


def _session_check(socket: WebSocket[Any, Any, Any], settings: Settings) -> Callable[[], Awaitable[bool]]:
    """Whether the screen's login is still alive (locked, logged out or expired ends the feed)."""
    # Sessions are found by their token's digest, as the login middleware finds them.
    token_hash = staff_services.hash_token(socket.cookies.get(SESSION_COOKIE, ""))
    db: Database = socket.app.state.db

    async def alive() -> bool:
        async with db.read() as session:
            active = await staff_services.active_session(
                session,
                token_hash,
                idle=timedelta(seconds=settings.idle_lock_seconds),
                max_age=timedelta(hours=settings.session_max_hours),
            )
        return active is not None

    return alive


class BoardFeed:
    """One connected screen: a single sender drains a queue fed by the channel, heartbeats and resyncs."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], db: Database, station_id: int, renderer: CardRenderer, channels: Any
    ) -> None:
        self.socket = socket
        self.db = db
        self.station_id = station_id
        self.renderer = renderer
        self.channels = channels
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.session_check: Callable[[], Awaitable[bool]] | None = None

    @property
    def live(self) -> bool:
        """Whether events reach this process now."""
        return bool(getattr(self.channels, "healthy", True))

    async def run(self) -> None:
        """Serve the screen until it disconnects."""
        stop_listening = None
        if isinstance(self.channels, ResilientChannelsPlugin):
            stop_listening = self.channels.on_recovery(lambda: self.queue.put_nowait(_RESYNC))
        subscriber = None
        tasks: list[asyncio.Task[None]] = []
        try:
            if self.live:
                try:
                    subscriber = await self.channels.subscribe([station_channel(self.station_id), BROADCAST_CHANNEL])
                except Exception as exc:
                    log.warning("board %s could not subscribe: %r", self.station_id, exc)
            await self.send_board()
            if subscriber is None:
                # without a subscription the screen would look live and stay still: say so, and let it retry
                await self.send({"type": "heartbeat", "at": utcnow().isoformat(), "live": False})
                await self.socket.close(code=1013, reason="events unavailable; reconnect")
                return
            tasks = [
                asyncio.create_task(self._forward(subscriber)),
                asyncio.create_task(self._heartbeat()),
                asyncio.create_task(self._receive()),
                asyncio.create_task(self._send_queued()),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if stop_listening is not None:
                stop_listening()
            if subscriber is not None:
                with contextlib.suppress(Exception):
                    await self.channels.unsubscribe(subscriber)

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one message to the screen."""
        await self.socket.send_text(json.dumps(payload))

    async def send_board(self) -> None:
        """The whole board as it is in the database now."""
        async with self.db.read() as session:
            board = await queries.board(session, self.station_id)
        if board is None:
            await self.socket.close(code=4404, reason="station archived")
            return
        await self.send(board_message(board, self.renderer))

    async def _forward(self, subscriber: Any) -> None:
        async for event in subscriber.iter_events():
            text = event.decode() if isinstance(event, bytes) else str(event)
            self.queue.put_nowait(_RESYNC if '"type": "resync"' in text[:40] else text)

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        next_check = loop.time() + SESSION_CHECK_SECONDS
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if self.session_check is not None and loop.time() >= next_check:
                next_check = loop.time() + SESSION_CHECK_SECONDS
                if not await self.session_check():
                    # the screen's page asks for a PIN when it cannot reconnect
                    await self.socket.close(code=4401, reason="session ended")
                    return
            self.queue.put_nowait(json.dumps({"type": "heartbeat", "at": utcnow().isoformat(), "live": self.live}))

    async def _receive(self) -> None:
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                asked = json.loads(str(message.get("text") or "{}")).get("type")
            except (ValueError, AttributeError):
                continue
            if asked == _RESYNC:
                self.queue.put_nowait(_RESYNC)

    async def _send_queued(self) -> None:
        while True:
            item = await self.queue.get()
            if item == _RESYNC:
                await self.send_board()
            else:
                await self.socket.send_text(item)


ROUTES: list[Any] = [
    kds_index,
    kds_ping,
    kds_board,
    kds_bump_ticket,
    kds_bump_item,
    kds_recall,
    kds_reprint,
    kds_socket,
]
