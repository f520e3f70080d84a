"""Pages and endpoints for orders: seating, order entry, hold and fire, voids, transfers, merges, moves.

Every state-changing request is a POST whose form Litestar decodes into an `OrderForm` (the request's idempotency
key and a manager's PIN where one was typed, a `CheckChange` also the check's version, plus the command's own
fields), refused in one place with a 422 when a field is missing or malformed. It runs through `_once`: the first
request with a key does the work and stores its answer in the same transaction; a double tap or a retry gets that answer
again (what it did itself rolled back); the same key with a different body is refused. Refusals change nothing
and say why in the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any, cast

import msgspec
from litestar import Litestar, MediaType, Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template
from litestar.template import TemplateEngineProtocol
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup
from msgspec import Meta
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import commands, forms, web
from app.lib.db import Turn
from app.lib.errors import InvalidInput, ManagerApprovalRequired, NotFound, StaleVersion
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once
from app.lib.settings import Settings
from app.menu.models import Course, MenuItem
from app.orders import dialogs, menu_queries, queries, services
from app.orders.approvals import identify_approver
from app.orders.calculations import MAX_QUANTITY, NOTE_MAX_LENGTH, VOID_REASON_MAX_LENGTH, ModifierQuestion
from app.orders.lines import LineChange, LineRequest
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

Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
"""A chosen row's id (a table, a check, a line, a server…)."""


class OrderForm(commands.KeyedForm, kw_only=True):
    """What every order command sends besides its own fields: its idempotency key, and a manager's PIN if typed."""

    manager_pin: str = ""


class CheckChange(OrderForm, kw_only=True):
    """A command on one check: it carries the version of the check the tablet showed."""

    version: Annotated[int, Meta(title="The check version", ge=1)] | None = None

    def check(self) -> None:
        if self.version is None:
            raise ValueError("The check version must be a whole number.")

    @property
    def expected_version(self) -> int:
        assert self.version is not None  # `check` refused a form without one
        return self.version


def order_post(path: str, *, permission: Perm, keep_blanks: bool = False) -> Callable[[Any], HTTPRouteHandler]:
    """An order page's POST whose form is typed: blank fields take their defaults before Litestar decodes it
    (unless `keep_blanks`: a form whose blank field means something, as an emptied note does)."""
    return post(
        path,
        permission=permission,
        include_in_schema=False,
        before_request=None if keep_blanks else forms.drop_blanks,
    )


async def item_choices(request: Request[Any, Any, Any]) -> None:
    """Before the item dialog's form is decoded: its blanks dropped, and each choose-one group's pick (a field per
    group, `choice_<group>`) counted among the ticked options (`modifier_id`), so the form reads every answer."""
    await forms.drop_blanks(request)
    state = ScopeState.from_scope(request.scope)
    submitted = dict(cast("dict[str, Any]", state.form))
    picked = list(submitted.get("modifier_id") or [])
    for name in [name for name in submitted if name.startswith(dialogs.CHOICE_FIELD)]:
        value = submitted.pop(name)
        picked.extend(value if isinstance(value, list) else [value])
    if picked:
        submitted["modifier_id"] = picked
    state.form = submitted


def on(value: str) -> bool:
    """A ticked box or a chosen yes ("1", "on", "true", "yes")."""
    return value.strip().lower() in {"1", "on", "true", "yes"}


async def _once(
    request: Request[Any, Any, Any],
    db: web.Db,
    data: OrderForm,
    work: Work,
    *,
    check_id: int | None = None,
    turn: Turn = Turn.REQUEST,
) -> Response[Any]:
    """Run `work` once per idempotency key; a stale tablet gets the fresh check, a missing PIN the PIN pad.

    `turn`: `Turn.KITCHEN` for a command that sends food to the kitchen, which goes before other requests waiting
    for SQLite's one writer."""
    viewer: Viewer = request.user
    key = check_key(data.idempotency_key)
    print_ = fingerprint(request.method, request.url.path, _fingerprint_fields(data))
    try:
        approver_id = await _approver_from_pin(request, db, data.manager_pin)

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
            db, key=key, scope=f"orders:{viewer.staff.id}", print_=print_, work=stored, claim_first=False, turn=turn
        )
    except StaleVersion as exc:
        if check_id is None:
            raise
        return await _stale(request, db, check_id, exc, data)
    except ManagerApprovalRequired as exc:
        fields = await web.form_data(request)  # as it was sent, to be sent again with the PIN
        if "manager_pin" in fields:
            # The form already has its PIN pad: the refusal is said there, never on a second pad.
            return web.error_response(request, exc)
        return _approval_sheet(request, fields, exc.message)
    return Response(
        content=result.body, status_code=result.status_code, headers=result.headers, media_type=MediaType.HTML
    )


async def _approver_from_pin(request: Request[Any, Any, Any], db: web.Db, pin: str) -> int | None:
    pin = pin.strip()
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


def _fingerprint_fields(data: OrderForm) -> dict[str, Any]:
    # A PIN never goes into a stored digest; whether one was given is enough to tell requests apart.
    cleaned = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "manager_pin"}
    cleaned["manager_pin_given"] = bool(data.manager_pin)
    return cleaned


