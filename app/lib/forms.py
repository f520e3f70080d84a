"""Typed forms: Litestar decodes a submitted form into a `Form`; a missing or malformed field is refused here.

A page declares its form as a msgspec Struct whose fields carry their label and rules:

    class FloorForm(forms.Form):
        name: Annotated[str, Meta(title="Name"), forms.Text(max_length=80)]
        width: Annotated[int, Meta(title="Plan width", ge=200, le=5000)] = 1000

and its handler takes `data: Annotated[FloorForm, manage.FORM]`. Blank fields are left out before decoding
(`drop_blanks`: a blank optional field takes its default, a blank required one is missing). Whatever Litestar refuses,
`refused` turns into the app's own 422 ("Plan width must be at least 200."), shown as a flash for htmx
and as the error page otherwise, like every other refusal (`web.error_response`).
"""

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin, get_type_hints

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.exceptions.responses import create_exception_response
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from app.lib import web
from app.lib.errors import InvalidInput

Req = Request[Any, Any, Any]

_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT_LEAST = re.compile(r"^Expected `\w+` >= (-?\d+)$")
_AT_MOST = re.compile(r"^Expected `\w+` <= (-?\d+)$")
_INDEX = re.compile(r"\[\d+\]$")
_NOT_A_NUMBER = re.compile(r"^Expected `int( \| null)?`, got")


NONE_CHOSEN = 0
"""The default of an optional id (`Annotated[int, Meta(ge=1)] = NONE_CHOSEN`): a blank choice, as no id is 0."""


@dataclass(frozen=True)
class Text:
    """A text field's rules: trimmed, at most `max_length` characters, no control characters."""

    max_length: int
    required: bool = True


@dataclass(frozen=True)
class Column:
    """A repeated field that is one column of a table of rows (a delivery's quantities, a count sheet's boxes):
    its blanks are kept, as "", so that its n-th value and every other column's n-th value are the same row."""


class Form(msgspec.Struct, kw_only=True):
    """A submitted form, typed. Unknown fields (the CSRF token, the idempotency key) are ignored."""

    def __post_init__(self) -> None:
        for name, (label, rule) in _texts(type(self)).items():
            value = getattr(self, name)
            if not isinstance(value, str):
                continue
            value = value.replace("\r\n", "\n").strip()  # a textarea's line breaks arrive as CRLF
            if rule.required and not value:
                raise ValueError(f"{label} is required.")
            if len(value) > rule.max_length:
                raise ValueError(f"{label} is {len(value)} characters; the limit is {rule.max_length}.")
            if any(ord(c) < 32 and c not in "\n\t" for c in value):
                raise ValueError(f"{label} contains control characters.")
            setattr(self, name, value)
        self.check()

    def check(self) -> None:
        """Rules between fields; raise ValueError with the message a manager reads."""


@cache
def _labels(form: type[Form]) -> dict[str, tuple[str, list[Any], Any]]:
    """Each field's label (its Meta title, else its name), its annotation's metadata and its bare type."""
    result: dict[str, tuple[str, list[Any], Any]] = {}
    for name, hint in get_type_hints(form, include_extras=True).items():
        if get_origin(hint) in (Union, UnionType):  # `Annotated[int, Meta(...)] | None`
            hint = next(arg for arg in get_args(hint) if arg is not type(None))
        extras = list(get_args(hint)[1:]) if get_origin(hint) is Annotated else []
        bare = get_args(hint)[0] if extras else hint
        title = next((m.title for m in extras if isinstance(m, msgspec.Meta) and m.title), None)
        result[name] = (title or name.replace("_", " ").capitalize(), extras, bare)
    return result


@cache
def _texts(form: type[Form]) -> dict[str, tuple[str, Text]]:
    return {
        name: (label, rule)
        for name, (label, extras, _) in _labels(form).items()
        for rule in extras
        if isinstance(rule, Text)
    }


def message(form: type[Form] | None, key: str, raw: str) -> str:
    """The app's words for one of Litestar's (msgspec's) refusals of field `key` of `form`."""
    if missing := _MISSING.search(raw):
        key = missing.group(1)
    key = _INDEX.sub("", key)  # one value of a repeated field ("line_ids[0]") is refused under the field's label
    label, _, bare = _labels(form).get(key, (key, [], None)) if form is not None else (key, [], None)
    if isinstance(bare, type) and issubclass(bare, Enum) and (missing or raw.startswith("Invalid enum value")):
        return f"{label} must be one of: {', '.join(str(member.value) for member in bare)}."
    if missing:
        return f"{label} is required."
    if _NOT_A_NUMBER.search(raw):
        return f"{label} must be a whole number."
    if at_least := _AT_LEAST.search(raw):
        return f"{label} must be at least {at_least.group(1)}."
    if at_most := _AT_MOST.search(raw):
        return f"{label} must be at most {at_most.group(1)}."
    if raw.startswith(("Expected ", "Invalid ")):
        return f"{label} is not valid: {raw[0].lower()}{raw[1:]}."
    return raw  # The form's own words (a rule in Form.__post_init__ or `check`).


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


async def drop_blanks(request: Req) -> None:
    """Before a typed form is decoded: leave its blank fields out, so they take their defaults (or are missing).

    A browser sends an untouched number or select as `field=`; a blank is not a malformed number. A field
    the form types as a list always reaches it as one, however many times it was sent; a `Column` keeps its blanks.
    """
    state = ScopeState.from_scope(request.scope)
    if state.form is Empty:
        await request.form()
    submitted = cast("dict[str, Any]", state.form)
    form = _form_of(request)
    repeated = _repeated(form) if form is not None else frozenset()
    columns = _columns(form) if form is not None else frozenset()
    kept: dict[str, Any] = {}
    for name, value in submitted.items():
        if name in columns:
            kept[name] = value if isinstance(value, list) else [value]
            continue
        if isinstance(value, list):
            value = [v for v in value if not _blank(v)] or ""
        if _blank(value):
            continue
        # A repeated field (`line_ids: list[int]`) ticked once arrives as one value, not a list of one.
        kept[name] = [value] if name in repeated and not isinstance(value, list) else value
    state.form = kept  # a new dict: Litestar caches the parsed one


@cache
def _repeated(form: type[Form]) -> frozenset[str]:
    """The fields of `form` that a browser may send several times (typed as a list, set or tuple)."""
    return frozenset(
        name for name, (_, _, bare) in _labels(form).items() if get_origin(bare) in (list, set, frozenset, tuple)
    )


@cache
def _columns(form: type[Form]) -> frozenset[str]:
    """The fields of `form` that are columns of a table of rows, blanks and all."""
    return frozenset(
        name for name, (_, extras, _) in _labels(form).items() if any(isinstance(m, Column) for m in extras)
    )


def _form_of(request: Req) -> type[Form] | None:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    annotation = parameter.annotation if parameter is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, Form) else None


def refused(request: Req, exc: ValidationException) -> Response[Any]:
    """A form Litestar could not decode, refused like any other bad input: a 422 naming the field."""
    form = _form_of(request)
    if form is None or request.url.path.startswith("/api/"):
        return create_exception_response(request, exc)  # Litestar's own answer, as before.
    errors = exc.extra if isinstance(exc.extra, list) else []
    body = [e for e in errors if isinstance(e, dict) and e.get("source") == "body"] or [
        e for e in errors if isinstance(e, dict)
    ]
    if not body:
        return web.error_response(request, InvalidInput("The form could not be read; nothing was saved."))
    first = body[0]
    text = message(form, str(first.get("key") or ""), str(first.get("message") or ""))
    return web.error_response(request, InvalidInput(text))
