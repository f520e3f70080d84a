"""Commands that configure the kitchen: stations (with their timers and printer) and printers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from msgspec import Meta
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kitchen.models import Printer, PrinterRole, Station, StationKind, StationPacing
from app.lib import audit, forms
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


class StationInput(forms.Form):
    """The station form as submitted; a blank position is first and a blank timing fires at once."""

    name: Annotated[str, Meta(title="Station name"), forms.Text(max_length=40)]
    kind: Annotated[StationKind, Meta(title="Kind")]
    yellow_after_min: Annotated[int, Meta(title="Yellow after (minutes)", ge=1, le=240)]
    red_after_min: Annotated[int, Meta(title="Red after (minutes)", ge=1, le=480)]
    printer_id: Annotated[int, Meta(title="Printer", ge=1)] = forms.NONE_CHOSEN
    sort_order: Annotated[int, Meta(title="Position", ge=0, le=999)] = 0
    pacing: Annotated[StationPacing, Meta(title="Timing")] = StationPacing.AT_ONCE

    def check(self) -> None:
        if self.red_after_min <= self.yellow_after_min:
            raise ValueError("A ticket must turn red later than it turns yellow.")

    def fields(self) -> StationForm:
        return StationForm(
            name=self.name,
            kind=self.kind,
            printer_id=self.printer_id or None,
            yellow_after_s=self.yellow_after_min * 60,
            red_after_s=self.red_after_min * 60,
            sort_order=self.sort_order,
            pacing=self.pacing,
        )


class PrinterInput(forms.Form):
    """The printer form as submitted; blanks take the usual role, profile, width and code page."""

    name: Annotated[str, Meta(title="Printer name"), forms.Text(max_length=60)]
    uri: Annotated[str, Meta(title="Address"), forms.Text(max_length=300)]
    role: Annotated[PrinterRole, Meta(title="Role")] = PrinterRole.PREP
    profile: Annotated[str, Meta(title="Profile"), forms.Text(max_length=60, required=False)] = ""
    columns: Annotated[int, Meta(title="Columns", ge=24, le=80)] = 42
    codepage: Annotated[str, Meta(title="Code page"), forms.Text(max_length=20, required=False)] = ""
    backup_printer_id: Annotated[int, Meta(title="Backup printer", ge=1)] = forms.NONE_CHOSEN

    def fields(self) -> PrinterForm:
        return PrinterForm(
            name=self.name,
            uri=self.uri,
            role=self.role,
            profile=self.profile or "default",
            columns=self.columns,
            codepage=(self.codepage or "CP858").upper(),
            backup_printer_id=self.backup_printer_id or None,
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
