"""The `brigade` command: serve, migrate, load the demo, manage staff and tokens, verify the audit chain."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from app.lib.errors import DomainError
from app.lib.settings import Settings

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from app.main import build_runtime

    async def _go() -> T:
        runtime = build_runtime(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.db.dispose()

    try:
        return asyncio.run(_go())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Brigade: restaurant point of sale, kitchen screens, inventory and accounting."""
    ctx.obj = Settings()
    ctx.obj.var_dir.mkdir(parents=True, exist_ok=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the app (several worker processes need PostgreSQL and Redis to share state and events)."""
    import uvicorn

    from app.lib.migrate import current_revision, head_revision

    url = settings.resolved_database_url()
    if current_revision(url) != head_revision(url):
        raise click.ClickException("The database is not at the current schema; run `brigade db upgrade` first.")
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        raise click.ClickException(
            "Several workers need PostgreSQL (BRIGADE_DATABASE_URL) and Redis (BRIGADE_REDIS_URL)."
        )
    settings.resolved_secret_key()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Migrate the database to the newest schema."""
    from app.lib.migrate import current_revision, upgrade

    url = settings.resolved_database_url()
    upgrade(url, revision)
    if revision == "head":
        from app.inventory.portions import refresh_all

        async def work(runtime: Any) -> None:
            # Counted dishes say how many are left from the first tablet on, not from their next stock move.
            async with runtime.db.write() as session:
                await refresh_all(session)

        _run(settings, work)
    click.echo(f"database at revision {current_revision(url)}")


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has data.")
@click.pass_obj
def demo(settings: Settings, if_empty: bool) -> None:
    """Load the demo restaurant into an empty database."""
    from app.demo import DEMO_PINS, database_is_empty, load_demo

    async def work(runtime: Any) -> bool:
        async with runtime.db.read() as session:
            empty = await database_is_empty(session)
        if not empty:
            if if_empty:
                return False
            raise click.ClickException("The database already has data; the demo loads only into an empty one.")
        async with runtime.db.write() as session:
            await load_demo(session, settings)
        return True

    loaded = _run(settings, work)
    click.echo("demo restaurant loaded" if loaded else "database already has data; demo not loaded")
    for role, pin in DEMO_PINS.items():
        click.echo(f"  {role:<10} PIN {pin}")


@main.group()
def staff() -> None:
    """Staff records."""


@staff.command("add")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["server", "bartender", "host", "cook", "manager", "admin"]))
@click.option("--pin", required=True, help="4 to 8 digits")
@click.pass_obj
def staff_add(settings: Settings, name: str, role: str, pin: str) -> None:
    """Add a staff member with a PIN."""
    from app.staff.services import add_staff

    async def work(runtime: Any) -> int:
        async with runtime.db.write() as session:
            person = await add_staff(session, name=name, role=role, pin=pin)
            return int(person.id or 0)

    click.echo(f"staff #{_run(settings, work)} added")


@main.group("api-token")
def api_token() -> None:
    """Bearer tokens for integrations (an ERP)."""


@api_token.command("create")
@click.option("--name", required=True)
@click.option("--scopes", default="read", show_default=True, help="read, write or read,write")
@click.pass_obj
def api_token_create(settings: Settings, name: str, scopes: str) -> None:
    """Create a token; it is shown once."""
    from app.staff.services import create_api_token

    async def work(runtime: Any) -> str:
        async with runtime.db.write() as session:
            return await create_api_token(session, name=name, scopes=scopes)

    click.echo(_run(settings, work))


@main.command("verify-audit")
@click.pass_obj
def verify_audit(settings: Settings) -> None:
    """Check the audit log's hash chain; exit 1 if any entry was edited or deleted."""
    from app.lib.audit import verify

    async def work(runtime: Any) -> list[Any]:
        async with runtime.db.read() as session:
            return await verify(session)

    problems = _run(settings, work)
    if problems:
        for problem in problems:
            click.echo(f"entry {problem.entry_id}: {problem.problem}", err=True)
        sys.exit(1)
    click.echo("audit chain intact")


