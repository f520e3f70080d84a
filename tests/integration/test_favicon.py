"""The site's icon: every page links it, and /favicon.ico answers anyone, logged in or not."""

from __future__ import annotations

from typing import Any

import httpx


async def test_the_icon_answers_a_browser_that_has_not_logged_in(live: httpx.AsyncClient) -> None:
    icon = await live.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content.startswith(b"\x00\x00\x01\x00"), "an ICO file"
    assert "max-age=86400" in icon.headers["cache-control"]
    linked = await live.get("/static/favicon.svg")
    assert linked.status_code == 200
    assert linked.text.startswith("<svg")


async def test_every_page_links_the_icon(server: Any) -> None:
    for path in ("/login", "/floor"):
        page = await server.get(path)
        assert page.status_code == 200, path
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text, path
