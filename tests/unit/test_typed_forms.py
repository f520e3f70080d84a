"""Typed forms decoded by Litestar: blanks take their defaults, repeated fields are lists however often sent."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, Request, Response, post
from litestar.exceptions import ValidationException
from litestar.testing import TestClient
from msgspec import Meta

from app.lib import forms, manage


class Choice(forms.Form):
    line_ids: list[Annotated[int, Meta(ge=1)]] = []
    ways: Annotated[int, Meta(title="Ways", ge=2)] | None = None


@post("/choose", before_request=forms.drop_blanks, sync_to_thread=False)
def choose(data: Annotated[Choice, manage.FORM]) -> dict[str, Any]:
    return {"line_ids": data.line_ids, "ways": data.ways}


def _refusal(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[str]:
    """What `forms.refused` would say on the page, without the page."""
    first = exc.extra[0] if isinstance(exc.extra, list) else {}
    return Response(forms.message(Choice, str(first["key"]), str(first["message"])), status_code=422)


def _answer(body: str) -> tuple[int, Any]:
    app = Litestar([choose], exception_handlers={ValidationException: _refusal})
    with TestClient(app) as client:
        response = client.post("/choose", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    return response.status_code, response.json() if response.status_code < 400 else response.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("line_ids=3", [3]),
        ("line_ids=3&line_ids=4", [3, 4]),
        ("line_ids=&line_ids=4", [4]),
        ("line_ids=", []),
        ("", []),
    ],
)
def test_a_repeated_field_is_a_list_however_often_it_was_sent(body: str, expected: list[int]) -> None:
    status, answer = _answer(body)
    assert status == 201
    assert answer == {"line_ids": expected, "ways": None}


def test_a_blank_optional_field_takes_its_default_and_a_malformed_one_is_refused_by_name() -> None:
    assert _answer("ways=") == (201, {"line_ids": [], "ways": None})
    status, text = _answer("ways=1")
    assert status == 422
    assert text == "Ways must be at least 2."
    status, text = _answer("line_ids=x")
    assert status == 422
    assert text == "Line ids must be a whole number."


class Note(forms.Form):
    note: Annotated[str, forms.Text(max_length=40)]


def test_a_line_break_typed_in_a_textarea_is_kept_and_other_control_characters_are_refused() -> None:
    assert Note(note="Two lines\r\nof text ").note == "Two lines\nof text"
    with pytest.raises(ValueError, match=r"Note contains control characters\."):
        Note(note="a\rb")
