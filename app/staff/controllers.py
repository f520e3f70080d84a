"""Login, lock and logout on shared devices; staff, devices and audit pages for managers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from msgspec import Meta
from sqlmodel import col, select

from app.lib import audit, forms, web
from app.lib.errors import InvalidInput, PermissionDenied
from app.lib.manage import FORM
from app.lib.settings import Settings
from app.staff import devices, lockouts, logins, pins, services, sessions
from app.staff.auth import DEVICE_COOKIE, SESSION_COOKIE, ApiClient, Viewer
from app.staff.models import Device, Staff
from app.staff.permissions import Perm, Role

DEVICE_COOKIE_AGE = 60 * 60 * 24 * 365 * 5


def home_for(user: Viewer | ApiClient | None, role: str = "venue") -> str:
    """Where a person starts: cooks at the kitchen screens, everyone else on the floor; at head office, the
    morning check of the group's books."""
    if role == "head_office":
        return "/manage/books"
    if isinstance(user, Viewer) and not user.can(Perm.FLOOR_VIEW) and user.can(Perm.KITCHEN_VIEW):
        return "/kds"
    return "/floor"


class LoginForm(forms.Form):
    """A PIN typed at the PIN pad. Whether it is right, and what a wrong one costs, is the login's to say."""

    pin: str = ""
    next: str = ""


class EnrolForm(LoginForm):
    """A manager's PIN and the name this browser is to be enrolled under (the enrolment checks the name)."""

    name: str = ""


class StaffForm(forms.Form):
    """A person to hire: their name, role and PIN."""

    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=80)]
    role: Annotated[Role, Meta(title="Role")]
    pin: Annotated[str, Meta(title="PIN")]

    def check(self) -> None:
        try:
            self.pin = pins.validate_pin(self.pin)
        except InvalidInput as refused:
            raise ValueError(refused.message) from None


def _policy(settings: Settings) -> pins.PinPolicy:
    return pins.PinPolicy.from_settings(settings)


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@get("/login", public=True, exclude_from_auth=True, include_in_schema=False)
async def login_page(request: Request[Any, Any, Any], db: web.Db, next: FromQuery[str | None] = None) -> Template:
    """The PIN pad a shared device shows when nobody is logged in; a stranger's browser asks to be enrolled first."""
    async with db.read() as session:
        device = await devices.device_by_token(session, request.cookies.get(DEVICE_COOKIE))
    return _login_template(device, next=_safe_next(next))


def _login_template(
    device: Device | None,
    *,
    next: str | None,
    message: str | None = None,
    locked: bool = False,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    cookies: list[Cookie] | None = None,
    name: str = "",
) -> Template:
    enrolled = device is not None and device.enrolled
    notice = None
    if not enrolled:
        notice = logins.REVOKED if device is not None else logins.NOT_ENROLLED
    return Template(
        template_name="staff/login.html",
        context={
            "next": next,
            "message": message,
            "locked": locked,
            "enrol": not enrolled,
            "notice": notice,
            "device_name": device.name if enrolled and device is not None else name,
        },
        status_code=status_code,
        headers=headers or {},
        cookies=cookies or [],
    )


def _device_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    settings: Settings = request.app.state.settings
    return Cookie(
        key=DEVICE_COOKIE,
        value=token,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


def _refused_status(retry_after_s: int, locked: bool) -> tuple[int, dict[str, str]]:
    status = 423 if locked else 429 if retry_after_s else 401
    return status, {"Retry-After": str(retry_after_s)} if retry_after_s else {}


@post("/login", public=True, exclude_from_auth=True, include_in_schema=False, before_request=forms.drop_blanks)
async def login(request: Request[Any, Any, Any], db: web.Db, data: Annotated[LoginForm, FORM]) -> Response[Any]:
    """Check a PIN on an enrolled device; on success a fresh session id replaces whatever the device had."""
    settings: Settings = request.app.state.settings
    next_url = _safe_next(data.next)
    async with db.write() as session:
        device = await devices.device_by_token(session, request.cookies.get(DEVICE_COOKIE))
        await sessions.end_session(session, request.cookies.get(SESSION_COOKIE))
        outcome = await logins.login_with_pin(
            session, device=device, pin=data.pin, policy=_policy(settings), address=web.client_address(request)
        )
    if not outcome.ok:
        if outcome.not_enrolled:
            return _login_template(device, next=next_url, status_code=403)
        status, headers = _refused_status(outcome.retry_after_s, outcome.device_locked or outcome.address_locked)
        return _login_template(
            device,
            next=next_url,
            message=outcome.message,
            locked=outcome.device_locked,
            status_code=status,
            headers=headers,
        )
    assert outcome.token is not None
    assert outcome.staff is not None
    viewer = Viewer(outcome.staff, 0, None)
    target = next_url or home_for(viewer, settings.role)
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=outcome.token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_max_hours * 3600,
    )
    return Redirect(path=target, status_code=303, cookies=[cookie])


