"""Pages and endpoints for orders: seating, order entry, hold and fire, voids, transfers, merges, moves.

Every state-changing request carries an idempotency key and runs through `_once`: the first request with a
key does the work and stores its answer in the same transaction; a double tap or a retry gets that answer
again (what it did itself rolled back); the same key with a different body is refused. Refusals change nothing
and say why in the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.response import Template
from litestar.template import TemplateEngineProtocol
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import web
from app.lib.errors import InvalidInput, ManagerApprovalRequired, NotFound, StaleVersion
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.menu.models import Course, MenuItem
from app.orders import dialogs, menu_queries, queries, services
from app.orders.approvals import identify_approver
from app.orders.calculations import MAX_QUANTITY, NOTE_MAX_LENGTH, VOID_REASON_MAX_LENGTH, ModifierQuestion
from app.orders.models import LineState, PacingTrigger
from app.staff.auth import Viewer
from app.staff.models import Staff
from app.staff.permissions import Perm
from app.staff.services import PinPolicy

VOID_REASONS = ("Guest changed their mind", "Rung in by mistake", "Kitchen error", "Took too long", "Ran out")


ITEM_BUTTONS_TEMPLATE = "orders/_item_buttons.html"


_TARGET_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,60}$")


ITEM_SHEET = "orders/_item_sheet.html"


LINE_SHEET = "orders/_line_sheet.html"


Work = Callable[[AsyncSession, Staff, Staff | None], Awaitable[Response[Any]]]


async def _once(
    request: Request[Any, Any, Any],
    db: web.Db,
    fields: Mapping[str, Any],
    work: Work,
    *,
    check_id: int | None = None,
) -> Response[Any]:
    """Run `work` once per idempotency key; a stale tablet gets the fresh check, a missing PIN the PIN pad."""
    viewer: Viewer = request.user
    key = check_key(str(fields.get("idempotency_key") or ""))
    print_ = fingerprint(request.method, request.url.path, _fingerprint_fields(fields))
    try:
        approver_id = await _approver_from_pin(request, db, fields)

        async def stored(session: AsyncSession) -> StoredResponse:
            # The person was read with the login a moment ago; staff rows are archived, never deleted.
            actor = await session.merge(viewer.staff, load=False)
            approver = await session.get(Staff, approver_id) if approver_id is not None else None
            response = await work(session, actor, approver)
            body = response.content if isinstance(response.content, str) else ""
            headers = {k: v for k, v in response.headers.items() if k.lower() in {"hx-redirect", "location"}}
            return StoredResponse(response.status_code or 200, body, headers)

        # Order commands only change the database, so the key is stored with its answer after the work.
        result = await run_once(
            db, key=key, scope=f"orders:{viewer.staff.id}", print_=print_, work=stored, claim_first=False
        )
    except StaleVersion as exc:
        if check_id is None:
            raise
        return await _stale(request, db, check_id, exc, fields)
    except ManagerApprovalRequired as exc:
        if "manager_pin" in fields:
            # The form already has its PIN pad: the refusal is said there, never on a second pad.
            return web.error_response(request, exc)
        return _approval_sheet(request, fields, exc.message)
    return Response(
        content=result.body, status_code=result.status_code, headers=result.headers, media_type=MediaType.HTML
    )


async def _approver_from_pin(request: Request[Any, Any, Any], db: web.Db, fields: Mapping[str, Any]) -> int | None:
    pin = str(fields.get("manager_pin") or "").strip()
    if not pin:
        return None
    settings: Settings = request.app.state.settings
    viewer: Viewer = request.user
    policy = PinPolicy(
        throttle_after=settings.pin_throttle_after,
        lockout_after=settings.pin_lockout_after,
        window=timedelta(minutes=settings.pin_window_minutes),
        throttle_delay=timedelta(seconds=settings.pin_throttle_seconds),
    )
    # Its own transaction: a wrong PIN is counted against the device even though the action is refused.
    async with db.write() as session:
        outcome = await identify_approver(session, pin=pin, device_id=viewer.device_id, policy=policy)
    if outcome.approver_id is None:
        raise ManagerApprovalRequired(outcome.message)
    return outcome.approver_id


def _fingerprint_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    # A PIN never goes into a stored digest; whether one was given is enough to tell requests apart.
    cleaned = {k: v for k, v in fields.items() if k != "manager_pin"}
    cleaned["manager_pin_given"] = bool(fields.get("manager_pin"))
    return cleaned


async def _stale(
    request: Request[Any, Any, Any], db: web.Db, check_id: int, exc: StaleVersion, fields: Mapping[str, Any]
) -> Response[Any]:
    if not web.is_htmx(request):
        return Template(
            template_name="error.html", context={"message": exc.message, "status_code": 409}, status_code=409
        )
    async with db.read() as session:
        view = await _view(session, check_id)
        dialog = await _dialog_kept(request, session, view, fields, exc.message)
    # From a dialog, the refusal is said in the dialog, redrawn on the fresh check with what was typed kept.
    context = {**_panel_context(request), **dialog}
    body = _render(
        request, "orders/_check_update.html", v=view, message=exc.message, level="error", quiet=bool(dialog), **context
    )
    return Response(
        content=body.content,
        status_code=409,
        media_type=MediaType.HTML,
        headers={"HX-Retarget": "#check-panel", "HX-Reswap": "outerHTML"},
    )


async def _dialog_kept(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    view: queries.CheckView,
    fields: Mapping[str, Any],
    message: str,
) -> dict[str, Any]:
    """The dialog a stale request came from, on the fresh check, keeping what was typed; {} when there is none."""
    trigger = request.headers.get("hx-trigger") or ""
    if trigger == dialogs.ITEM_DIALOG:
        item = await session.get(MenuItem, _required_int(fields, "menu_item_id", label="The item"))
        if item is None or item.archived_at is not None:
            return {}
        questions = await menu_queries.modifier_questions(session, item.id or 0)
        return {
            "sheet": ITEM_SHEET,
            **_item_dialog(item, questions, dialogs.ItemDraft.typed(fields), stale=message),
        }
    if trigger not in (dialogs.LINE_DIALOG, dialogs.VOID_DIALOG):
        return {}
    line_id = request.path_params.get("line_id")
    line_view = next((lv for c in view.courses for lv in c.lines if lv.line.id == line_id), None)
    if line_view is None or line_view.line.state == LineState.VOIDED:
        return {}
    fresh = dialogs.LineDraft.of(line_view.line)
    draft = fresh.with_changes(fields) if trigger == dialogs.LINE_DIALOG else fresh.with_void(fields)
    return {"sheet": LINE_SHEET, **_line_dialog(request, line_view, draft, stale=message)}


def _item_dialog(
    item: MenuItem, questions: list[ModifierQuestion], draft: dialogs.ItemDraft, *, stale: str | None = None
) -> dict[str, Any]:
    """What the item dialog shows: the item, its questions, its fields, and a refusal it must explain."""
    return {
        "item": item,
        "questions": questions,
        "draft": draft,
        "choice_field": dialogs.CHOICE_FIELD,
        "stale": stale,
        "note_limit": NOTE_MAX_LENGTH,
        "quantity_max": MAX_QUANTITY,
    }


def _line_dialog(
    request: Request[Any, Any, Any], lv: queries.LineView, draft: dialogs.LineDraft, *, stale: str | None = None
) -> dict[str, Any]:
    """What the line dialog shows: the line, its fields, and, after a stale refusal, the line as it stands now."""
    viewer: Viewer = request.user
    unsent = lv.line.state in services.UNSENT
    fresh = dialogs.LineDraft.of(lv.line)
    # A change typed for an unsent line the kitchen has since been sent cannot be saved; it is still shown.
    lost = draft.summary() if stale and not unsent and draft.changes() != fresh.changes() else None
    return {
        "lv": lv,
        "draft": draft,
        "fresh": fresh,
        "stale": stale,
        "now_on_the_check": dialogs.now_on_the_check(lv) if stale else "",
        "not_saved": lost,
        "courses": list(Course),
        "unsent": unsent,
        "needs_pin": not viewer.can(Perm.VOID_AFTER_SEND),
        "reasons": VOID_REASONS,
        "note_limit": NOTE_MAX_LENGTH,
        "reason_limit": VOID_REASON_MAX_LENGTH,
        "quantity_max": MAX_QUANTITY,
    }


def _approval_sheet(request: Request[Any, Any, Any], fields: Mapping[str, Any], message: str) -> Response[Any]:
    target = request.headers.get("hx-target") or "check-panel"
    carried = [
        (key, value)
        for key, values in fields.items()
        if key not in {"manager_pin", "_csrf_token"}
        for value in (values if isinstance(values, list) else [values])
    ]
    body = _render(
        request,
        "orders/_approval_sheet.html",
        message=message,
        action=request.url.path,
        carried=carried,
        target=target if _TARGET_ID.match(target) else "check-panel",
    )
    if not web.is_htmx(request):
        return Template(template_name="error.html", context={"message": message, "status_code": 403}, status_code=403)
    return Response(
        content=body.content,
        status_code=403,
        media_type=MediaType.HTML,
        headers={"HX-Retarget": "#sheet", "HX-Reswap": "innerHTML"},
    )


async def _updated(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    check_id: int,
    message: str,
    *,
    quiet: bool = False,
    seats_changed: bool = False,
    selected_seat: int | None = None,
) -> Response[Any]:
    """The answer to a change: the fresh check panel (htmx), or back to the check page."""
    if not web.is_htmx(request):
        return Response(content="", status_code=303, headers={"location": f"/checks/{check_id}"})
    await session.flush()
    view = await _view(session, check_id)
    return _render(
        request,
        "orders/_check_update.html",
        v=view,
        message=message,
        level="info",
        quiet=quiet,
        seats_changed=seats_changed,
        selected_seat=selected_seat,
        **_panel_context(request),
    )


def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Response[Any]:
    """A template rendered now, so its HTML can be stored with the idempotency key."""
    full = Template(template_name=template, context=context).create_template_context(request)
    html = _engine(request.app).get_template(template).render(**full)
    return Response(content=html, media_type=MediaType.HTML)


def _engine(app: Litestar) -> TemplateEngineProtocol[Any, Any]:
    engine: TemplateEngineProtocol[Any, Any] | None = app.template_engine
    if engine is None:
        raise RuntimeError("the app has no template engine")
    return engine


def _redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """Go to `url`: a header htmx follows, or a 303 (both storable with the idempotency key)."""
    if web.is_htmx(request):
        return Response(content="", media_type=MediaType.HTML, headers={"HX-Redirect": url})
    return Response(content="", status_code=303, headers={"location": url})


def _sheet_done(request: Request[Any, Any, Any], message: str, *, redirect: str | None = None) -> Response[Any]:
    """Close the sheet and say what happened; optionally go elsewhere."""
    if not web.is_htmx(request):
        return Response(content="", status_code=303, headers={"location": redirect or "/floor"})
    response = _render(request, "orders/_sheet_done.html", message=message)
    if redirect:
        response.headers["HX-Redirect"] = redirect
    return response


def _panel_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    viewer: Viewer = request.user
    return {
        "me": viewer.staff.id,
        "can_edit_any": viewer.can(Perm.CHECKS_EDIT_ANY),
        "can_void": viewer.can(Perm.VOID_AFTER_SEND),
        "courses": list(Course),
        "LineState": LineState,
    }


async def _view(session: AsyncSession, check_id: int) -> queries.CheckView:
    view = await queries.check_view(session, check_id)
    if view is None:
        raise NotFound(f"Check {check_id} does not exist.")
    return view


def _pacing_trigger(fields: Mapping[str, Any]) -> PacingTrigger:
    try:
        return PacingTrigger(str(fields.get("trigger") or ""))
    except ValueError:
        raise InvalidInput(
            "Choose when the course fires: when the course before is ready, after some minutes, "
            "or as the course before is cleared."
        ) from None


def _zone(request: Request[Any, Any, Any]) -> str:
    settings: Settings = request.app.state.settings
    return settings.timezone


def _version(fields: Mapping[str, Any]) -> int:
    return web.field_int(fields, "version", label="The check version", minimum=1)


def _required_int(fields: Mapping[str, Any], name: str, *, label: str) -> int:
    if fields.get(name) in (None, ""):
        raise InvalidInput(f"{label} is missing.")
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _optional_int(fields: Mapping[str, Any], name: str, *, label: str) -> int | None:
    if fields.get(name) in (None, ""):
        return None
    return web.field_int(fields, name, label=label, minimum=1, maximum=2**31 - 1)


def _int_list(fields: Mapping[str, Any], name: str, *, label: str) -> list[int]:
    raw = fields.get(name)
    values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    return [web.field_int({name: value}, name, label=label, minimum=1, maximum=2**31 - 1) for value in values]


def _seat(fields: Mapping[str, Any]) -> int | None:
    raw = str(fields.get("seat") or "").strip().lower()
    if raw in ("", "shared", "0"):
        return None
    return web.field_int(fields, "seat", label="The seat", minimum=1, maximum=99)


def _course(raw: Any) -> Course | None:
    value = str(raw or "").strip().lower()
    if value in ("", "auto"):
        return None
    try:
        return Course(value)
    except ValueError:
        raise InvalidInput(
            f"There is no course {str(raw)[:20]!r}; choose drinks, starters, mains or dessert."
        ) from None


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    return str(fields.get(name) or "").strip().lower() in {"1", "on", "true", "yes"}
