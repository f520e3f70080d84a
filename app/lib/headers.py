"""Security headers on every HTTP response the app sends: pages, fragments, static files, redirects and errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from litestar.types import Message, Scope

# Scripts and styles come from /static only: no inline script, no eval, no inline <style> (htmx's indicator
# styles live in static/css). Inline style *attributes* stay allowed, as the floor plan places tables with them.
PAGE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
# The API's interactive descriptions under /schema are Litestar's stock pages, built from CDN scripts and inline
# bootstraps; they are for integrators with a browser on the internet, not for the tablets, and show no staff data.
SCHEMA_POLICY = (
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://unpkg.com https://cdn.jsdelivr.net https://cdn.redoc.ly",
    "style-src 'self' 'unsafe-inline' https://unpkg.com https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "font-src 'self' data: https://fonts.gstatic.com",
    "img-src 'self' data: https:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
# A Host header is echoed into connect-src only when it is a plain host[:port], so it cannot add directives.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_FIXED = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_NAMES = {b"content-security-policy", *(name for name, _ in _FIXED)}


def content_security_policy(path: str, host: str | None) -> str:
    """The policy for a response to `path` asked of `host`: websockets may reach the same host, nothing else."""
    if path == "/schema" or path.startswith("/schema/"):
        return "; ".join(SCHEMA_POLICY)
    connect = "connect-src 'self'"
    if host and _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*PAGE_POLICY, connect))


def security_headers() -> Callable[[Message, Scope], Awaitable[None]]:
    """A before-send hook that stamps the security headers on the start of every HTTP response."""

    async def stamp(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        request_headers = dict(scope.get("headers") or [])
        host = request_headers.get(b"host", b"").decode("latin-1") or None
        policy = content_security_policy(scope.get("path", ""), host)
        kept = [(name, value) for name, value in message.get("headers") or [] if name.lower() not in _NAMES]
        message["headers"] = [*kept, (b"content-security-policy", policy.encode("latin-1")), *_FIXED]

    return stamp
