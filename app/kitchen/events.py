"""Events the kitchen emits, in the transaction that changed its tickets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from app.lib.events import DomainEvent


@dataclass(frozen=True)
class KitchenTicketsFired(DomainEvent):
    """A fire became tickets: `ticket_ids` are new station and expo tickets to print."""

    name: ClassVar[str] = "kitchen.tickets_fired"
    fire_id: int
    ticket_ids: tuple[int, ...]


@dataclass(frozen=True)
class KitchenTicketsRushed(DomainEvent):
    """Lines already in the kitchen were rushed: print a RUSH slip of `line_ids` for each ticket."""

    name: ClassVar[str] = "kitchen.tickets_rushed"
    fire_id: int
    ticket_ids: tuple[int, ...]
    check_line_ids: tuple[int, ...]


@dataclass(frozen=True)
class KitchenTicketsChanged(DomainEvent):
    """Tickets a board shows have changed (new, bumped, recalled, voided, rushed): screens redraw them."""

    name: ClassVar[str] = "kitchen.tickets_changed"
    ticket_ids: tuple[int, ...]


@dataclass(frozen=True)
class TicketReprintRequested(DomainEvent):
    """Someone asked for a ticket on paper again."""

    name: ClassVar[str] = "kitchen.ticket_reprint_requested"
    ticket_id: int
    staff_id: int | None
