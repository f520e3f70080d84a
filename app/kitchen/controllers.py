"""Manager pages for the kitchen: stations, printers, routing check, printer status and alerts; the printer badge."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import col, select

from app.kitchen import configuration, printing, queries, setup
from app.kitchen.models import Printer, PrinterRole, Station, StationKind, StationPacing
from app.lib import manage, web
from app.lib.db import Database
from app.staff.auth import Viewer
from app.staff.permissions import Perm

CODE_PAGES = ["CP858", "CP437", "CP850", "CP852", "CP1252", "ISO_8859-15", "CP866"]
PROFILES = ["default", "TM-T88V", "TM-T88IV", "TM-T20II", "TM-T88III", "TM-U220"]


def _actor(request: Request[Any, Any, Any]) -> int:
    viewer: Viewer = request.user
    return viewer.staff.id or 0


async def _kitchen_context(db: Database) -> dict[str, Any]:
    async with db.read() as session:
        stations = (
            await session.exec(
                select(Station).order_by(col(Station.archived_at).is_not(None), col(Station.sort_order), Station.name)
            )
        ).all()
        printers = (
            await session.exec(select(Printer).order_by(col(Printer.archived_at).is_not(None), Printer.name))
        ).all()
        report = await configuration.check_configuration(session)
    return {
        "stations": stations,
        "printers": printers,
        "live_printers": [p for p in printers if p.archived_at is None],
        "printer_names": {p.id: p.name for p in printers},
        "report": report,
        "kinds": list(StationKind),
        "pacings": list(StationPacing),
        "roles": list(PrinterRole),
        "code_pages": CODE_PAGES,
        "profiles": PROFILES,
    }


async def _kitchen_fragment(db: Database, flash: str | None = None) -> Template:
    context = await _kitchen_context(db)
    return Template(template_name="kitchen/_setup.html", context={**context, "flash": flash})


@get("/manage/kitchen", permission=Perm.STATIONS_MANAGE, include_in_schema=False)
async def kitchen_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Stations, printers and the routing check."""
    return web.page(request, "kitchen/manage.html", fragment="kitchen/_setup.html", **await _kitchen_context(db))


async def _after_change(request: Request[Any, Any, Any], db: Database, flash: str | None) -> Template:
    return await _kitchen_fragment(db, flash)


STATIONS: manage.Managed[setup.StationForm] = manage.Managed(
    path="/manage/kitchen/stations",
    name="station",
    permission=Perm.STATIONS_MANAGE,
    show=_after_change,
    actor=_actor,
    form=setup.StationInput,
    create=lambda session, form, actor: setup.save_station(session, form, station_id=None, actor_id=actor or 0),
    update=lambda session, station_id, form, actor: setup.save_station(
        session, form, station_id=station_id, actor_id=actor or 0
    ),
    archive=lambda session, station_id, actor: setup.archive_station(session, station_id, actor_id=actor or 0),
    messages={
        "create": "Station {0.name} added.",
        "update": "Station {0.name} saved.",
        "archive": "Station {0.name} archived.",
    },
    list_page=False,
)

PRINTERS: manage.Managed[setup.PrinterForm] = manage.Managed(
    path="/manage/kitchen/printers",
    name="printer",
    permission=Perm.PRINTERS_MANAGE,
    show=_after_change,
    actor=_actor,
    form=setup.PrinterInput,
    create=lambda session, form, actor: setup.save_printer(session, form, printer_id=None, actor_id=actor or 0),
    update=lambda session, printer_id, form, actor: setup.save_printer(
        session, form, printer_id=printer_id, actor_id=actor or 0
    ),
    archive=lambda session, printer_id, actor: setup.archive_printer(session, printer_id, actor_id=actor or 0),
    messages={
        "create": "Printer {0.name} added.",
        "update": "Printer {0.name} saved.",
        "archive": "Printer {0.name} archived.",
    },
    list_page=False,
)


