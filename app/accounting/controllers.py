"""Pages for the books: chart of accounts, journal, entry detail, trial balance, ledgers, exports, locked days.

Reading needs Perm.ACCOUNTING_MANAGE or Perm.REPORTS_VIEW; changing anything needs ACCOUNTING_MANAGE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounting import accounts, exports, locked_days, queries, reversals, services
from app.accounting.models import AccountType
from app.lib import forms, manage, web
from app.lib.clock import utcnow
from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
READERS: Final = (Perm.ACCOUNTING_MANAGE, Perm.REPORTS_VIEW)


# Every read route: whoever may read the books, accounting managers and report readers alike.
READ: Final[dict[str, Any]] = {"permission": READERS, "include_in_schema": False}


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def business_today(settings: Settings) -> dt.date:
    """Today's business date in the venue's zone (before the cutoff hour it is still yesterday)."""
    local = utcnow().astimezone(ZoneInfo(settings.timezone))
    return (local - dt.timedelta(hours=settings.business_day_cutoff_hour)).date()


def parse_day(raw: str | None, *, label: str, default: dt.date) -> dt.date:
    """A YYYY-MM-DD date from a form or query, or a clear refusal."""
    if raw is None or not raw.strip():
        return default
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a date like 2025-03-14.") from None


def _actor(request: Req) -> int | None:
    viewer: Viewer = request.user
    return viewer.staff.id


def _can_manage(request: Req) -> bool:
    viewer: Viewer = request.user
    return viewer.can(Perm.ACCOUNTING_MANAGE)


# Chart of accounts -------------------------------------------------------------------------------------


async def _chart_page(request: Req, db: web.Db, *, flash: str | None = None, status_code: int = 200) -> Template:
    async with db.read() as session:
        rows = await queries.chart(session)
    return web.page(
        request,
        "accounting/chart.html",
        fragment="accounting/_chart.html",
        rows=rows,
        types=list(AccountType),
        can_manage=_can_manage(request),
        flash=flash,
        status_code=status_code,
    )


@get("/accounting", **READ)
async def books_home() -> Redirect:
    """The books open on the trial balance."""
    return Redirect(path="/accounting/trial-balance")


@get("/accounting/accounts", **READ)
async def chart_page(request: Req, db: web.Db) -> Template:
    """The chart of accounts as a tree, with each account's balance."""
    return await _chart_page(request, db)


async def _show_chart(request: Req, db: web.Db, flash: str | None) -> Template:
    return await _chart_page(request, db, flash=flash)


class AccountForm(forms.Form):
    """A new account as submitted; the service checks the code, name, type and parent."""

    code: str = ""
    name: str = ""
    type: str = ""
    parent_code: str = ""
    description: str = ""

    def fields(self) -> AccountForm:
        return self


ACCOUNTS: manage.Managed[AccountForm] = manage.Managed(
    path="/accounting/accounts",
    name="account",
    permission=Perm.ACCOUNTING_MANAGE,
    show=_show_chart,
    actor=_actor,
    form=AccountForm,
    create=lambda session, form, actor: accounts.create_account(
        session,
        code=form.code,
        name=form.name,
        type=form.type,
        parent_code=form.parent_code.strip() or None,
        description=form.description,
        actor_id=actor,
    ),
    archive=lambda session, account_id, actor: accounts.archive_account(session, account_id, actor_id=actor),
    restore=lambda session, account_id, actor: accounts.restore_account(session, account_id, actor_id=actor),
    messages={"create": "Added {0.label}.", "archive": "Archived {0.label}.", "restore": "Restored {0.label}."},
    list_page=False,  # the chart is read by those who may only read the books
)


# Journal ---------------------------------------------------------------------------------------------------


@get("/accounting/journal", **READ)
async def journal_page(
    request: Req,
    db: web.Db,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    source: FromQuery[str | None] = None,
) -> Template:
    """Entries between two days, newest first."""
    today = business_today(_settings(request))
    first = parse_day(start, label="From", default=today - dt.timedelta(days=6))
    last = parse_day(end, label="To", default=today)
    exports.check_range(first, last)
    source_type = (source or "").strip()[:60] or None
    async with db.read() as session:
        rows = await queries.journal(session, start=first, end=last, source_type=source_type, limit=500)
    return web.page(
        request,
        "accounting/journal.html",
        fragment="accounting/_journal.html",
        rows=rows,
        start=first,
        end=last,
        source=source_type or "",
    )


