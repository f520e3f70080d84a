"""How the checks domain plugs into a process: its payment terminal, outbox deliverers and event subscribers."""

from __future__ import annotations

from typing import Protocol

from app.checks import adjustments, attempts, services
from app.checks.terminal import PaymentTerminal, SimulatedTerminal
from app.lib.db import Database
from app.lib.events import EventBus
from app.lib.outbox import OutboxDispatcher
from app.lib.settings import Settings
from app.orders.services import CheckTotalLowered

TERMINAL_KEY = "payment_terminal"


class _Runtime(Protocol):
    settings: Settings
    db: Database
    bus: EventBus
    dispatcher: OutboxDispatcher


def payment_terminal(db: Database) -> PaymentTerminal:
    """The terminal this process talks to (tests may put their own in the database context)."""
    terminal = db.context.get(TERMINAL_KEY)
    if terminal is None:
        settings = db.context.get("settings")
        var_dir = settings.var_dir if isinstance(settings, Settings) else Settings().var_dir
        # A simulated terminal keeps its journal on disk, as a real one does, so recovery works after a restart.
        terminal = SimulatedTerminal(var_dir / "terminal")
        db.context[TERMINAL_KEY] = terminal
    result: PaymentTerminal = terminal
    return result


def wire(runtime: _Runtime) -> None:
    """Recover payments a crash left pending, from any process; refuse voids that take a check below what was paid."""
    runtime.bus.subscribe(CheckTotalLowered, adjustments.refuse_lowering_below_paid)
    db = runtime.db
    runtime.dispatcher.register(services.RECOVERY_TOPIC, attempts.recovery_deliverer(lambda: payment_terminal(db)))