@main.command("export-ledger")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="first day, YYYY-MM-DD")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="last day, YYYY-MM-DD")
@click.option("--format", "fmt", required=True, type=click.Choice(["beancount", "csv", "hledger"]))
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="write here instead of stdout")
@click.option("--venue", "venue_code", default=None, help="head office: one venue's books (default: the whole group)")
@click.pass_obj
def export_ledger(
    settings: Settings, start: Any, end: Any, fmt: str, output: str | None, venue_code: str | None
) -> None:
    """Export the journal entries dated FROM..TO (inclusive) as Beancount, CSV or an hledger journal."""
    from app.accounting.exports import export_ledger as render

    if venue_code:
        _role(settings, "head_office", "export-ledger --venue")

    async def work(runtime: Any) -> str:
        async with runtime.db.read() as session:
            only, title = None, settings.venue_name
            if venue_code:
                from app.group.books import venue_entries

                only, title = await venue_entries(session, venue_code)
            return await render(
                session,
                start=start.date(),
                end=end.date(),
                fmt=fmt,
                currency=settings.currency,
                title=title,
                only=only,
            )

    content = _run(settings, work)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        click.echo(f"{fmt} export written to {output}", err=True)
    else:
        click.echo(content, nl=False)


@main.command()
@click.option("--checks", "count", default=120, show_default=True, type=click.IntRange(1, 5000), help="checks to serve")
@click.option("--close", "close_day", is_flag=True, help="check everyone out, count the drawer and close the day")
@click.option("--seed", default=7, show_default=True, type=int, help="the same seed serves the same day")
@click.pass_obj
def simulate(settings: Settings, count: int, close_day: bool, seed: int) -> None:
    """Serve a realistic day through the real services (seat, order, fire, bump, split, pay), then close it."""
    from app.checks.delivery import payment_terminal
    from app.closes.simulation import simulate as run_day
    from app.kitchen.printing import PRINT_WAKE
    from printers.worker import PrintWorker

    async def work(_: Any) -> list[str]:
        from app.main import create_app

        settings.run_workers = False
        app = create_app(settings)
        runtime = app.state.runtime
        worker = PrintWorker(runtime.db, retry_delays=(0.0,), lease_seconds=settings.print_lease_seconds)
        runtime.db.context[PRINT_WAKE] = worker.wake
        # The app's lifespan starts the event channels the kitchen screens and floor listen on.
        async with app.lifespan():
            result = await run_day(
                runtime.db,
                runtime.dispatcher,
                payment_terminal(runtime.db),
                checks_count=count,
                close=close_day,
                seed=seed,
                drain_prints=worker.drain,
                progress=lambda done: click.echo(f"  {done} checks served", err=True),
            )
        return result.lines()

    for line in _run(settings, work):
        click.echo(line)


def _role(settings: Settings, role: str, command: str) -> None:
    if settings.role != role:
        where = "a head office (BRIGADE_ROLE=head_office)" if role == "head_office" else "a venue (BRIGADE_ROLE=venue)"
        raise click.ClickException(f"`brigade {command}` runs at {where}; this one is a {settings.role}.")


@main.group()
def venues() -> None:
    """Head office: the group's venues and their enrolment tokens."""


@venues.command("add")
@click.option("--code", required=True, help="short code, e.g. NORTH")
@click.option("--name", required=True)
@click.option("--timezone", default=None, help="the venue's clock (default: head office's)")
@click.option("--currency", default=None, help="ISO code (default: head office's)")
@click.pass_obj
def venues_add(settings: Settings, code: str, name: str, timezone: str | None, currency: str | None) -> None:
    """Add a venue and print its enrolment token (shown once)."""
    from app.group.services import add_venue

    _role(settings, "head_office", "venues add")

    async def work(runtime: Any) -> tuple[str, str]:
        async with runtime.db.write() as session:
            added = await add_venue(
                session,
                code=code,
                name=name,
                timezone=timezone or settings.timezone,
                currency=currency or settings.currency,
            )
            return added.venue.code, added.token

    venue_code, token = _run(settings, work)
    click.echo(f"venue {venue_code} added; its enrolment token (shown once):", err=True)
    click.echo(token)