async def _status_context(db: Database) -> dict[str, Any]:
    async with db.read() as session:
        printers = await queries.printer_statuses(session)
        alerts = await queries.open_alerts(session)
        failed = await queries.failed_jobs(session)
        held = await queries.held_jobs(session)
        recent = await queries.recent_jobs(session)
        names = {p.id: p.name for p in (await session.exec(select(Printer))).all()}
    return {
        "printers": printers,
        "alerts": alerts,
        "failed": failed,
        "held": held,
        "recent": recent,
        "printer_names": names,
    }


async def _status_fragment(db: Database, flash: str | None = None) -> Template:
    context = await _status_context(db)
    return Template(template_name="kitchen/_status.html", context={**context, "flash": flash})


@get("/manage/kitchen/printers", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def printer_status_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Every printer's health and queue, failed jobs to send again, alerts to acknowledge."""
    return web.page(request, "kitchen/status.html", fragment="kitchen/_status.html", **await _status_context(db))


@post("/manage/kitchen/alerts/{alert_id:int}/acknowledge", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def alert_acknowledge(request: Request[Any, Any, Any], db: web.Db, alert_id: FromPath[int]) -> Template:
    """A manager has seen an alert."""
    async with db.write() as session:
        await printing.acknowledge_alert(session, alert_id, staff_id=_actor(request))
    return await _status_fragment(db, "Alert acknowledged.")


@post("/manage/kitchen/jobs/{job_id:int}/retry", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def job_retry(request: Request[Any, Any, Any], db: web.Db, job_id: FromPath[int]) -> Template:
    """Send a failed job again."""
    async with db.write() as session:
        job = await printing.retry_failed_job(session, job_id, staff_id=_actor(request))
    return await _status_fragment(db, f"Sending {job.reference} again.")


@post("/manage/kitchen/jobs/{job_id:int}/stop-waiting", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def job_stop_waiting(request: Request[Any, Any, Any], db: web.Db, job_id: FromPath[int]) -> Template:
    """Stop waiting for a held job's printer: the job fails, to be sent again by hand if still wanted."""
    async with db.write() as session:
        job = await printing.stop_waiting(session, job_id, staff_id=_actor(request))
    return await _status_fragment(db, f"Stopped waiting for {job.reference}; it is under Did not print.")


@post("/manage/kitchen/jobs/{job_id:int}/reprint", permission=Perm.PRINTERS_MANAGE, include_in_schema=False)
async def job_reprint(request: Request[Any, Any, Any], db: web.Db, job_id: FromPath[int]) -> Template:
    """Print a job again, marked REPRINT."""
    async with db.write() as session:
        job = await printing.reprint_job(session, job_id, staff_id=_actor(request))
    return await _status_fragment(db, f"Reprinting {job.reference}.")


@post(
    "/manage/kitchen/printers/{printer_id:int}/retry-failed", permission=Perm.PRINTERS_MANAGE, include_in_schema=False
)
async def printer_retry_failed(request: Request[Any, Any, Any], db: web.Db, printer_id: FromPath[int]) -> Template:
    """Send every failed job of a printer again (once it is back)."""
    async with db.write() as session:
        count = await printing.retry_failed_jobs(session, printer_id, staff_id=_actor(request))
    message = f"Sending {count} job{'s' if count != 1 else ''} again." if count else "No failed jobs to send."
    return await _status_fragment(db, message)


@get("/kitchen/printer-badge", authenticated=True, include_in_schema=False)
async def printer_badge(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """A small badge for tablets: which printers are down, how many alerts wait."""
    async with db.read() as session:
        badge = await queries.printer_badge(session)
    viewer: Viewer = request.user
    return Template(
        template_name="kitchen/_printer_badge.html",
        context={"badge": badge, "can_manage": viewer.can(Perm.PRINTERS_MANAGE)},
    )


ROUTES: list[Any] = [
    kitchen_page,
    *STATIONS.routes(),
    *PRINTERS.routes(),
    printer_status_page,
    alert_acknowledge,
    job_retry,
    job_stop_waiting,
    job_reprint,
    printer_retry_failed,
    printer_badge,
]