@post("/login/enrol", public=True, exclude_from_auth=True, include_in_schema=False, before_request=forms.drop_blanks)
async def enrol(request: Request[Any, Any, Any], db: web.Db, data: Annotated[EnrolForm, FORM]) -> Response[Any]:
    """A manager's PIN enrols this browser as a named device; then the PIN pad takes staff PINs."""
    settings: Settings = request.app.state.settings
    next_url = _safe_next(data.next)
    name = data.name
    token = request.cookies.get(DEVICE_COOKIE)
    try:
        async with db.write() as session:
            outcome = await devices.enrol_device(
                session,
                token=token,
                name=name,
                pin=data.pin,
                policy=_policy(settings),
                address=web.client_address(request),
            )
    except InvalidInput as refused:
        async with db.read() as session:
            device = await devices.device_by_token(session, token)
        return _login_template(device, next=next_url, message=refused.message, status_code=422, name=name[:80])
    if not outcome.ok or outcome.device is None:
        async with db.read() as session:
            device = await devices.device_by_token(session, token)
        status, headers = _refused_status(outcome.retry_after_s, outcome.locked)
        return _login_template(
            device, next=next_url, message=outcome.message, status_code=status, headers=headers, name=name[:80]
        )
    target = "/login" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    return Redirect(path=target, status_code=303, cookies=[_device_cookie(request, outcome.device.token)])


@post("/logout", authenticated=True, include_in_schema=False)
async def logout(request: Request[Any, Any, Any], db: web.Db) -> Response[Any]:
    """Lock the device: end the session and show the PIN pad."""
    async with db.write() as session:
        await sessions.end_session(session, request.cookies.get(SESSION_COOKIE))
    response = web.hx_redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@get("/manage/staff", permission=Perm.STAFF_MANAGE, include_in_schema=False)
async def staff_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """The staff list and the hiring form."""
    async with db.read() as session:
        people = (await session.exec(select(Staff).order_by(col(Staff.archived_at).is_not(None), Staff.name))).all()
    return web.page(request, "staff/staff.html", fragment="staff/_staff_list.html", people=people, roles=list(Role))


@post("/manage/staff", permission=Perm.STAFF_MANAGE, include_in_schema=False, before_request=forms.drop_blanks)
async def staff_add(request: Request[Any, Any, Any], db: web.Db, data: Annotated[StaffForm, FORM]) -> Template:
    """Add a person with a role and a PIN."""
    viewer: Viewer = request.user
    async with db.write() as session:
        await services.add_staff(session, name=data.name, role=data.role, pin=data.pin, actor_id=viewer.staff.id)
    async with db.read() as session:
        people = (await session.exec(select(Staff).order_by(col(Staff.archived_at).is_not(None), Staff.name))).all()
    return Template(
        template_name="staff/_staff_list.html", context={"people": people, "roles": list(Role), "flash": "Added."}
    )


@post("/manage/staff/{staff_id:int}/archive", permission=Perm.STAFF_MANAGE, include_in_schema=False)
async def staff_archive(request: Request[Any, Any, Any], db: web.Db, staff_id: FromPath[int]) -> Template:
    """Archive a person: no more logins, history kept."""
    viewer: Viewer = request.user
    async with db.write() as session:
        await services.archive_staff(session, staff_id, actor_id=viewer.staff.id or 0)
    async with db.read() as session:
        people = (await session.exec(select(Staff).order_by(col(Staff.archived_at).is_not(None), Staff.name))).all()
    return Template(template_name="staff/_staff_list.html", context={"people": people, "roles": list(Role)})


async def _devices_context(session: Any, viewer: Viewer) -> dict[str, Any]:
    enrolled = (
        await session.exec(
            select(Device)
            .where(col(Device.enrolled_at).is_not(None))
            .order_by(col(Device.revoked_at).is_not(None), col(Device.locked_at).is_(None), col(Device.name))
        )
    ).all()
    names = {s.id: s.name for s in (await session.exec(select(Staff))).all()}
    running = await lockouts.active_lockouts(session)
    return {"devices": enrolled, "names": names, "lockouts": running, "this_device_id": viewer.device_id}


