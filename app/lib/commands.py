"""A command from a page's form, run once: the form carries an idempotency key, and a repeat of the same key
(a double tap, a retried request) answers what the first answered and changes nothing.

    class CloseDayForm(commands.KeyedForm):
        day: ...

    flash = await commands.once(request, db, data, work, scope=f"closes:{staff_id}")

`work` runs in one write transaction with the key's claim and returns the flash the page shows. The fingerprint
that tells a repeat from a different request with the same key is taken over the typed form, leaving out
fields named private (a manager's PIN is never stored).
"""

from collections.abc import Awaitable, Callable, Collection
from typing import Any

import msgspec
from litestar import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import forms
from app.lib.db import Database
from app.lib.idempotency import StoredResponse, check_key, fingerprint, run_once


class KeyedForm(forms.Form, kw_only=True):
    """A form that runs a command: it carries the page's idempotency key."""

    idempotency_key: str = ""


async def once(
    request: Request[Any, Any, Any],
    db: Database,
    data: KeyedForm,
    work: Callable[[AsyncSession], Awaitable[str]],
    *,
    scope: str,
    private: Collection[str] = (),
) -> str:
    """Run `work` once per idempotency key within `scope`; the flash it returned, the first time or again."""
    public = {name: value for name, value in msgspec.structs.asdict(data).items() if name not in private}

    async def run(session: AsyncSession) -> StoredResponse:
        return StoredResponse(200, await work(session), {})

    response = await run_once(
        db,
        key=check_key(data.idempotency_key),
        scope=scope,
        print_=fingerprint(request.method, request.url.path, public),
        work=run,
    )
    return response.body
