"""create_app(settings): the one place that wires plugins, routes, subscribers and workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File, Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig

import kds.controllers as kds_controllers
import kds.live as kds_live
import printers.queue as print_queue
import printers.worker as print_worker
from app.accounting import controllers as accounting_controllers
from app.api import controllers as api_controllers
from app.checks import controllers as checks_controllers
from app.checks import delivery as checks_delivery
from app.closes import controllers as closes_controllers
from app.closes import mappings as closes_mappings
from app.closes import postings as closes_postings
from app.closes import promotion_controllers as closes_promotion_controllers
from app.closes import queries as closes_queries
from app.floor import controllers as floor_controllers
from app.giftcards import api as giftcards_api
from app.giftcards import controllers as giftcards_controllers
from app.giftcards import services as giftcards_services
from app.group import api as group_api
from app.group import books_controllers as group_books_controllers
from app.group import catalog_controllers as group_catalog_controllers
from app.group import controllers as group_controllers
from app.group import posting_worker as group_posting
from app.group import reports_controllers as group_reports_controllers
from app.guests import api as guests_api
from app.guests import controllers as guests_controllers
from app.house_accounts import controllers as house_accounts_controllers
from app.inventory import controllers as inventory_controllers
from app.inventory import portions as inventory_portions
from app.invoices import api as invoices_api
from app.invoices import controllers as invoices_controllers
from app.invoices import services as invoices_services
from app.kitchen import controllers as kitchen_controllers
from app.kitchen import services as kitchen_services
from app.lib import forms, headers, heap, web
from app.lib.db import Database
from app.lib.errors import DomainError
from app.lib.events import EventBus
from app.lib.outbox import OutboxDispatcher
from app.lib.settings import Settings
from app.menu import controllers as menu_controllers
from app.orders import controllers as orders_controllers
from app.orders import live as orders_live
from app.orders import occupancy as orders_occupancy
from app.orders import pacing as orders_pacing
from app.promotions import controllers as promotions_controllers
from app.purchasing import controllers as purchasing_controllers
from app.reservations import api as reservations_api
from app.reservations import controllers as reservations_controllers
from app.reservations import services as reservations_services
from app.staff import controllers as staff_controllers
from app.staff import session_cache as staff_session_cache
from app.staff.auth import BrigadeAuthMiddleware, permission_guard
from app.staff.session_cache import SessionCache
from app.sync import capture as sync_capture
from app.sync import catalog as sync_catalog
from app.sync import controllers as sync_controllers
from app.sync import sender as sync_sender
from kds.channels import ResilientChannelsPlugin

log = logging.getLogger("brigade")

PUBLIC_SCHEMA_PATH = "/schema"
ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


@dataclass
class Runtime:
    """The long-lived pieces one process shares: database, event bus, outbox dispatcher."""

    settings: Settings
    db: Database
    bus: EventBus
    dispatcher: OutboxDispatcher
    channels: ResilientChannelsPlugin
    session_cache: SessionCache
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_runtime(settings: Settings) -> Runtime:
    """Wire the database with its event subscribers and outbox deliverers (used by the app and the CLI)."""
    bus = EventBus()
    db = Database(settings.resolved_database_url(), echo=False)
    dispatcher = OutboxDispatcher(db, poll_seconds=settings.outbox_poll_seconds)
    db.context.update({"bus": bus, "outbox_wake": dispatcher.wake, "settings": settings})
    channels = channels_plugin(settings)
    # Trusted only while this process's channels hear the others' changes (see app/staff/session_cache.py).
    session_cache = SessionCache(healthy=lambda: bool(getattr(channels, "healthy", True)))
    runtime = Runtime(
        settings=settings, db=db, bus=bus, dispatcher=dispatcher, channels=channels, session_cache=session_cache
    )
    _wire(runtime)
    return runtime


def _wire(runtime: Runtime) -> None:
    """Event subscribers (same transaction) and outbox deliverers (after commit), domain by domain."""
    # One line per domain: its subscriptions on runtime.bus, its topics on runtime.dispatcher.
    orders_live.wire(runtime.db, runtime.channels)
    staff_session_cache.wire(runtime.db, runtime.session_cache, runtime.channels)
    orders_occupancy.wire(runtime.bus)
    inventory_portions.wire(runtime.bus)
    checks_delivery.wire(runtime)
    runtime.dispatcher.register(kitchen_services.FIRE_TOPIC, kitchen_services.deliver_fire)
    runtime.dispatcher.register(orders_pacing.PACE_TOPIC, orders_pacing.deliver_pace)
    kds_live.wire(runtime)
    print_queue.wire(runtime)
    closes_postings.wire(runtime)
    closes_mappings.wire(runtime.bus)
    invoices_services.wire(runtime.bus)
    giftcards_services.wire(runtime.bus)
    closes_queries.wire(runtime.db)
    reservations_services.wire(runtime.bus, runtime.db)
    sync_capture.wire(runtime)


def channels_plugin(settings: Settings) -> ResilientChannelsPlugin:
    """Litestar channels: in-process, or on Redis when BRIGADE_REDIS_URL is set (several processes)."""
    if settings.redis_url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        backend: Any = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = MemoryChannelsBackend()
    # survives a Redis restart and says when events flow again (see kds/channels.py)
    return ResilientChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)


def _template_engine(settings: Settings) -> JinjaTemplateEngine:
    engine = JinjaTemplateEngine(directory=TEMPLATES)
    env = engine.engine
    # A served template changes with a new release, which restarts the process: checking each file's time on every
    # render (Jinja's default) is for development.
    env.auto_reload = settings.debug
    env.filters["money"] = web.money
    env.filters["local_time"] = lambda value, fmt="%H:%M": web.local_time(value, settings.timezone, fmt)
    env.globals["venue_name"] = settings.venue_name
    env.globals["brigade_role"] = settings.role
    env.globals["new_key"] = web.new_key
    env.globals["idle_lock_seconds"] = settings.idle_lock_seconds
    return engine


def _not_authorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if request.url.path.startswith("/api/"):
        return Response(content={"error": "unauthorized", "message": exc.detail}, status_code=401)
    target = "/login"
    if request.method == "GET" and not web.is_htmx(request):
        target = f"/login?next={request.url.path}"
    return web.hx_redirect(request, target)


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    return web.error_response(request, _Forbidden(exc.detail or "Your role does not allow this."))


class _Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


@get("/", authenticated=True, include_in_schema=False)
async def home(request: Request[Any, Any, Any], state: State) -> Redirect:
    """Send each person to where they work."""
    settings: Settings = state.settings
    return Redirect(path=staff_controllers.home_for(request.user, settings.role))


@get("/healthz", public=True, exclude_from_auth=True, exclude_from_csrf=True, include_in_schema=False)
async def healthz(state: State) -> dict[str, str]:
    """Liveness for load balancers and the compose file."""
    db: Database = state.db
    async with db.read() as session:
        await session.connection()
    return {"status": "ok"}


@get(
    "/favicon.ico",
    public=True,
    exclude_from_auth=True,
    exclude_from_csrf=True,
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86400),
)
async def favicon() -> File:
    """The icon browsers ask for at the root of every site, before anyone has logged in."""
    return File(path=STATIC / "favicon.ico", media_type="image/x-icon", content_disposition_type="inline")


STOP_WAIT_SECONDS = 15.0
"""How long shutting down waits for the background tasks: longer than a print job's send may take (connecting,
writing and asking the printer's status), so that a ticket on the wire is recorded as printed."""


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> list[asyncio.Task[None]]:
    """Cancel the background tasks and wait for them to end, at most `STOP_WAIT_SECONDS`: those still running.

    A task still running then is left behind, said in the log, so that a stuck printer or database cannot hold a
    restart up; what it held is taken back by the next process (a print job goes out again marked REPRINT).
    """
    for task in tasks:
        task.cancel()
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)
    for task in done:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background task %s failed as it stopped", task.get_name(), exc_info=error)
    for task in pending:
        log.warning(
            "background task %s was still stopping after %.0f s; shutting down without it",
            task.get_name(),
            STOP_WAIT_SECONDS,
        )
    return list(pending)


