"""Every route x every role, generated from the app's route table: the guard answers 403 or lets through.

Pages are asked for with real ids from the demo restaurant, so a role that may see a page gets it (200), not
merely "not 403". The JSON API is asked with tokens of each scope, the websockets with each role's cookies,
and every state-changing route is sent once without its CSRF token and once with a forged one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler, WebsocketRouteHandler
from sqlmodel import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.accounting.models import Account
from app.floor.models import DiningTable
from app.kitchen.models import Station
from app.menu.models import MenuItem
from app.orders import firing, seating
from app.orders import lines as order_lines
from app.staff import services
from app.staff.auth import required_permissions
from app.staff.models import Staff
from app.staff.permissions import Role, permissions_for
from tests.conftest import log_in

PINS = {Role.SERVER: "1111", Role.BARTENDER: "2222", Role.COOK: "3333", Role.MANAGER: "9999", Role.HOST: "5555"}
PATH_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
MISSING = "999999"
GUARD_REFUSAL = "Ask a manager"
CSRF_REFUSAL = "CSRF"


def _http_routes(app: Litestar, *, api: bool = False) -> list[tuple[str, str, HTTPRouteHandler]]:
    """(method, path template, handler) for every guarded route: the staff pages, or the JSON API."""
    found = []
    for route in app.routes:
        if route.path.startswith(("/schema", "/static")) or route.path.startswith("/api/") != api:
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.handler_name == "options_handler":
                continue
            if handler.opt.get("public"):
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path, handler))
    return found


def _websocket_routes(app: Litestar) -> list[tuple[str, WebsocketRouteHandler]]:
    found = []
    for route in app.routes:
        handler = getattr(route, "route_handler", None)
        if isinstance(handler, WebsocketRouteHandler):
            found.append((route.path, handler))
    return found


def _fill(template: str, ids: dict[str, int]) -> tuple[str, bool]:
    """The path with real ids where the demo has one (and whether every id in it is real)."""
    real = True

    def value(match: re.Match[str]) -> str:
        nonlocal real
        if match.group(1) in ids:
            return str(ids[match.group(1)])
        real = False
        return MISSING

    return PATH_PARAM.sub(value, template), real


def _allowed(role: Role, handler: HTTPRouteHandler | WebsocketRouteHandler) -> bool:
    if handler.opt.get("authenticated"):
        return True
    return bool(required_permissions(handler.opt) & permissions_for(role))


@pytest.fixture
async def everyone(device_factory: Any, demo: None, runtime: Any) -> dict[Role, Any]:
    async with runtime.db.write() as session:
        await services.add_staff(session, name="Sam Admin", role=Role.ADMIN, pin="7777")
    people = {role: await log_in(await device_factory(), pin) for role, pin in PINS.items()}
    people[Role.ADMIN] = await log_in(await device_factory(), "7777")
    return people


@pytest.fixture
async def ids(runtime: Any, everyone: dict[Role, Any]) -> dict[str, int]:
    """Real ids for the path parameters of pages: a seated table with a dish sent to the kitchen, and the rest."""
    async with runtime.db.write() as session:
        lena = (await session.exec(select(Staff).where(Staff.name == "Lena Brooks"))).one()
        table = (await session.exec(select(DiningTable).where(DiningTable.name == "5"))).one()
        dish = (await session.exec(select(MenuItem).where(MenuItem.sku == "PA-CAR"))).one()
        station = (await session.exec(select(Station).where(Station.name == "Grill"))).one()
        account = (await session.exec(select(Account))).first()
        check = await seating.open_check(session, table_id=table.id, covers=2, server=lena, kind="table")
        line = await order_lines.add_line(
            session,
            check_id=check.id or 0,
            request=order_lines.LineRequest(menu_item_id=dish.id or 0, seat=1),
            actor=lena,
            expected_version=None,
        )
        await firing.send(session, check_id=check.id or 0, actor=lena, expected_version=None)
    assert account is not None
    return {
        "check_id": check.id or 0,
        "line_id": line.id or 0,
        "item_id": dish.id or 0,
        "table_id": table.id or 0,
        "floor_id": table.floor_id,
        "station_id": station.id or 0,
        "account_id": account.id or 0,
    }


# Pages that answer an allowed role with something other than the page itself, and why.
NOT_A_PAGE = {
    "/": 302,  # sends each person to where they work
    "/accounting": 302,  # opens on the journal
    "/closes": 302,  # opens on the day
}
# Pages that need a question in their query string.
QUERIES = {
    "/floor/tables": "?floor={floor_id}",
    "/accounting/export/download": "?format=csv",
}


async def test_every_route_answers_each_role_by_its_permission(
    app: Litestar, everyone: dict[Role, Any], ids: dict[str, int]
) -> None:
    wrong: list[str] = []
    routes = _http_routes(app)
    assert len(routes) >= 150, "the matrix sees the whole route table"
    pages = 0
    for method, template, handler in routes:
        if template == "/logout":
            continue
        path, real = _fill(template, ids) if method == "GET" else (PATH_PARAM.sub(MISSING, template), False)
        if method == "GET":
            path += QUERIES.get(template, "").format(**ids)
        for role, device in everyone.items():
            if method == "GET":
                response = await device.get(path, follow_redirects=False)
            else:
                response = await device.post(path, {}, follow_redirects=False)
            allowed = _allowed(role, handler)
            status = response.status_code
            where = f"{method} {path} as {role}"
            if status >= 500:
                wrong.append(f"{where}: {status}")
            elif not allowed:
                if status != 403 or GUARD_REFUSAL not in response.text:
                    wrong.append(f"{where}: {status}, expected the guard's 403")
            elif status == 403 and GUARD_REFUSAL in response.text:
                wrong.append(f"{where}: refused but the role holds the permission")
            elif method == "GET":
                expected = NOT_A_PAGE.get(template, 200 if real else 404)
                pages += status == 200
                if status != expected:
                    wrong.append(f"{where}: {status}, expected {expected}")
    assert wrong == [], "\n".join(wrong)
    assert pages >= 100, "allowed roles were shown real pages"


async def test_nobody_logged_in_reaches_no_route(app: Litestar, device_factory: Any, demo: None) -> None:
    stranger = await device_factory()
    wrong = []
    for method, template, _handler in _http_routes(app):
        path = PATH_PARAM.sub(MISSING, template)
        if method == "GET":
            response = await stranger.get(path, follow_redirects=False)
            refused = response.status_code == 303 and response.headers["location"].startswith("/login")
        else:
            response = await stranger.post(path, {}, follow_redirects=False)
            refused = response.headers.get("hx-redirect") == "/login" or response.status_code in (401, 403)
        if not refused:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)


async def test_every_api_route_answers_each_token_by_its_scope(app: Litestar, runtime: Any, demo: None) -> None:
    tokens: dict[str, str] = {}
    async with runtime.db.write() as session:
        for scopes in ("read", "write", "read,write"):
            tokens[scopes] = await services.create_api_token(session, name=f"ERP {scopes}", scopes=scopes)
    routes = _http_routes(app, api=True)
    assert len(routes) >= 8
    wrong = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as api:
        for method, template, handler in routes:
            path = PATH_PARAM.sub(MISSING, template)
            scope = handler.opt["api_scope"]
            anonymous = await api.request(method, path, json={} if method != "GET" else None)
            if anonymous.status_code != 401:
                wrong.append(f"{method} {path} without a token: {anonymous.status_code}")
            for scopes, token in tokens.items():
                response = await api.request(
                    method, path, json={} if method != "GET" else None, headers={"authorization": f"Bearer {token}"}
                )
                allowed = scope in scopes.split(",")
                if response.status_code >= 500 or (allowed == (response.status_code == 403)):
                    wrong.append(f"{method} {path} with {scopes}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)


@pytest.fixture
async def served(app: Litestar, everyone: dict[Role, Any]) -> AsyncIterator[str]:
    """The app behind uvicorn on a free port, for websockets."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await task


