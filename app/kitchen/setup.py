"""Commands that configure the kitchen: stations (with their timers and printer) and printers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.models import Printer, PrinterRole, Station, StationKind, StationPacing
from app.lib import audit, web
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.menu.models import MenuCategory, MenuItem


@dataclass(frozen=True)
class StationForm:
    """A station as a manager submits it."""

    name: str
    kind: StationKind
    printer_id: int | None
    yellow_after_s: int
    red_after_s: int
    sort_order: int
    pacing: StationPacing = StationPacing.AT_ONCE


@dataclass(frozen=True)
class PrinterForm:
    """A printer as a manager submits it."""

    name: str
    uri: str
    role: PrinterRole
    profile: str
    columns: int
    codepage: str
    backup_printer_id: int | None


def _optional_id(fields: Mapping[str, Any], name: str, label: str) -> int | None:
    raw = str(fields.get(name) or "").strip()
    if not raw:
        return None
    return web.field_int(fields, name, label=label, minimum=1)


def _choice(enum_cls: Any, raw: Any, label: str) -> Any:
    try:
        return enum_cls(str(raw or ""))
    except ValueError:
        options = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(f"{label} must be one of: {options}.") from None


def parse_station(fields: Mapping[str, Any]) -> StationForm:
    """A station form, or a clear refusal."""
    yellow_min = web.field_int(fields, "yellow_after_min", label="Yellow after (minutes)", minimum=1, maximum=240)
    red_min = web.field_int(fields, "red_after_min", label="Red after (minutes)", minimum=1, maximum=480)
    if red_min <= yellow_min:
        raise InvalidInput("A ticket must turn red later than it turns yellow.")
    return StationForm(
        name=web.field_text(fields, "name", label="Station name", max_length=40),
        kind=_choice(StationKind, fields.get("kind"), "Kind"),
        printer_id=_optional_id(fields, "printer_id", "Printer"),
        yellow_after_s=yellow_min * 60,
        red_after_s=red_min * 60,
        sort_order=web.field_int(fields, "sort_order", label="Position", minimum=0, maximum=999, default=0),
        pacing=_choice(StationPacing, fields.get("pacing") or StationPacing.AT_ONCE.value, "Timing"),
    )


def parse_printer(fields: Mapping[str, Any]) -> PrinterForm:
    """A printer form, or a clear refusal."""
    return PrinterForm(
        name=web.field_text(fields, "name", label="Printer name", max_length=60),
        uri=web.field_text(fields, "uri", label="Address", max_length=300),
        role=_choice(PrinterRole, fields.get("role") or "prep", "Role"),
        profile=web.field_text(fields, "profile", label="Profile", max_length=60, required=False) or "default",
        columns=web.field_int(fields, "columns", label="Columns", minimum=24, maximum=80, default=42),
        codepage=(
            web.field_text(fields, "codepage", label="Code page", max_length=20, required=False) or "CP858"
        ).upper(),
        backup_printer_id=_optional_id(fields, "backup_printer_id", "Backup printer"),
    )


PRINTER_CHECK = "printer_check"
"""Key in the database context of `check(uri, profile, columns, codepage)`, raising ValueError for settings
the printers package cannot drive (wired in app/main.py, so the kitchen does not import the printers)."""

PrinterCheck = Callable[[str, str, int, str], None]


def _check_printer(session: AsyncSession, form: PrinterForm) -> None:
    check: PrinterCheck | None = session.info.get(PRINTER_CHECK)
    if check is None:
        return
    try:
        check(form.uri, form.profile, form.columns, form.codepage)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


async def _unique_name(session: AsyncSession, model: Any, name: str, own_id: int | None, what: str) -> None:
    query = select(model.id).where(func.lower(model.name) == name.lower())
    if own_id is not None:
        query = query.where(model.id != own_id)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"There is already a {what} called {name}.")


async def _live_printer(session: AsyncSession, printer_id: int | None, label: str) -> None:
    if printer_id is None:
        return
    printer = await session.get(Printer, printer_id)
    if printer is None or printer.archived_at is not None:
        raise InvalidInput(f"{label}: that printer does not exist or is archived.")


def _station_snapshot(station: Station) -> dict[str, Any]:
    return {
        "name": station.name,
        "kind": station.kind.value,
        "printer_id": station.printer_id,
        "yellow_after_s": station.yellow_after_s,
        "red_after_s": station.red_after_s,
        "sort_order": station.sort_order,
        "pacing": station.pacing.value,
    }


def _printer_snapshot(printer: Printer) -> dict[str, Any]:
    return {
        "name": printer.name,
        "uri": printer.uri,
        "role": printer.role.value,
        "profile": printer.profile,
        "columns": printer.columns,
        "codepage": printer.codepage,
        "backup_printer_id": printer.backup_printer_id,
    }


async def save_station(session: AsyncSession, form: StationForm, *, station_id: int | None, actor_id: int) -> Station:
    """Create a station, or change one."""
    await _unique_name(session, Station, form.name, station_id, "station")
    await _live_printer(session, form.printer_id, "Printer")
    if station_id is None:
        station = Station(name=form.name)
        before = None
    else:
        found = await session.get(Station, station_id)
        if found is None or found.archived_at is not None:
            raise NotFound("That station does not exist or is archived.")
        station = found
        before = _station_snapshot(station)
    if form.kind is StationKind.EXPO:
        other = await session.exec(
            select(Station.id).where(
                Station.kind == StationKind.EXPO, col(Station.archived_at).is_(None), Station.id != (station_id or 0)
            )
        )
        if other.first() is not None:
            raise Conflict("There is already an expo station; a kitchen has one expo.")
    station.name = form.name
    station.kind = form.kind
    station.printer_id = form.printer_id
    station.yellow_after_s = form.yellow_after_s
    station.red_after_s = form.red_after_s
    station.sort_order = form.sort_order
    station.pacing = form.pacing
    session.add(station)
    await session.flush()
    await audit.record(
        session,
        "station.created" if before is None else "station.changed",
        actor_id=actor_id,
        subject=f"station:{station.id}",
        before=before,
        after=_station_snapshot(station),
    )
    return station


async def archive_station(session: AsyncSession, station_id: int, *, actor_id: int) -> Station:
    """Archive a station nothing routes to any more (history keeps pointing at it)."""
    station = await session.get(Station, station_id)
    if station is None or station.archived_at is not None:
        raise NotFound("That station does not exist or is already archived.")
    categories = (
        await session.exec(
            select(MenuCategory.name).where(
                MenuCategory.station_id == station_id, col(MenuCategory.archived_at).is_(None)
            )
        )
    ).all()
    items = (
        await session.exec(
            select(MenuItem.name).where(MenuItem.station_id == station_id, col(MenuItem.archived_at).is_(None))
        )
    ).all()
    if categories or items:
        names = ", ".join(sorted([*categories, *items])[:5])
        raise Conflict(f"{station.name} still makes {names}; route them to another station first.")
    station.archived_at = utcnow()
    session.add(station)
    await audit.record(session, "station.archived", actor_id=actor_id, subject=f"station:{station_id}")
    return station


async def save_printer(session: AsyncSession, form: PrinterForm, *, printer_id: int | None, actor_id: int) -> Printer:
    """Create a printer, or change one."""
    _check_printer(session, form)
    await _unique_name(session, Printer, form.name, printer_id, "printer")
    if form.backup_printer_id is not None and form.backup_printer_id == printer_id:
        raise InvalidInput("A printer cannot be its own backup.")
    await _live_printer(session, form.backup_printer_id, "Backup printer")
    if printer_id is None:
        printer = Printer(name=form.name, uri=form.uri)
        before = None
    else:
        found = await session.get(Printer, printer_id)
        if found is None or found.archived_at is not None:
            raise NotFound("That printer does not exist or is archived.")
        printer = found
        before = _printer_snapshot(printer)
    printer.name = form.name
    printer.uri = form.uri
    printer.role = form.role
    printer.profile = form.profile
    printer.columns = form.columns
    printer.codepage = form.codepage
    printer.backup_printer_id = form.backup_printer_id
    session.add(printer)
    await session.flush()
    await audit.record(
        session,
        "printer.created" if before is None else "printer.changed",
        actor_id=actor_id,
        subject=f"printer:{printer.id}",
        before=before,
        after=_printer_snapshot(printer),
    )
    return printer


async def archive_printer(session: AsyncSession, printer_id: int, *, actor_id: int) -> Printer:
    """Archive a printer no station prints on and no printer backs up to."""
    printer = await session.get(Printer, printer_id)
    if printer is None or printer.archived_at is not None:
        raise NotFound("That printer does not exist or is already archived.")
    users = (
        await session.exec(
            select(Station.name).where(Station.printer_id == printer_id, col(Station.archived_at).is_(None))
        )
    ).all()
    if users:
        raise Conflict(f"{', '.join(sorted(users))} still print on {printer.name}; choose another printer first.")
    backups = (
        await session.exec(
            select(Printer.name).where(Printer.backup_printer_id == printer_id, col(Printer.archived_at).is_(None))
        )
    ).all()
    if backups:
        raise Conflict(f"{', '.join(sorted(backups))} back up to {printer.name}; choose another backup first.")
    printer.archived_at = utcnow()
    session.add(printer)
    await audit.record(session, "printer.archived", actor_id=actor_id, subject=f"printer:{printer_id}")
    return printer
