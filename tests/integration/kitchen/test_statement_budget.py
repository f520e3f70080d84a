"""What routing a fire costs the database: a ceiling on the statements the dispatcher sends for one fire.

Every fire of the night goes through here (claimed, routed to station and expo tickets with their print jobs,
its cards pushed), and on this stack each statement costs a trip through the async driver; the ceilings are
what it costs now, so a change that creeps up fails here with its statements listed.
`python -m bench.kitchen_path --show-sql` shows the same for a fire sent from a tablet, with its timings.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from app.kitchen.models import PrintJob
from app.lib.outbox import OutboxMessage
from app.lib.settings import Settings
from tests.integration.kitchen.support import Order, fire, open_check, tickets_of
from tests.support.statements import listing, statements_sent

# Statements for one fire: its claim, routing and print jobs (one INSERT for them all) in one transaction, the card
# push's in a second. SQLite also sends BEGIN IMMEDIATE for each.
ROUTE_FIRE = {"sqlite": 11, "postgres": 9}


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The app without its own outbox dispatcher and print worker: every statement counted is the drain's."""
    return settings.model_copy(update={"run_workers": False})


async def test_routing_a_fire_and_pushing_its_cards_stays_within_its_statement_budget(
    runtime: Any, demo: None, live: Any, backend: str
) -> None:
    scene = await open_check(runtime, table="12")
    fire_id = await fire(
        runtime,
        scene,
        [
            Order("GR-RIB", 2, seat=1, note="no salt", modifiers=["Medium rare", "Fries"]),
            Order("FR-CAL", 1, seat=2),
            Order("GR-BUR", 1),
        ],
    )

    with statements_sent(runtime) as sent:
        delivered = await runtime.dispatcher.drain()

    assert delivered == 2, "the fire and the card push its routing owed"
    tickets = await tickets_of(runtime, fire_id)
    assert [name for _ticket, name, _lines in tickets] == ["Grill", "Fry", "Expo"]
    assert [[line.name for line in lines] for _ticket, _name, lines in tickets] == [
        ["Rib-eye 300 g", "Brigade Burger"],
        ["Fried Calamari"],
        ["Rib-eye 300 g", "Fried Calamari", "Brigade Burger"],
    ]
    async with runtime.db.read() as session:
        jobs = (await session.exec(select(PrintJob))).all()
        owed = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.delivered_at).is_(None)))).all()
    assert sorted(job.reference for job in jobs) == sorted(f"ticket:{t.id}" for t, name, _ in tickets if name != "Expo")
    assert owed == []
    assert len(sent) <= ROUTE_FIRE[backend], f"routing a fire sent {len(sent)} statements:\n{listing(sent)}"