async def _opens(host: str, path: str, cookies: str) -> bool:
    """Whether a websocket on `path` opens and stays open for this person."""
    try:
        async with connect(
            f"ws://{host}{path}", additional_headers={"Cookie": cookies}, origin=f"http://{host}", open_timeout=5
        ) as socket:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(socket.recv(), timeout=0.3)
            return True
    except (InvalidStatus, ConnectionClosed):
        return False


async def test_every_websocket_opens_only_for_roles_that_may_see_it(
    app: Litestar, everyone: dict[Role, Any], ids: dict[str, int], served: str
) -> None:
    routes = _websocket_routes(app)
    assert len(routes) >= 3
    wrong = []
    for template, handler in routes:
        path, real = _fill(template, ids)
        assert real, f"the demo has ids for {template}"
        if template == "/floor/live":
            path += f"?floor={ids['floor_id']}"
        for role, device in everyone.items():
            cookies = "; ".join(f"{name}={value}" for name, value in device.client.cookies.items())
            opened = await _opens(served, path, cookies)
            if opened != _allowed(role, handler):
                wrong.append(f"{path} as {role}: {'opened' if opened else 'refused'}")
        if await _opens(served, path, ""):
            wrong.append(f"{path} opened for nobody logged in")
    assert wrong == [], "\n".join(wrong)


async def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app: Litestar, everyone: dict[Role, Any]
) -> None:
    # The admin holds every permission, so a 403 here can only be the missing token.
    admin = everyone[Role.ADMIN]
    changing = [(m, PATH_PARAM.sub(MISSING, t)) for m, t, _h in _http_routes(app) if m != "GET"]
    changing += [("POST", "/login"), ("POST", "/login/enrol")]
    assert len(changing) >= 100, "there are state-changing routes"
    wrong = []
    for method, path in changing:
        for headers in ({"hx-request": "true"}, {"hx-request": "true", "x-csrftoken": "forged" + admin.csrf[6:]}):
            response = await admin.client.request(method, path, headers=headers, data={"pin": "7777"})
            if response.status_code != 403 or CSRF_REFUSAL not in response.text:
                wrong.append(f"{method} {path} {sorted(headers)}: {response.status_code}")
        if path not in ("/logout", "/login", "/login/enrol"):
            with_token = await admin.post(path, {}, follow_redirects=False)
            if with_token.status_code == 403 and CSRF_REFUSAL in with_token.text:
                wrong.append(f"{method} {path}: refused even with the token")
    assert wrong == [], "\n".join(wrong)
    still_in = await admin.get("/manage/staff", follow_redirects=False)
    assert still_in.status_code == 200, "no refused request logged the admin out"
