"""How the checks domain plugs into a process: its payment terminal and its outbox deliverers."""

from __future__ import annotations

from typing import Protocol

from app.checks import services
from app.checks.terminal import PaymentTerminal, SimulatedTerminal
from app.lib.db import Database
from app.lib.outbox import OutboxDispatcher
from app.lib.settings import Settings

TERMINAL_KEY = "payment_terminal"


class _Runtime(Protocol):
    settings: Settings
    db: Database
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
    """Resolve payment attempts left pending by a crash, from any process, once their recovery falls due."""
    db = runtime.db
    runtime.dispatcher.register(services.RECOVERY_TOPIC, services.recovery_deliverer(lambda: payment_terminal(db)))
