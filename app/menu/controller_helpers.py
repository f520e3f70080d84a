"""What the menu's manager pages share: who is changing the menu, the venue's currency, a typed form's POST,
and an id chosen from one of the page's lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, post
from litestar.handlers import HTTPRouteHandler

from app.lib import forms
from app.lib.settings import Settings
from app.staff.auth import Viewer
from app.staff.permissions import Perm

Req = Request[Any, Any, Any]
ID_DIGITS_MAX = 12


def actor(request: Req) -> int | None:
    """The staff id of the person changing the menu (the services write it into the audit entry)."""
    viewer: Viewer = request.user
    return viewer.staff.id


def currency(request: Req) -> str:
    """The venue's currency, in which prices are typed."""
    settings: Settings = request.app.state.settings
    return settings.currency


def form_post(path: str, *, permission: Perm = Perm.MENU_MANAGE) -> Callable[[Any], HTTPRouteHandler]:
    """A menu page's POST whose form is typed: blank fields take their defaults before Litestar decodes it."""
    return post(path, permission=permission, include_in_schema=False, before_request=forms.drop_blanks)


def chosen(raw: str, *, label: str, required: bool = True) -> int | None:
    """An id picked from a page's list, as submitted: blank is none (refused when one is required).

    Raises ValueError, so a typed form's `check` refuses a malformed choice before the handler runs.
    """
    text = raw.strip()
    if not text:
        if required:
            raise ValueError(f"Choose a {label.lower()}.")
        return None
    if not text.isdigit() or len(text) > ID_DIGITS_MAX:
        raise ValueError(f"{label}: unknown {label.lower()}.")
    return int(text)


def chosen_ids(raw: list[str] | str, *, label: str) -> tuple[int, ...]:
    """Ids picked from a list that allows several (a repeated field; one choice arrives as plain text)."""
    values = [raw] if isinstance(raw, str) else raw
    return tuple(i for i in (chosen(value, label=label, required=False) for value in values) if i is not None)
