"""CSRF on every state change, role guards on every route."""

from __future__ import annotations

import re
from pathlib import Path
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
    # /w/{token}: a waiting party's own page, reached only by its unguessable link (tests/integration/reservations)
    assert public == [
        "/favicon.ico",
        "/healthz",
        "/login",
        "/login/enrol",
        "/static/{file_path:path}",
        "/w/{token:str}",
    ]


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _assert_secured(response: Any, what: str) -> str:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ") if part}
    assert directives["default-src"] == ["'self'"], what
    assert directives["script-src"] == ["'self'"], f"{what}: no inline script, no eval"
    assert directives["style-src"] == ["'self'"], what
    assert directives["style-src-attr"] == ["'unsafe-inline'"], what
    assert directives["img-src"] == ["'self'", "data:"], what
    assert directives["frame-ancestors"] == ["'none'"], what
    assert directives["base-uri"] == ["'self'"], what
    assert directives["form-action"] == ["'self'"], what
    return policy


async def test_every_kind_of_response_carries_the_security_headers(server: Any, manager: Any) -> None:
    answers = {
        "a page": await manager.get("/manage/staff"),
        "a fragment": await manager.get("/manage/staff", htmx=True),
        "a static file": await manager.get("/static/js/brigade.js"),
        "the vendored htmx": await manager.get("/static/vendor/htmx-2.0.11.min.js"),
        "a missing page": await manager.get("/no-such-page"),
        "a missing static file": await manager.get("/static/no-such-file.js"),
        "a refusal": await server.get("/manage/staff"),
        "a refusal in a fragment": await server.post("/manage/staff", {"name": "X"}),
        "a redirect": await manager.get("/", follow_redirects=False),
        "the health check": await manager.get("/healthz"),
        "an API refusal": await manager.get("/api/v1/checks"),
    }
    assert answers["a fragment"].status_code == 200
    assert answers["a missing page"].status_code == 404
    assert answers["a refusal"].status_code == 403
    for what, response in answers.items():
        _assert_secured(response, what)


async def test_the_login_page_is_secured_before_anyone_logs_in(device_factory: Any, demo: None) -> None:
    stranger = await device_factory(enrolled=False)
    page = await stranger.get("/login")
    policy = _assert_secured(page, "the login page")
    assert "connect-src 'self' ws://testserver.local wss://testserver.local" in policy, "live updates reach this host"
    assert "<script>" not in page.text
    assert "onclick=" not in page.text


async def test_a_forged_host_header_cannot_widen_the_policy(device_factory: Any, demo: None) -> None:
    stranger = await device_factory(enrolled=False)
    page = await stranger.get("/login", headers={"host": "evil.example; script-src *"})
    policy = page.headers["content-security-policy"]
    assert "evil" not in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy


INLINE_SCRIPT = re.compile(
    r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=\s*["']|\bhx-on\b|javascript:""", re.IGNORECASE
)


def test_no_template_carries_inline_script_or_event_handlers() -> None:
    """The policy refuses them, so a button that relied on one would silently do nothing."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in INLINE_SCRIPT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