async def _entry_page(request: Req, db: web.Db, entry_id: int, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        detail = await queries.entry_detail(session, entry_id)
        locked = await services.is_day_locked(session, detail.entry.date)
    return web.page(
        request,
        "accounting/entry.html",
        fragment="accounting/_entry.html",
        detail=detail,
        day_locked=locked,
        can_manage=_can_manage(request),
        today=business_today(_settings(request)),
        flash=flash,
    )


@get("/accounting/journal/{entry_id:int}", **READ)
async def entry_page(request: Req, db: web.Db, entry_id: FromPath[int]) -> Template:
    """One entry with its lines, and its reversal (or the entry it reverses)."""
    return await _entry_page(request, db, entry_id)


class ReverseForm(forms.Form, kw_only=True):
    date: Annotated[str, forms.Text(max_length=10, required=False)] = ""
    reason: Annotated[str, forms.Text(max_length=200, required=False)] = ""


class LockForm(forms.Form, kw_only=True):
    day: Annotated[str, forms.Text(max_length=10, required=False)] = ""
    reason: Annotated[str, forms.Text(max_length=200, required=False)] = ""

    @property
    def chosen_day(self) -> dt.date:
        if not self.day:
            raise InvalidInput("Choose a day.")
        return parse_day(self.day, label="Day", default=dt.date.min)


def _typed_post(path: str) -> Callable[[Any], HTTPRouteHandler]:
    """A manager's POST on the books whose form is typed (blank fields take their defaults)."""
    return post(path, permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False, before_request=forms.drop_blanks)


@_typed_post("/accounting/journal/{entry_id:int}/reverse")
async def entry_reverse(
    request: Req, db: web.Db, entry_id: FromPath[int], data: Annotated[ReverseForm, manage.FORM]
) -> Response[Any]:
    """Post the mirror image of an entry, on the chosen open day, with a reason."""
    day = parse_day(data.date, label="Date", default=business_today(_settings(request)))
    async with db.write() as session:
        reversal = await reversals.reverse_entry(session, entry_id, data.reason, date=day, actor_id=_actor(request))
    return web.hx_redirect(request, f"/accounting/journal/{reversal.id}")


# Trial balance and ledgers -------------------------------------------------------------------------------


@get("/accounting/trial-balance", **READ)
async def trial_balance_page(request: Req, db: web.Db, as_of: FromQuery[str | None] = None) -> Template:
    """Every account's balance at the end of a day, debits beside credits."""
    day = parse_day(as_of, label="As of", default=business_today(_settings(request)))
    async with db.read() as session:
        trial = await queries.trial_balance(session, day)
        locked = await services.is_day_locked(session, day)
    return web.page(
        request,
        "accounting/trial_balance.html",
        fragment="accounting/_trial_balance.html",
        trial=trial,
        day_locked=locked,
    )


@get("/accounting/accounts/{account_id:int}/ledger", **READ)
async def ledger_page(
    request: Req,
    db: web.Db,
    account_id: FromPath[int],
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
) -> Template:
    """An account's lines between two days with the running balance."""
    today = business_today(_settings(request))
    first = parse_day(start, label="From", default=today.replace(day=1))
    last = parse_day(end, label="To", default=today)
    exports.check_range(first, last)
    async with db.read() as session:
        ledger = await queries.account_ledger(session, account_id, start=first, end=last)
    return web.page(request, "accounting/ledger.html", fragment="accounting/_ledger.html", ledger=ledger)


# Exports ------------------------------------------------------------------------------------------------------


@get("/accounting/export", **READ)
async def export_page(request: Req) -> Template:
    """Choose a date range and a format to download."""
    today = business_today(_settings(request))
    return web.page(
        request,
        "accounting/export.html",
        start=today.replace(day=1),
        end=today,
        formats=exports.FORMATS,
    )


@get("/accounting/export/download", **READ)
async def export_download(
    request: Req,
    db: web.Db,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    format: FromQuery[str | None] = None,
) -> Response[str]:
    """The books for the range as a file: CSV, Beancount or an hledger journal."""
    settings = _settings(request)
    today = business_today(settings)
    first = parse_day(start, label="From", default=today)
    last = parse_day(end, label="To", default=today)
    fmt = (format or "").strip()
    if fmt not in exports.FORMATS:
        raise InvalidInput(f"Choose an export format: {', '.join(exports.FORMATS)}.")
    async with db.read() as session:
        content = await exports.export_ledger(
            session, start=first, end=last, fmt=fmt, currency=settings.currency, title=settings.venue_name
        )
    name = exports.filename(first, last, fmt)
    return Response(
        content=content,
        media_type=exports.CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# Locked days ---------------------------------------------------------------------------------------------------


async def _locks_page(request: Req, db: web.Db, *, flash: str | None = None) -> Template:
    async with db.read() as session:
        days = await queries.locked_days(session)
    return web.page(
        request,
        "accounting/locks.html",
        fragment="accounting/_locks.html",
        days=days,
        today=business_today(_settings(request)),
        can_manage=_can_manage(request),
        flash=flash,
    )


@get("/accounting/locks", **READ)
async def locks_page(request: Req, db: web.Db) -> Template:
    """Days whose books are closed."""
    return await _locks_page(request, db)


@_typed_post("/accounting/locks")
async def lock_create(request: Req, db: web.Db, data: Annotated[LockForm, manage.FORM]) -> Template:
    """Close the books for a day."""
    day = data.chosen_day
    async with db.write() as session:
        await locked_days.lock_day(session, day, actor_id=_actor(request), reason=data.reason)
    return await _locks_page(request, db, flash=f"Locked {day.isoformat()}.")


@_typed_post("/accounting/locks/unlock")
async def lock_remove(request: Req, db: web.Db, data: Annotated[LockForm, manage.FORM]) -> Template:
    """Reopen a day's books, with a reason."""
    day = data.chosen_day
    async with db.write() as session:
        await locked_days.unlock_day(session, day, reason=data.reason, actor_id=_actor(request))
    return await _locks_page(request, db, flash=f"Unlocked {day.isoformat()}.")


ROUTES = [
    books_home,
    chart_page,
    *ACCOUNTS.routes(),
    journal_page,
    entry_page,
    entry_reverse,
    trial_balance_page,
    ledger_page,
    export_page,
    export_download,
    locks_page,
    lock_create,
    lock_remove,
]
