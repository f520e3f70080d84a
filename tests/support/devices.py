"""A device put into service as a restaurant does it: a manager enrols it with their PIN, then staff PINs work on it.

Shared by the integration tests, the fault tests and the benchmark, which all talk HTTP to the app.
"""

from __future__ import annotations

import re

import httpx

MANAGER_PIN = "9999"
"""The demo manager's PIN, which enrols every test device."""

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
ENROL_FORM = 'action="/login/enrol"'


class DeviceRefused(RuntimeError):
    """The app refused to enrol the device or to log a person in on it."""


def _csrf(page: httpx.Response) -> str:
    match = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or match is None:
        raise DeviceRefused(f"the login page answered {page.status_code} without a CSRF field: {page.text[:300]}")
    return match.group(1)


async def enrol(client: httpx.AsyncClient, *, manager_pin: str = MANAGER_PIN, name: str = "Tablet") -> str:
    """Enrol the device behind `client` with a manager's PIN, unless it is enrolled; the CSRF token of its PIN pad."""
    page = await client.get("/login")
    token = _csrf(page)
    if ENROL_FORM not in page.text:
        return token
    response = await client.post(
        "/login/enrol", data={"pin": manager_pin, "name": name, "_csrf_token": token}, follow_redirects=False
    )
    if response.status_code != 303:
        raise DeviceRefused(f"enrolling {name!r} was refused: {response.status_code} {response.text[:300]}")
    return _csrf(await client.get("/login"))


async def pin_login(client: httpx.AsyncClient, pin: str, *, name: str = "Tablet") -> str:
    """Enrol the device if it needs it, then log in with `pin`; the CSRF token for its forms."""
    token = await enrol(client, name=name)
    response = await client.post("/login", data={"pin": pin, "_csrf_token": token}, follow_redirects=False)
    if response.status_code != 303:
        raise DeviceRefused(f"PIN {pin} was refused: {response.status_code} {response.text[:300]}")
    return token
