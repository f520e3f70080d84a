"""The manager's tenders page: adding, changing and archiving tenders."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import queries
from app.checks import tenders as check_tenders
from app.checks.controller_helpers import CheckForm, Req, actor, command, command_post
from app.checks.models import TenderKind
from app.lib import forms, web
from app.lib.manage import FORM
from app.staff.models import Staff
from app.staff.permissions import Perm


@get("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tenders_page(request: Req, db: web.Db) -> Template:
    """Tenders and the ledger accounts their money goes to."""
    return await _tenders(request, db, "")


async def _tenders(request: Req, db: web.Db, flash: str) -> Template:
    async with db.read() as session:
        rows = await queries.tenders(session, include_archived=True)
    return web.page(
        request,
        "checks/tenders.html",
        fragment="checks/_tenders.html",
        tenders=rows,
        kinds=list(TenderKind),
        flash=flash,
    )


_TICKED = ("1", "on", "true", "yes")


class TenderForm(CheckForm, kw_only=True):
    tender_id: Annotated[int, Meta(title="The tender", ge=1)] | None = None
    name: Annotated[str, forms.Text(max_length=80, required=False)] = ""
    kind: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    ledger_account_code: Annotated[str, forms.Text(max_length=40, required=False)] = ""
    allows_tip: str = ""
    opens_drawer: str = ""
    uses_terminal: str = ""
    sort_order: Annotated[int, Meta(title="The position", ge=0, le=999)] = 0


@command_post("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE)
async def tender_save(request: Req, db: web.Db, data: Annotated[TenderForm, FORM]) -> Template:
    """Add a tender, or change one."""

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        tender = await check_tenders.save_tender(
            session,
            actor=actor(request),
            tender_id=data.tender_id,
            name=data.name,
            kind=data.kind,
            ledger_account_code=data.ledger_account_code,
            allows_tip=data.allows_tip in _TICKED,
            opens_drawer=data.opens_drawer in _TICKED,
            uses_terminal=data.uses_terminal in _TICKED,
            sort_order=data.sort_order,
        )
        return f"{tender.name} saved."

    return await _tenders(request, db, await command(request, db, data, work, approve=False))


@command_post("/manage/tenders/{tender_id:int}/archive", permission=Perm.ACCOUNTING_MANAGE)
async def tender_archive(
    request: Req, db: web.Db, tender_id: FromPath[int], data: Annotated[CheckForm, FORM]
) -> Template:
    """Stop offering a tender."""

    async def work(session: AsyncSession, _approver: Staff | None) -> str:
        tender = await check_tenders.archive_tender(session, tender_id=tender_id, actor=actor(request))
        return f"{tender.name} is no longer offered."

    return await _tenders(request, db, await command(request, db, data, work, approve=False))