def lower_cpu_priority(niceness: int) -> None:
    """Run this process at least `niceness` below normal on the CPU (as nice(1) counts), never higher than it is:
    raising a priority takes privileges a web process has no business holding."""
    if niceness > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, niceness)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Brigade web application for `settings` (read from the environment when omitted)."""
    settings = settings or Settings()
    runtime = build_runtime(settings)
    channels = runtime.channels

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        lower_cpu_priority(settings.niceness)
        heap.settle()
        await sync_sender.learn_link(runtime.db)
        runtime.tasks.append(asyncio.create_task(staff_session_cache.listen(runtime.session_cache, channels)))
        if settings.run_workers:
            runtime.tasks.append(asyncio.create_task(runtime.dispatcher.run()))
            runtime.tasks.append(print_worker.start(runtime))
        syncing = sync_sender.start(runtime, send=settings.run_workers)
        if syncing is not None:
            runtime.tasks.append(syncing)
        if settings.run_workers and (pulling := sync_catalog.start(runtime)) is not None:
            runtime.tasks.append(pulling)
        if settings.run_workers and (posting := group_posting.start(runtime)) is not None:
            runtime.tasks.append(posting)
        try:
            yield
        finally:
            runtime.dispatcher.stop()
            print_worker.stop(runtime)
            sync_sender.stop(runtime)
            await stop_tasks(runtime.tasks)
            await runtime.db.dispose()

    route_handlers: list[Any] = [
        home,
        healthz,
        favicon,
        create_static_files_router(
            path="/static",
            directories=[STATIC],
            opt={"public": True, "exclude_from_auth": True},
            include_in_schema=False,
        ),
        *staff_controllers.ROUTES,
        *menu_controllers.ROUTES,
        *floor_controllers.ROUTES,
        *kitchen_controllers.ROUTES,
        *orders_controllers.ROUTES,
        *checks_controllers.ROUTES,
        *kds_controllers.ROUTES,
        *inventory_controllers.ROUTES,
        *purchasing_controllers.ROUTES,
        *accounting_controllers.ROUTES,
        *closes_controllers.ROUTES,
        *closes_promotion_controllers.ROUTES,
        *promotions_controllers.ROUTES,
        *house_accounts_controllers.ROUTES,
        *invoices_controllers.ROUTES,
        *(invoices_api.ROUTES if settings.role == "venue" else []),
        *guests_controllers.ROUTES,
        *(guests_api.ROUTES if settings.role == "venue" else []),
        *giftcards_controllers.ROUTES,
        *(giftcards_api.ROUTES if settings.role == "venue" else []),
        *reservations_controllers.ROUTES,
        *(reservations_api.ROUTES if settings.role == "venue" else []),
        *group_api.routes_for(settings.role, api_controllers.ROUTES),
        *group_controllers.routes_for(settings),
        *group_books_controllers.routes_for(settings),
        *group_catalog_controllers.routes_for(settings),
        *group_reports_controllers.routes_for(settings),
        *sync_controllers.routes_for(settings),
    ]
    app = Litestar(
        route_handlers=route_handlers,
        state=State(
            {
                "settings": settings,
                "db": runtime.db,
                "runtime": runtime,
                "channels": channels,
                "session_cache": runtime.session_cache,
            }
        ),
        dependencies={"db": Provide(lambda: runtime.db, sync_to_thread=False)},
        plugins=[channels],
        middleware=[DefineMiddleware(BrigadeAuthMiddleware, exclude=["^/static/", "^/healthz", "^/schema"])],
        guards=[permission_guard],
        csrf_config=CSRFConfig(
            secret=settings.resolved_secret_key(),
            cookie_secure=settings.cookie_secure,
            cookie_name="brigade_csrf",
            exclude=["^/api/"],
        ),
        template_config=TemplateConfig(engine=_template_engine(settings)),
        exception_handlers={
            # Litestar's fallback for anything unhandled: a database outage becomes a clear 503.
            HTTP_500_INTERNAL_SERVER_ERROR: web.unexpected_error,
            DomainError: web.error_response,
            ValidationException: forms.refused,
            NotAuthorizedException: _not_authorized,
            PermissionDeniedException: _forbidden,
        },
        openapi_config=OpenAPIConfig(
            title="Brigade API", version="1.0.0", path="/schema", components=api_controllers.OPENAPI_COMPONENTS
        ),
        lifespan=[lifespan],
        # Pages, fragments, static files and errors alike: the hook sees every response the app starts.
        before_send=[headers.security_headers()],
        debug=settings.debug,
    )
    _refuse_unguarded_routes(app)
    return app


def _refuse_unguarded_routes(app: Litestar) -> None:
    # Every route names its permission; an unnamed one would be refused at request time, so say it now.
    missing = []
    for route in app.routes:
        if route.path.startswith(PUBLIC_SCHEMA_PATH):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler":
                continue
            opt = handler.opt
            if not (opt.get("public") or opt.get("permission") or opt.get("authenticated") or opt.get("api_scope")):
                missing.append(f"{route.path} ({handler.handler_name})")
    if missing:
        raise RuntimeError(f"routes without a permission: {', '.join(missing)}")