async def _stale(
    request: Request[Any, Any, Any], db: web.Db, check_id: int, exc: StaleVersion, data: OrderForm
) -> Response[Any]:
    if not web.is_htmx(request):
        return Template(
            template_name="error.html", context={"message": exc.message, "status_code": 409}, status_code=409
        )
    async with db.read() as session:
        view = await _view(session, check_id)
        dialog = await _dialog_kept(request, session, view, data, exc.message)
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
    data: OrderForm,
    message: str,
) -> dict[str, Any]:
    """The dialog a stale request came from, on the fresh check, keeping what was typed; {} when there is none."""
    trigger = request.headers.get("hx-trigger") or ""
    if trigger == dialogs.ITEM_DIALOG and isinstance(data, ItemForm):
        item = await session.get(MenuItem, data.menu_item_id)
        if item is None or item.archived_at is not None:
            return {}
        questions = await menu_queries.modifier_questions(session, item.id or 0)
        return {
            "sheet": ITEM_SHEET,
            **_item_dialog(item, questions, dialogs.ItemDraft.typed(data), stale=message),
        }
    if trigger not in (dialogs.LINE_DIALOG, dialogs.VOID_DIALOG):
        return {}
    line_id = request.path_params.get("line_id")
    line_view = next((lv for c in view.courses for lv in c.lines if lv.line.id == line_id), None)
    if line_view is None or line_view.line.state == LineState.VOIDED:
        return {}
    fresh = dialogs.LineDraft.of(line_view.line)
    if trigger == dialogs.LINE_DIALOG and isinstance(data, LineChangeForm):
        draft = fresh.with_changes(data)
    elif trigger == dialogs.VOID_DIALOG and isinstance(data, VoidForm):
        draft = fresh.with_void(data)
    else:
        return {}
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


def _drawn(app: Litestar, template: str, **context: Any) -> Markup:
    """`template` drawn now, as HTML to keep and place in pages later (autoescaped, as every template is)."""
    return Markup(_engine(app).get_template(template).render(**context))  # noqa: S704 (an autoescaping template)


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


def _pacing_trigger(raw: str) -> PacingTrigger:
    try:
        return PacingTrigger(raw.strip())
    except ValueError:
        raise InvalidInput(
            "Choose when the course fires: when the course before is ready, after some minutes, "
            "or as the course before is cleared."
        ) from None


def _zone(request: Request[Any, Any, Any]) -> str:
    settings: Settings = request.app.state.settings
    return settings.timezone


def _whole(raw: str, *, label: str) -> int:
    """A number typed into a field the browser sends as text (a quantity may be any size: the order says how big)."""
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{label} must be a whole number.") from None


def _seat(raw: str) -> int | None:
    value = raw.strip().lower()
    if value in ("", "shared", "0"):
        return None
    number = _whole(value, label="The seat")
    if not 1 <= number <= 99:
        raise ValueError(f"The seat must be {'at least 1' if number < 1 else 'at most 99'}.")
    return number


def _course(raw: str) -> Course | None:
    value = raw.strip().lower()
    if value in ("", "auto"):
        return None
    try:
        return Course(value)
    except ValueError:
        raise ValueError(f"There is no course {raw[:20]!r}; choose drinks, starters, mains or dessert.") from None


Note = Annotated[str, Meta(title="The note"), forms.Text(max_length=NOTE_MAX_LENGTH, required=False)]


class ItemForm(CheckChange, kw_only=True):
    """The item dialog: an item rung in with its choices (ticked options and each group's pick), quantity, seat,
    course, note and hold."""

    menu_item_id: Annotated[int, Meta(title="The item", ge=1, le=2**31 - 1)] | None = None
    quantity: str = "1"
    seat: str = ""
    course: str = ""
    note: Note = ""
    modifier_id: Annotated[list[Id], Meta(title="A choice")] = []
    hold: str = ""

    def check(self) -> None:
        if self.menu_item_id is None:
            raise ValueError("The item is missing.")
        _whole(self.quantity, label="Quantity")
        _seat(self.seat)
        _course(self.course)
        super().check()

    @property
    def line(self) -> LineRequest:
        assert self.menu_item_id is not None
        return LineRequest(
            menu_item_id=self.menu_item_id,
            quantity=_whole(self.quantity, label="Quantity"),
            seat=_seat(self.seat),
            course=_course(self.course),
            note=self.note,
            modifier_ids=tuple(self.modifier_id),
            hold=on(self.hold),
        )


class LineChangeForm(CheckChange, kw_only=True):
    """The line dialog: the fields it sends change the unsent line (a field left out leaves it; a blank note
    clears the note, a blank seat makes the line shared)."""

    quantity: str | None = None
    seat: str | None = None
    course: str = ""
    note: Note | None = None
    hold: str | None = None
    rush: str | None = None

    def check(self) -> None:
        if self.quantity is not None:
            _whole(self.quantity, label="Quantity")
        _seat(self.seat or "")
        _course(self.course)
        super().check()

    @property
    def change(self) -> LineChange:
        seat = _seat(self.seat or "")
        return LineChange(
            quantity=_whole(self.quantity, label="Quantity") if self.quantity is not None else None,
            seat=seat,
            shared=self.seat is not None and seat is None,
            course=_course(self.course),
            note=self.note,
            held=on(self.hold) if self.hold is not None else None,
            rush=on(self.rush) if self.rush is not None else None,
        )


class VoidForm(CheckChange, kw_only=True):
    """The void dialog: the reason, how many (all when blank) and a manager's PIN where the role needs one."""

    reason: Annotated[str, Meta(title="The reason"), forms.Text(max_length=VOID_REASON_MAX_LENGTH, required=False)] = ""
    quantity: str = ""

    def check(self) -> None:
        if self.quantity:
            _whole(self.quantity, label="Void quantity")
        super().check()

    @property
    def how_many(self) -> int | None:
        return _whole(self.quantity, label="Void quantity") if self.quantity else None