@venues.command("revoke")
@click.argument("code")
@click.pass_obj
def venues_revoke(settings: Settings, code: str) -> None:
    """Refuse a venue from now on (what it sent stays)."""
    from app.group.services import revoke_venue

    _role(settings, "head_office", "venues revoke")

    async def work(runtime: Any) -> str:
        async with runtime.db.write() as session:
            return (await revoke_venue(session, code=code)).code

    click.echo(f"venue {_run(settings, work)} revoked")


@venues.command("list")
@click.pass_obj
def venues_list(settings: Settings) -> None:
    """The venues, their status, and the last sequence each has sent without a gap."""
    from app.group.queries import venues as all_venues

    _role(settings, "head_office", "venues list")

    async def work(runtime: Any) -> list[str]:
        async with runtime.db.read() as session:
            rows = await all_venues(session)
        return [
            f"{v.code:<10} {v.status.value:<9} acked {v.acked_sequence:<8} records {v.records_received:<8} {v.name}"
            for v in rows
        ]

    for line in _run(settings, work):
        click.echo(line)


@main.command()
@click.option("--day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="business day, YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
def reconcile(settings: Settings, day: Any, as_json: bool) -> None:
    """Head office: each venue's Z report for DAY beside what head office posted; every difference listed."""
    import json

    from app.group.books import post_pending
    from app.group.statements import reconcile as run

    _role(settings, "head_office", "reconcile")

    async def work(runtime: Any) -> dict[str, Any]:
        async with runtime.db.write() as session:
            await post_pending(session)
        async with runtime.db.read() as session:
            return (await run(session, day.date())).as_json()

    result = _run(settings, work)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for venue in result["venues"]:
        click.echo(f"{venue['venue']}: {'Z report received' if venue['z_received'] else 'no Z report'}")
        for figure in venue["figures"]:
            z, posted = figure["z_cents"], figure["posted_cents"]
            click.echo(f"  {figure['figure']:<28} Z {_cents(z):>12}   posted {_cents(posted):>12}")
    if not result["venues"]:
        click.echo(f"no venue has records for {day.date().isoformat()}")
    for difference in result["differences"]:
        click.echo(
            f"DIFFERENCE {difference['venue']} {difference['figure']}: Z {_cents(difference['z_cents'])}, "
            f"posted {_cents(difference['posted_cents'])} ({_cents(difference['difference_cents'])})"
        )
    click.echo(f"{len(result['differences'])} difference(s)")


def _cents(value: int | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


@venues.command("post")
@click.option("--retry", is_flag=True, help="book the exceptions again too")
@click.option("--venue", "venue_code", default=None, help="only this venue")
@click.pass_obj
def venues_post(settings: Settings, retry: bool, venue_code: str | None) -> None:
    """Book what the venues sent into the group's ledger (each record once); --retry books exceptions again."""
    from app.group import books

    _role(settings, "head_office", "venues post")

    async def work(runtime: Any) -> books.PostingRun:
        async with runtime.db.write() as session:
            if retry:
                return await books.retry(session, venue_code=venue_code)
            only = await books.venue_id(session, venue_code) if venue_code else None
            return await books.post_pending(session, venue_id=only)

    run = _run(settings, work)
    click.echo(f"{run.posted} record(s) booked, {run.exceptions} exception(s)")


@main.group("head-office")
def head_office() -> None:
    """Venue: the link to the group's head office."""


@head_office.command("join")
@click.argument("url")
@click.argument("token")
@click.pass_obj
def head_office_join(settings: Settings, url: str, token: str) -> None:
    """Exchange head office's enrolment TOKEN at URL for this venue's own credential."""
    from app.sync.sender import join

    _role(settings, "venue", "head-office join")

    async def work(runtime: Any) -> str:
        return await join(runtime.db, url, token)

    click.echo(f"joined {url} as venue {_run(settings, work)}")


@main.group()
def sync() -> None:
    """Venue: sending closed checks, the journal and stock to head office."""


@sync.command("now")
@click.pass_obj
def sync_now(settings: Settings) -> None:
    """Send everything queued now (without waiting for the sender's turn or backoff)."""
    from app.sync.catalog import pull as pull_catalog
    from app.sync.sender import SyncSender

    _role(settings, "venue", "sync now")

    async def work(runtime: Any) -> Any:
        sent = await SyncSender(runtime.db, batch_size=settings.sync_batch_size).send_all()
        return sent, None if sent.error else await pull_catalog(runtime.db, settings)

    outcome, catalog = _run(settings, work)
    if outcome.error:
        raise click.ClickException(f"sent {outcome.sent} records, then: {outcome.error}")
    click.echo(f"sent {outcome.sent} records; head office holds everything up to {outcome.acked}")
    for number in catalog.applied:
        click.echo(f"catalog release {number} applied")
    if catalog.waiting is not None:
        click.echo(f"catalog release {catalog.waiting} waits for its effective business day")
    if catalog.failed is not None:
        raise click.ClickException(f"catalog release {catalog.failed} could not apply: {catalog.error}")


@sync.command("status")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
def sync_status(settings: Settings, as_json: bool) -> None:
    """The last acknowledged sequence, what is queued and since when, the last error, the catalog release."""
    import json

    from app.sync.queries import sync_status as read_status

    _role(settings, "venue", "sync status")

    async def work(runtime: Any) -> Any:
        async with runtime.db.read() as session:
            return await read_status(session)

    status = _run(settings, work)
    if as_json:
        click.echo(json.dumps(status.as_json(), indent=2))
        return
    if not status.linked:
        click.echo("not linked to a head office")
        return
    click.echo(f"head office      {status.head_office} ({status.status}, venue {status.venue_code})")
    click.echo(f"acknowledged     {status.acked_sequence}")
    age = f", oldest {status.oldest_queued_age_seconds} s old" if status.oldest_queued_at else ""
    click.echo(f"queued           {status.queued}{age}")
    click.echo(f"kept             {status.kept} acknowledged, pruned after {settings.sync_retention_days} days")
    click.echo(f"last error       {status.last_error or 'none'}")
    release = status.catalog_release if status.catalog_release is not None else "none"
    click.echo(f"catalog release  {release}")
    if status.catalog_error:
        click.echo(f"catalog error    {status.catalog_error}")


@main.group()
def catalog() -> None:
    """Head office: publish the group's menu to its venues as numbered releases."""


@catalog.command("publish")
@click.option("--note", default="", help="what changed, for the release list")
@click.option("--effective", default=None, help="the business day venues trade on it from, YYYY-MM-DD")
@click.option("--no-local-items", is_flag=True, help="venues archive items of their own")
@click.pass_obj
def catalog_publish(settings: Settings, note: str, effective: str | None, no_local_items: bool) -> None:
    """Publish the catalog as it stands as the next numbered release."""
    from app.group.catalog import publish
    from app.group.catalog_controllers import parse_day

    _role(settings, "head_office", "catalog publish")
    day = parse_day(effective)

    async def work(runtime: Any) -> tuple[int, int]:
        async with runtime.db.write() as session:
            release = await publish(session, note=note, effective_day=day, allow_local_items=not no_local_items)
            return release.number, release.item_count

    number, items = _run(settings, work)
    click.echo(f"catalog release {number} published ({items} items)")


@catalog.command("assortment")
@click.option("--venue", "venue_code", required=True, help="venue code")
@click.option("--sku", required=True)
@click.option("--price", default=None, help="the venue's own price, e.g. 12.50 (default: the group's)")
@click.option("--not-sold", is_flag=True, help="the venue does not sell it")
@click.pass_obj
def catalog_assortment(settings: Settings, venue_code: str, sku: str, price: str | None, not_sold: bool) -> None:
    """Say whether a venue sells an item, and at its own price; the next release carries it."""
    from decimal import Decimal, InvalidOperation

    from app.group.catalog import set_assortment

    _role(settings, "head_office", "catalog assortment")
    cents: int | None = None
    if price is not None:
        try:
            cents = int((Decimal(price) * 100).to_integral_exact())
        except (InvalidOperation, ArithmeticError):
            raise click.ClickException("The price is an amount, e.g. 12.50.") from None

    async def work(runtime: Any) -> None:
        async with runtime.db.write() as session:
            await set_assortment(session, venue_code=venue_code, sku=sku, sold=not not_sold, price_cents=cents)

    _run(settings, work)
    click.echo(f"{venue_code}: {sku} {'not sold' if not_sold else 'at ' + (price or 'the group price')}")
