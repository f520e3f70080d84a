"""One shape for the manager pages that keep a list of things: show the list, add, save, archive, restore.

A page describes itself with a `Managed` (its address, permission, how to show the list with a flash,
how to read the form, which service does each change and what the flash then says); `routes()` gives
the Litestar handlers. Every change runs in one write transaction, names the manager as the actor (the
services write the audit entry) and answers with the page's list and a flash naming the thing changed.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Protocol, TypeVar

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms, web
from app.lib.db import Database

Req = Request[Any, Any, Any]
FieldsT = TypeVar("FieldsT")
FieldsT_co = TypeVar("FieldsT_co", covariant=True)

Show = Callable[[Req, Database, "str | None"], Awaitable[Response[Any]]]
"""The page's list (a whole page, or its fragment for htmx), with a flash line."""
Actor = Callable[[Req], "int | None"]
Create = Callable[[AsyncSession, Any, "int | None"], Awaitable[Any]]
"""(session, typed fields, actor id) → the new thing."""
Update = Callable[[AsyncSession, int, Any, "int | None"], Awaitable[Any]]
"""(session, id, typed fields, actor id) → the saved thing."""
Change = Callable[[AsyncSession, int, "int | None"], Awaitable[Any]]
"""(session, id, actor id) → the archived or restored thing."""

NAMED_MESSAGES: Mapping[str, str] = {
    "create": "Added {0.name}.",
    "update": "Saved {0.name}.",
    "archive": "Archived {0.name}.",
    "restore": "Restored {0.name}.",
}
"""The usual flashes, for a thing with a name."""

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
"""A handler's `data` is the submitted form, typed: `data: Annotated[SomeForm, manage.FORM]`."""


class FormFields(Protocol[FieldsT_co]):
    """A typed form (a msgspec Struct Litestar decodes) that says what the service takes."""

    def fields(self) -> FieldsT_co: ...


@dataclass(frozen=True)
class Managed(Generic[FieldsT]):
    """A manager page's list of things and the four changes a manager makes to them."""

    path: str
    """The list's address, e.g. "/manage/floors"; one thing lives at f"{path}/{id}"."""
    name: str
    """A short name for the handlers, e.g. "floor"."""
    permission: Any
    show: Show
    actor: Actor
    form: type[FormFields[FieldsT]] | None = None
    """The typed form the framework decodes (a missing or malformed field is refused before the handler)."""
    parse: Callable[[Mapping[str, Any]], FieldsT] | None = None
    """Or: read the raw form by hand (pages not yet on typed forms)."""
    create: Create | None = None
    update: Update | None = None
    archive: Change | None = None
    restore: Change | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    """Flash per change ("create", "update", "archive", "restore"), formatted with the thing: "Saved {0.name}."."""
    list_page: bool = True
    """Whether the list's GET lives here (False when another page shows it)."""
    list_doc: str = ""

    def flash(self, change: str, thing: Any) -> str:
        return self.messages[change].format(thing)

    def routes(self) -> list[HTTPRouteHandler]:
        """The page's handlers: GET list, POST create, POST update, POST archive, POST restore (those it has)."""
        handlers: list[HTTPRouteHandler] = []
        if self.list_page:
            handlers.append(self._list())
        if self.create is not None:
            handlers.append(self._save(self.create, None))
        if self.update is not None:
            handlers.append(self._save(None, self.update))
        for change, service in (("archive", self.archive), ("restore", self.restore)):
            if service is not None:
                handlers.append(self._change(change, service))
        return handlers

    def _route(self, handler: Callable[..., Any], suffix: str, doc: str) -> Callable[..., Any]:
        handler.__name__ = handler.__qualname__ = f"{self.name}_{suffix}"
        handler.__doc__ = doc
        return handler

    def _list(self) -> HTTPRouteHandler:
        page = self

        async def handler(request: Req, db: web.Db) -> Response[Any]:
            return await page.show(request, db, None)

        self._route(handler, "page", self.list_doc or f"The {self.name} list.")
        return get(self.path, permission=self.permission, include_in_schema=False)(handler)

    async def _read(self, request: Req, data: Any) -> FieldsT:
        if self.form is not None:
            fields: FieldsT = data.fields()
            return fields
        assert self.parse is not None, f"{self.name}: a page names its form or its parser"
        return self.parse(await web.form_data(request))

    def _save(self, create: Create | None, update: Update | None) -> HTTPRouteHandler:
        page = self

        async def save(request: Req, db: Database, data: Any, item_id: int | None) -> Response[Any]:
            fields = await page._read(request, data)
            async with db.write() as session:
                if item_id is None:
                    assert create is not None
                    thing, change = await create(session, fields, page.actor(request)), "create"
                else:
                    assert update is not None
                    thing, change = await update(session, item_id, fields, page.actor(request)), "update"
            return await page.show(request, db, page.flash(change, thing))

        handler: Callable[..., Awaitable[Response[Any]]]
        if create is not None:
            if self.form is None:

                async def create_by_hand(request: Req, db: web.Db) -> Response[Any]:
                    return await save(request, db, None, None)

                handler = create_by_hand
            else:

                async def create_typed(request: Req, db: web.Db, data: Any) -> Response[Any]:
                    return await save(request, db, data, None)

                handler = create_typed
            path, suffix = self.path, "create"
        else:
            if self.form is None:

                async def update_by_hand(request: Req, db: web.Db, item_id: FromPath[int]) -> Response[Any]:
                    return await save(request, db, None, item_id)

                handler = update_by_hand
            else:

                async def update_typed(request: Req, db: web.Db, data: Any, item_id: FromPath[int]) -> Response[Any]:
                    return await save(request, db, data, item_id)

                handler = update_typed
            path, suffix = f"{self.path}/{{item_id:int}}", "update"
        if self.form is not None:
            # The typed form, decoded by Litestar from the url-encoded body before the handler runs.
            handler.__annotations__["data"] = Annotated[self.form, FORM]
        self._route(handler, suffix, f"{suffix.capitalize()} a {self.name}.")
        blanks = forms.drop_blanks if self.form is not None else None
        return post(path, permission=self.permission, include_in_schema=False, before_request=blanks)(handler)

    def _change(self, change: str, service: Change) -> HTTPRouteHandler:
        page = self

        async def handler(request: Req, db: web.Db, item_id: FromPath[int]) -> Response[Any]:
            async with db.write() as session:
                thing = await service(session, item_id, page.actor(request))
            return await page.show(request, db, page.flash(change, thing))

        self._route(handler, change, f"{change.capitalize()} a {self.name}.")
        path = f"{self.path}/{{item_id:int}}/{change}"
        return post(path, permission=self.permission, include_in_schema=False)(handler)
