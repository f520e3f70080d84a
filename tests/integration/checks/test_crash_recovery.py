"""A crash between the terminal's approval and the check's close: after a restart the check is whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.checks import attempts, payments, services
from app.checks.delivery import TERMINAL_KEY
from app.checks.models import AttemptStatus, Payment, PaymentAttempt
from app.checks.terminal import SimulatedTerminal, TerminalResult
from app.lib.clock import utcnow
from app.lib.outbox import OutboxMessage
from app.main import create_app
from app.orders.models import CheckStatus
from tests.integration.checks.arrange import check_row, key, money, ring_in, rows, tenders

DINNER = [(1, "PA-CAR"), (2, "PA-RIS")]


class ProcessDied(BaseException):
    """The power went: nothing after this point ran."""


class DiesAfterApproval(SimulatedTerminal):
    """The terminal approves and records the charge, then the app's process dies before it hears back."""

    async def charge(self, *, reference: str, amount_cents: int, tip_cents: int, currency: str) -> TerminalResult:
        await super().charge(reference=reference, amount_cents=amount_cents, tip_cents=tip_cents, currency=currency)
        raise ProcessDied


class DiesBeforeAsking(SimulatedTerminal):
    """The app's process dies after recording the attempt, before the terminal hears of it."""

    async def charge(self, *, reference: str, amount_cents: int, tip_cents: int, currency: str) -> TerminalResult:
        raise ProcessDied


async def _pay_and_die(runtime: Any, terminal: SimulatedTerminal) -> tuple[int, int]:
    arranged = await ring_in(runtime, items=DINNER)
    total = (await money(runtime, arranged.check_id)).totals.total
    request = payments.PaymentRequest(
        check_id=arranged.check_id,
        tender_id=(await tenders(runtime))["Card"],
        actor=arranged.server,
        idempotency_key=key(),
        amount_cents=total,
        tip_cents=250,
    )
    with pytest.raises(ProcessDied):
        await payments.take_payment(runtime.db, terminal, request)
    return arranged.check_id, total


@asynccontextmanager
async def _restart(settings: Any, journal: Any) -> AsyncIterator[Any]:
    """A new process on the same database, its terminal the same physical terminal."""
    app = create_app(settings)
    runtime = app.state.runtime
    runtime.db.context[TERMINAL_KEY] = SimulatedTerminal(journal)
    async with app.lifespan():
        yield runtime


async def test_an_approved_charge_lost_in_a_crash_is_recovered_and_the_check_closes_once(
    runtime: Any, settings: Any, demo: None, live: Any
) -> None:
    journal = settings.var_dir / "terminal-journal"
    check_id, total = await _pay_and_die(runtime, DiesAfterApproval(journal))
    [attempt] = await rows(runtime, PaymentAttempt)
    assert attempt.status is AttemptStatus.PENDING, "the attempt was committed before the terminal was asked"
    assert await rows(runtime, Payment) == []
    assert (await check_row(runtime, check_id)).status is CheckStatus.OPEN, "never half closed"
    [recovery] = await rows(runtime, OutboxMessage, OutboxMessage.topic == services.RECOVERY_TOPIC)
    assert recovery.available_at > utcnow() + timedelta(seconds=60), "a live payment gets time to finish first"

    async with _restart(settings, journal) as restarted:
        # The recovery message falls due; any process's dispatcher delivers it.
        async with restarted.db.write() as session:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage).where(OutboxMessage.id == recovery.id).values(available_at=utcnow())
            )
        await restarted.dispatcher.drain()
        [payment] = await rows(restarted, Payment)
        assert (payment.amount_cents, payment.tip_cents, payment.card_last4) == (total, 250, "4242")
        check = await check_row(restarted, check_id)
        assert check.status is CheckStatus.CLOSED
        assert len(await rows(restarted, OutboxMessage, OutboxMessage.topic == "checks.closed")) == 1
        assert await attempts.recover_pending_attempts(restarted.db, SimulatedTerminal(journal)) == []
        assert len(await rows(restarted, Payment)) == 1


async def test_a_crash_before_the_terminal_heard_of_it_leaves_the_check_open_and_charges_nothing(
    runtime: Any, settings: Any, demo: None, live: Any
) -> None:
    journal = settings.var_dir / "terminal-journal"
    check_id, _ = await _pay_and_die(runtime, DiesBeforeAsking(journal))
    async with _restart(settings, journal) as restarted:
        [outcome] = await attempts.recover_pending_attempts(restarted.db, SimulatedTerminal(journal))
        assert outcome.attempt.status is AttemptStatus.FAILED
        assert await rows(restarted, Payment) == []
        assert (await check_row(restarted, check_id)).status is CheckStatus.OPEN
        assert (await money(restarted, check_id)).pending == ()
