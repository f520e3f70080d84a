"""The route matrix for head office's own routes: manager pages by permission, venue endpoints by credential."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from app.group import controllers as group_controllers
from app.group.protocol import ENROL_PATH, RECORDS_PATH, STATUS_PATH
from app.staff import services as staff
from app.staff.permissions import Role
from app.sync import controllers as sync_controllers
from tests.conftest import log_in
from tests.integration.test_route_matrix import GUARD_REFUSAL, MISSING, PATH_PARAM, PINS, _allowed, _http_routes


@pytest.fixture
async def everyone(device_factory: Any, demo: None, runtime: Any) -> dict[Role, Any]:
    """One person of each role, logged in on a device of their own (as in the route matrix)."""
    async with runtime.db.write() as session:
        await staff.add_staff(session, name="Sam Admin", role=Role.ADMIN, pin="7777")
    people = {role: await log_in(await device_factory(), pin) for role, pin in PINS.items()}
    people[Role.ADMIN] = await log_in(await device_factory(), "7777")
    return people


HEAD_OFFICE_PAGES = {h.handler_name for h in group_controllers.MANAGE_ROUTES}
VENUE_ENDPOINTS = {ENROL_PATH, RECORDS_PATH, STATUS_PATH}


async def test_head_office_pages_answer_each_role_by_its_permission(app: Litestar, everyone: dict[Role, Any]) -> None:
    routes = [(m, t, h) for m, t, h in _http_routes(app) if h.handler_name in HEAD_OFFICE_PAGES]
    assert len(routes) == len(HEAD_OFFICE_PAGES)
    wrong = []
    for method, template, handler in routes:
        path = PATH_PARAM.sub(MISSING, template)
        for role, device in everyone.items():
            if method == "GET":
                response = await device.get(path, follow_redirects=False)
            else:
                response = await device.post(path, {}, follow_redirects=False)
            refused = response.status_code == 403 and GUARD_REFUSAL in response.text
            if response.status_code >= 500 or refused == _allowed(role, handler):
                wrong.append(f"{method} {path} as {role}: {response.status_code}")
            if method == "GET" and _allowed(role, handler) and response.status_code != 200:
                wrong.append(f"{method} {path} as {role}: {response.status_code}, expected the page")
    assert wrong == [], "\n".join(wrong)


async def test_venue_endpoints_take_a_venue_credential_not_a_staff_login(
    app: Litestar,
    everyone: dict[Role, Any],
) -> None:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path in VENUE_ENDPOINTS and handler.handler_name != "options_handler":
                found.append((route.path, handler))
                assert handler.opt.get("venue_credential"), route.path
    assert len(found) == len(VENUE_ENDPOINTS)
    admin = everyone[Role.ADMIN]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as api:
        for path, handler in found:
            method = sorted(handler.http_methods - {"HEAD", "OPTIONS"})[0]
            if path == ENROL_PATH:
                continue  # the token is the credential; see test_enrolment_and_ingest
            anonymous = await api.request(method, path, json={"records": []} if method == "POST" else None)
            assert anonymous.status_code == 401, path
            logged_in = await admin.client.request(method, path, json={"records": []} if method == "POST" else None)
            assert logged_in.status_code == 401, f"{path}: a staff login is not a venue credential"


async def test_a_head_office_has_no_venue_link_page_and_a_venue_no_venue_list(app: Litestar) -> None:
    paths = {route.path for route in app.routes}
    assert "/manage/venues" in paths
    assert not {path for r in sync_controllers.ROUTES for path in r.paths} & paths


async def test_a_manager_at_head_office_starts_at_the_morning_check_without_the_venue_pages(
    device_factory: Any, demo: None
) -> None:
    device = await device_factory()
    response = await device.client.post(
        "/login", data={"pin": "9999", "_csrf_token": device.csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/manage/books"
    home = await device.get("/", follow_redirects=False)
    assert home.headers["location"] == "/manage/books"
    page = await device.get("/manage/books")
    assert page.status_code == 200
    nav = page.text.split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
    assert 'href="/manage"' in nav
    for venue_page in ('href="/floor"', 'href="/kds"', 'href="/reservations"', 'href="/closes/day"', 'href="/guests"'):
        assert venue_page not in nav
