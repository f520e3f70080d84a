"""Typed events of the checks domain, emitted in the transaction that made them true."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from app.lib.events import DomainEvent


@dataclass(frozen=True)
class CheckSplit(DomainEvent):
    """A check was split (or a split undone); `check_ids` are every check of the family now open."""

    name: ClassVar[str] = "checks.split"
    root_check_id: int
    check_ids: tuple[int, ...]
    table_id: int | None


@dataclass(frozen=True)
class PaymentTaken(DomainEvent):
    """Money was taken on a check (cash, card, or another tender)."""

    name: ClassVar[str] = "checks.payment_taken"
    check_id: int
    payment_id: int
    amount_cents: int
    tip_cents: int


@dataclass(frozen=True)
class CashHandled(DomainEvent):
    """Cash went into the drawer at hand (a payment, its change already given) or out of it (a refund).

    `amount_cents` is signed: positive in, negative out. Whoever keeps the drawers places it in the open drawer
    of `device_id` (or the house drawer) by setting `drawer_id` on the payment or refund, or refuses it.
    """

    name: ClassVar[str] = "checks.cash_handled"
    check_id: int
    device_id: int | None
    staff_id: int
    amount_cents: int
    payment_id: int | None = None
    refund_id: int | None = None


@dataclass(frozen=True)
class GiftCardCharged(DomainEvent):
    """A payment was taken on a gift card tender: `amount_cents` is to come off the card numbered `card_number`.

    Whoever keeps the cards spends it in the same transaction, or refuses it (and the payment with it).
    """

    name: ClassVar[str] = "checks.gift_card_charged"
    check_id: int
    payment_id: int
    card_number: str
    amount_cents: int
    staff_id: int


@dataclass(frozen=True)
class CheckClosed(DomainEvent):
    """A check was paid in full and closed for the `sequence`-th time; its table may need clearing."""

    name: ClassVar[str] = "checks.closed"
    check_id: int
    table_id: int | None
    sequence: int


@dataclass(frozen=True)
class CheckReopened(DomainEvent):
    """A manager reopened a closed check; its last closing is to be reversed."""

    name: ClassVar[str] = "checks.reopened"
    check_id: int
    table_id: int | None
    sequence: int


@dataclass(frozen=True)
class CheckRefunded(DomainEvent):
    """Money went back to a guest on a closed check."""

    name: ClassVar[str] = "checks.refunded"
    check_id: int
    refund_id: int
    amount_cents: int


@dataclass(frozen=True)
class TenderSaved(DomainEvent):
    """A manager added or changed a tender; `account_code` is the ledger account its money goes to."""

    name: ClassVar[str] = "checks.tender_saved"
    tender_id: int
    account_code: str
    actor_id: int | None
