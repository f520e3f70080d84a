"""CSRF on every state change, role guards on every route."""

from __future__ import annotations

from typing import Any

from litestar import Litestar


async def test_a_post_without_csrf_token_is_refused_with_403(server: Any) -> None:
    response = await server.client.post("/logout", headers={"hx-request": "true"})
    assert response.status_code == 403
    still_in = await server.get("/floor", follow_redirects=False)
    assert still_in.status_code != 303, "the refused logout changed nothing"


async def test_a_login_without_csrf_token_is_refused_with_403(device_factory: Any, demo: None) -> None:
    tablet = await device_factory()
    response = await tablet.client.post("/login", data={"pin": "1111"})
    assert response.status_code == 403
    assert "brigade_session" not in tablet.client.cookies


async def test_a_server_gets_403_on_a_manager_page(server: Any) -> None:
    for url in ("/manage/staff", "/manage/devices", "/manage/audit"):
        response = await server.get(url)
        assert response.status_code == 403, url
        assert "Ask a manager" in response.text


async def test_a_server_cannot_add_staff(server: Any, runtime: Any) -> None:
    response = await server.post("/manage/staff", {"name": "Intruder", "role": "admin", "pin": "8888"})
    assert response.status_code == 403
    from sqlmodel import select

    from app.staff.models import Staff

    async with runtime.db.read() as session:
        names = [s.name for s in (await session.exec(select(Staff))).all()]
    assert "Intruder" not in names


async def test_a_manager_reaches_manager_pages(manager: Any) -> None:
    for url in ("/manage/staff", "/manage/devices", "/manage/audit"):
        assert (await manager.get(url)).status_code == 200, url


async def test_nobody_logged_in_is_sent_to_the_pin_pad(device_factory: Any, demo: None) -> None:
    tablet = await device_factory()
    response = await tablet.get("/manage/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/manage/staff"


async def test_every_route_names_a_permission(app: Litestar) -> None:
    unguarded = []
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler":
                continue
            opt = handler.opt
            if not any(opt.get(k) for k in ("public", "permission", "authenticated", "api_scope")):
                unguarded.append(route.path)
    assert unguarded == []
    public = sorted(
        {
            route.path
            for route in app.routes
            for handler in getattr(route, "route_handlers", [])
            if handler.opt.get("public") and handler.handler_name != "options_handler"
        }
    )
    assert public == ["/favicon.ico", "/healthz", "/login", "/login/enrol", "/static/{file_path:path}"]
