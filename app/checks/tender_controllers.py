"""The manager's tenders page: adding, changing and archiving tenders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from app.checks import queries
from app.checks import tenders as check_tenders
from app.checks.controller_helpers import Req, _once, _optional_int, _viewer
from app.checks.models import TenderKind
from app.lib import web
from app.staff.permissions import Perm


@get("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tenders_page(request: Req, db: web.Db) -> Template:
    """Tenders and the ledger accounts their money goes to."""
    async with db.read() as session:
        rows = await queries.tenders(session, include_archived=True)
    return web.page(
        request, "checks/tenders.html", fragment="checks/_tenders.html", tenders=rows, kinds=list(TenderKind), flash=""
    )


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    return str(fields.get(name) or "") in ("1", "on", "true", "yes")


@post("/manage/tenders", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tender_save(request: Req, db: web.Db) -> Template:
    """Add a tender, or change one."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        tender = await check_tenders.save_tender(
            session,
            actor=actor,
            tender_id=_optional_int(fields, "tender_id", "The tender"),
            name=str(fields.get("name") or ""),
            kind=str(fields.get("kind") or ""),
            ledger_account_code=str(fields.get("ledger_account_code") or ""),
            allows_tip=_flag(fields, "allows_tip"),
            opens_drawer=_flag(fields, "opens_drawer"),
            uses_terminal=_flag(fields, "uses_terminal"),
            sort_order=web.field_int(fields, "sort_order", label="The position", minimum=0, maximum=999, default=0),
        )
        return f"{tender.name} saved."

    flash = await _once(request, db, fields, work)
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


@post("/manage/tenders/{tender_id:int}/archive", permission=Perm.ACCOUNTING_MANAGE, include_in_schema=False)
async def tender_archive(request: Req, db: web.Db, tender_id: FromPath[int]) -> Template:
    """Stop offering a tender."""
    fields = await web.form_data(request)
    actor = _viewer(request).staff

    async def work(session: AsyncSession) -> str:
        tender = await check_tenders.archive_tender(session, tender_id=tender_id, actor=actor)
        return f"{tender.name} is no longer offered."

    flash = await _once(request, db, fields, work)
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