@get("/manage/devices", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def devices_page(request: Request[Any, Any, Any], db: web.Db) -> Template:
    """Enrolled devices (who enrolled them, when, last seen where), locked ones to unlock, and address lockouts."""
    viewer: Viewer = request.user
    async with db.read() as session:
        context = await _devices_context(session, viewer)
    return web.page(request, "staff/devices.html", fragment="staff/_devices.html", **context)


@post("/manage/devices/{device_id:int}/unlock", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def device_unlock(request: Request[Any, Any, Any], db: web.Db, device_id: FromPath[int]) -> Template:
    """Let a locked device take PINs again."""
    viewer: Viewer = request.user
    async with db.write() as session:
        await devices.unlock_device(session, device_id, manager=viewer.staff)
        context = await _devices_context(session, viewer)
    return Template(template_name="staff/_devices.html", context={**context, "flash": "Unlocked."})


@post("/manage/devices/{device_id:int}/revoke", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def device_revoke(request: Request[Any, Any, Any], db: web.Db, device_id: FromPath[int]) -> Response[Any]:
    """Take a device out of service: its sessions end, and its PINs stop working until it is enrolled again."""
    viewer: Viewer = request.user
    async with db.write() as session:
        device = await devices.revoke_device(session, device_id, manager=viewer.staff)
        context = await _devices_context(session, viewer)
    if viewer.device_id == device_id:
        return web.hx_redirect(request, "/login")
    return Template(template_name="staff/_devices.html", context={**context, "flash": f"Revoked {device.name}."})


@post("/manage/lockouts/{lockout_id:int}/lift", permission=Perm.DEVICES_MANAGE, include_in_schema=False)
async def lockout_lift(request: Request[Any, Any, Any], db: web.Db, lockout_id: FromPath[int]) -> Template:
    """Let PINs in again from a locked-out address, or end a venue-wide pause."""
    viewer: Viewer = request.user
    async with db.write() as session:
        await lockouts.lift_lockout(session, lockout_id, manager=viewer.staff)
        context = await _devices_context(session, viewer)
    return Template(template_name="staff/_devices.html", context={**context, "flash": "Lifted."})


@get("/manage/audit", permission=Perm.AUDIT_VIEW, include_in_schema=False)
async def audit_page(request: Request[Any, Any, Any], db: web.Db, action: FromQuery[str | None] = None) -> Template:
    """The newest audit entries and whether the chain still holds."""
    async with db.read() as session:
        query = select(audit.AuditEntry).order_by(col(audit.AuditEntry.id).desc()).limit(200)
        if action:
            query = query.where(audit.AuditEntry.action == action)
        entries = (await session.exec(query)).all()
        problems = await audit.verify(session)
        names = {s.id: s.name for s in (await session.exec(select(Staff))).all()}
    return web.page(request, "staff/audit.html", entries=entries, problems=problems, names=names, action=action)


MANAGE_TILES: tuple[tuple[str, str, str, frozenset[Perm]], ...] = (
    (
        "/manage/menu",
        "Menu",
        "Items, prices and categories: course, kitchen station, tax",
        frozenset({Perm.MENU_MANAGE}),
    ),
    ("/manage/modifiers", "Modifiers", "Forced and optional choices, paid extras", frozenset({Perm.MENU_MANAGE})),
    ("/manage/taxes", "Tax rates", "The rates categories charge", frozenset({Perm.MENU_MANAGE})),
    ("/manage/promotions", "Promotions", "Happy hours, quantity deals, set menus", frozenset({Perm.MENU_MANAGE})),
    ("/manage/86", "86 board", "What the kitchen has run out of", frozenset({Perm.EIGHTY_SIX})),
    ("/manage/floors", "Floors & tables", "Rooms, sections and the floor plan editor", frozenset({Perm.FLOOR_MANAGE})),
    (
        "/manage/kitchen",
        "Stations & printers",
        "Kitchen stations, expo and prep printers",
        frozenset({Perm.STATIONS_MANAGE}),
    ),
    ("/manage/staff", "Staff", "People, roles and PINs", frozenset({Perm.STAFF_MANAGE})),
    (
        "/manage/devices",
        "Devices",
        "Enrolled tablets and screens; unlock, revoke, lift an address lockout",
        frozenset({Perm.DEVICES_MANAGE}),
    ),
    ("/manage/audit", "Audit log", "Who did what, approved by whom, and why", frozenset({Perm.AUDIT_VIEW})),
    (
        "/manage/tenders",
        "Tenders",
        "Ways guests pay: tips, cash drawer, card terminal, ledger account",
        frozenset({Perm.ACCOUNTING_MANAGE}),
    ),
    ("/inventory", "Stock", "Stock items, recipes, deliveries and counts", frozenset({Perm.INVENTORY_MANAGE})),
    (
        "/accounting",
        "Books",
        "Journal, trial balance, reports and exports",
        frozenset({Perm.ACCOUNTING_MANAGE, Perm.REPORTS_VIEW}),
    ),
)
"""Each back-office area: where it lives, its name, what it holds, and the permissions that open it (any one)."""


@get("/manage", permission=tuple(sorted({p for tile in MANAGE_TILES for p in tile[3]})), include_in_schema=False)
async def manage_home(request: Request[Any, Any, Any]) -> Template:
    """The back office's start: a tile for every area the person may use."""
    viewer: Viewer = request.user
    tiles = [tile for tile in MANAGE_TILES if any(viewer.can(perm) for perm in tile[3])]
    if not tiles:
        raise PermissionDenied("Your role does not allow this. Ask a manager.")
    return web.page(request, "manage/index.html", tiles=tiles)


ROUTES = [
    login_page,
    login,
    logout,
    staff_page,
    staff_add,
    staff_archive,
    enrol,
    devices_page,
    device_unlock,
    device_revoke,
    lockout_lift,
    audit_page,
    manage_home,
]
