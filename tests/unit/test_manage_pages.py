"""The shared manager-page shape and the typed forms' words, without a database."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from litestar import Litestar
from litestar.di import Provide
from msgspec import Meta

from app.lib import forms, manage


class Form(forms.Form):
    name: Annotated[str, Meta(title="Name"), forms.Text(max_length=5)]
    seats: Annotated[int, Meta(title="Seats", ge=1, le=20)] = 4

    def fields(self) -> tuple[str, int]:
        return (self.name, self.seats)


async def _show(request: Any, db: Any, flash: str | None) -> Any:
    raise AssertionError("not called")


async def _service(*args: Any) -> Any:
    raise AssertionError("not called")


def test_a_page_gets_one_route_per_change_it_has_each_naming_its_permission() -> None:
    page: manage.Managed[tuple[str, int]] = manage.Managed(
        path="/manage/things",
        name="thing",
        permission="things.manage",
        show=_show,
        actor=lambda request: 1,
        form=Form,
        create=_service,
        update=_service,
        archive=_service,
        messages=manage.NAMED_MESSAGES,
    )
    routes = page.routes()
    app = Litestar(route_handlers=routes, dependencies={"db": Provide(lambda: None, sync_to_thread=False)})
    found = {(r.path, m) for r in app.routes for m in getattr(r, "methods", ()) if r.path.startswith("/manage")}
    found -= {(p, "OPTIONS") for p, _ in found}
    assert found == {
        ("/manage/things", "GET"),
        ("/manage/things", "POST"),
        ("/manage/things/{item_id:int}", "POST"),
        ("/manage/things/{item_id:int}/archive", "POST"),
    }
    assert [h.handler_name for h in routes] == ["thing_page", "thing_create", "thing_update", "thing_archive"]
    assert all(h.opt["permission"] == "things.manage" for h in routes)
    assert page.flash("archive", Form(name="Wok")) == "Archived Wok."
    without_list = manage.Managed(
        path="/x", name="x", permission="p", show=_show, actor=lambda r: 1, restore=_service, list_page=False
    )
    assert [h.handler_name for h in without_list.routes()] == ["x_restore"]


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("data", "Object missing required field `name`", "Name is required."),
        ("seats", "Expected `int`, got `str`", "Seats must be a whole number."),
        ("seats", "Expected `int` >= 1", "Seats must be at least 1."),
        ("seats", "Expected `int` <= 20", "Seats must be at most 20."),
        ("data", "Name is 7 characters; the limit is 5.", "Name is 7 characters; the limit is 5."),
    ],
)
def test_a_refusal_names_the_field_by_its_label(key: str, raw: str, message: str) -> None:
    assert forms.message(Form, key, raw) == message


def test_text_is_trimmed_and_checked_after_decoding() -> None:
    assert Form(name="  Wok ").name == "Wok"
    with pytest.raises(ValueError, match=re.escape("Name is required.")):
        Form(name="  ")
    with pytest.raises(ValueError, match=re.escape("Name is 7 characters; the limit is 5.")):
        Form(name="Kitchen")
    with pytest.raises(ValueError, match=re.escape("Name contains control characters.")):
        Form(name="a\x00b")
