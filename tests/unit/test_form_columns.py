"""A table of rows in a typed form: each column keeps its blanks, so the n-th values of every column are one row."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, Request, Response, post
from litestar.exceptions import ValidationException
from litestar.testing import TestClient
from msgspec import Meta

from app.lib import forms, manage


class Delivery(forms.Form):
    item: Annotated[list[str], Meta(title="Item"), forms.Column()] = []
    quantity: Annotated[list[str], Meta(title="Quantity"), forms.Column()] = []
    rows: Annotated[list[int], Meta(title="Row"), forms.Column()] = []
    tags: list[str] = []

    def check(self) -> None:
        if len(self.item) != len(self.quantity):
            raise ValueError("The rows do not line up; reload the page.")


@post("/deliver", before_request=forms.drop_blanks, sync_to_thread=False)
def deliver(data: Annotated[Delivery, manage.FORM]) -> dict[str, Any]:
    return {"rows": list(zip(data.item, data.quantity, strict=True)), "numbers": data.rows, "tags": data.tags}


def _refusal(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[str]:
    first = exc.extra[0] if isinstance(exc.extra, list) else {}
    return Response(forms.message(Delivery, str(first["key"]), str(first["message"])), status_code=422)


def _answer(body: str) -> tuple[int, Any]:
    app = Litestar([deliver], exception_handlers={ValidationException: _refusal})
    with TestClient(app) as client:
        response = client.post("/deliver", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    return response.status_code, response.json() if response.status_code < 400 else response.text


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        ("item=3&quantity=2&item=&quantity=&item=4&quantity=", [["3", "2"], ["", ""], ["4", ""]]),
        ("item=&quantity=5", [["", "5"]]),
        ("item=7&quantity=1", [["7", "1"]]),
        ("", []),
    ],
)
def test_the_columns_of_a_table_of_rows_keep_their_blanks_so_rows_line_up(body: str, rows: list[list[str]]) -> None:
    status, answer = _answer(body)
    assert status == 201, answer
    assert answer["rows"] == rows


def test_a_plain_repeated_field_still_drops_its_blanks_beside_a_table() -> None:
    status, answer = _answer("item=1&quantity=2&tags=&tags=red")
    assert status == 201
    assert answer["tags"] == ["red"]


def test_a_malformed_value_in_a_column_is_refused_under_the_column_label() -> None:
    assert _answer("rows=4&rows=x") == (422, "Row must be a whole number.")
    assert _answer("item=1") == (422, "The rows do not line up; reload the page.")
