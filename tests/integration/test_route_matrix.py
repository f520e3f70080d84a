"""Every route x every role, generated from the app's route table: the guard answers 403 or lets through."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from app.staff import services
from app.staff.auth import required_permissions
from app.staff.permissions import Role, permissions_for
from tests.conftest import log_in

PINS = {Role.SERVER: "1111", Role.BARTENDER: "2222", Role.COOK: "3333", Role.MANAGER: "9999", Role.HOST: "5555"}
PATH_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


def _routes(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        if route.path.startswith(("/schema", "/static", "/api/")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.handler_name == "options_handler":
                continue
            if handler.opt.get("public"):
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, PATH_PARAM.sub("999999", route.path), handler))
    return found


def _allowed(role: Role, handler: HTTPRouteHandler) -> bool:
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


async def test_every_route_answers_each_role_by_its_permission(app: Litestar, everyone: dict[Role, Any]) -> None:
    wrong: list[str] = []
    routes = _routes(app)
    assert len(routes) >= 8
    for method, path, handler in routes:
        if path == "/logout":
            continue
        for role, device in everyone.items():
            if method == "GET":
                response = await device.get(path, follow_redirects=False)
            else:
                response = await device.post(path, {}, follow_redirects=False)
            allowed = _allowed(role, handler)
            if response.status_code >= 500:
                wrong.append(f"{method} {path} as {role}: {response.status_code}")
            elif allowed and response.status_code == 403 and "Ask a manager" in response.text:
                wrong.append(f"{method} {path} as {role}: refused but the role holds the permission")
            elif not allowed and response.status_code != 403:
                wrong.append(f"{method} {path} as {role}: {response.status_code}, expected 403")
    assert wrong == [], "\n".join(wrong)


async def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app: Litestar, everyone: dict[Role, Any]
) -> None:
    manager = everyone[Role.MANAGER]
    refused = []
    for method, path, _handler in _routes(app):
        if method == "GET":
            continue
        response = await manager.client.request(method, path, headers={"hx-request": "true"})
        refused.append((path, response.status_code))
    assert refused, "there are state-changing routes"
    assert [p for p, status in refused if status != 403] == []
