"""Payment terminals: the protocol the app talks to, and a simulated terminal for the demo and tests.

The app never sees a card number: a terminal answers with the processor reference, the card brand,
the last four digits and the auth code, and that is all the app stores. Every request carries the
app's own reference, so after a crash the app can ask the terminal what became of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections import deque
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TerminalOutcome(StrEnum):
    """What a terminal says about a request."""

    APPROVED = "approved"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class TerminalResult:
    """A terminal's answer: only the outcome and what may be printed on a receipt."""

    outcome: TerminalOutcome
    reference: str
    processor_reference: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    auth_code: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        last4 = self.card_last4
        if last4 is not None and not (len(last4) == 4 and last4.isdigit()):
            raise ValueError("a terminal may report only the last four digits of a card")


class TerminalError(Exception):
    """The terminal could not be reached; whether the request reached it is unknown."""


class PaymentTerminal(Protocol):
    """A card terminal as the app uses it; each call is keyed by the app's own reference."""

    name: str

    async def charge(self, *, reference: str, amount_cents: int, tip_cents: int, currency: str) -> TerminalResult:
        """Take amount plus tip from the guest's card."""
        ...

    async def refund(
        self, *, reference: str, original_reference: str, amount_cents: int, currency: str
    ) -> TerminalResult:
        """Give money back to the card of an earlier charge."""
        ...

    async def adjust_tip(self, *, original_reference: str, tip_cents: int) -> TerminalResult:
        """Change the tip on an earlier charge before the batch closes."""
        ...

    async def lookup(self, reference: str) -> TerminalResult:
        """What became of the request with this reference (NOT_FOUND if it never arrived)."""
        ...


@dataclass
class _Journal:
    reference: str
    kind: str
    outcome: str
    amount_cents: int
    tip_cents: int
    processor_reference: str
    card_brand: str
    card_last4: str
    auth_code: str
    message: str


# Test cards, as payment processors offer them: the cents of the amount choose the outcome.
DECLINE_CENTS = 51
TIMEOUT_CENTS = 52


class SimulatedTerminal:
    """A terminal that approves, declines or times out on demand and remembers every request on disk.

    Outcomes come from `script` (one per charge or refund, for tests), otherwise from the amount:
    an amount ending in .51 is declined, one ending in .52 times out (the card is charged but the
    answer never arrives), anything else is approved. The journal survives a restart, as a real
    terminal's does, so the app can recover after a crash.
    """

    def __init__(
        self,
        journal_dir: Path,
        *,
        name: str = "Simulated terminal",
        script: list[TerminalOutcome] | None = None,
        card_brand: str = "VISA",
        card_last4: str = "4242",
    ) -> None:
        self.name = name
        self.journal_dir = journal_dir
        self.script: deque[TerminalOutcome] = deque(script or [])
        self.card_brand = card_brand
        self.card_last4 = card_last4
        self.requests: list[tuple[str, str, int]] = []
        self._lock = asyncio.Lock()

    def then(self, *outcomes: TerminalOutcome) -> SimulatedTerminal:
        """Queue the outcomes of the next requests."""
        self.script.extend(outcomes)
        return self

    async def charge(self, *, reference: str, amount_cents: int, tip_cents: int, currency: str) -> TerminalResult:
        """Approve, decline or time out, as scripted or as the amount's cents say."""
        return await self._transact("charge", reference, amount_cents, tip_cents)

    async def refund(
        self, *, reference: str, original_reference: str, amount_cents: int, currency: str
    ) -> TerminalResult:
        """Refund to the card of an approved charge."""
        original = self._read(original_reference)
        if original is None or original.outcome != TerminalOutcome.APPROVED:
            return TerminalResult(TerminalOutcome.DECLINED, reference, message="The original charge is unknown")
        return await self._transact("refund", reference, amount_cents, 0)

    async def adjust_tip(self, *, original_reference: str, tip_cents: int) -> TerminalResult:
        """Change the tip of an approved charge."""
        async with self._lock:
            original = self._read(original_reference)
            if original is None or original.outcome != TerminalOutcome.APPROVED:
                return TerminalResult(
                    TerminalOutcome.DECLINED, original_reference, message="The original charge is unknown"
                )
            original.tip_cents = tip_cents
            self._write(original)
            return self._result(original)

    async def lookup(self, reference: str) -> TerminalResult:
        """What the terminal did with a request; a timed-out charge turns out to be approved."""
        entry = self._read(reference)
        if entry is None:
            return TerminalResult(TerminalOutcome.NOT_FOUND, reference, message="The terminal never saw this request")
        return self._result(entry)

    async def _transact(self, kind: str, reference: str, amount_cents: int, tip_cents: int) -> TerminalResult:
        if not _REFERENCE.fullmatch(reference):
            raise ValueError(f"bad terminal reference {reference!r}")
        async with self._lock:
            existing = self._read(reference)
            if existing is not None:
                # The same reference twice is the same request: a terminal never charges it again.
                return self._result(existing)
            outcome = self._next_outcome(amount_cents + tip_cents)
            self.requests.append((kind, reference, amount_cents + tip_cents))
            approved = outcome in (TerminalOutcome.APPROVED, TerminalOutcome.TIMED_OUT)
            entry = _Journal(
                reference=reference,
                kind=kind,
                outcome=TerminalOutcome.APPROVED if approved else TerminalOutcome.DECLINED,
                amount_cents=amount_cents,
                tip_cents=tip_cents,
                processor_reference=f"SIM-{reference}",
                card_brand=self.card_brand,
                card_last4=self.card_last4,
                auth_code=_auth_code(reference) if approved else "",
                message="Approved" if approved else "Declined by the card issuer",
            )
            self._write(entry)
        if outcome is TerminalOutcome.TIMED_OUT:
            return TerminalResult(TerminalOutcome.TIMED_OUT, reference, message="The terminal did not answer in time")
        return self._result(entry)

    def _next_outcome(self, cents: int) -> TerminalOutcome:
        if self.script:
            return self.script.popleft()
        if cents % 100 == DECLINE_CENTS:
            return TerminalOutcome.DECLINED
        if cents % 100 == TIMEOUT_CENTS:
            return TerminalOutcome.TIMED_OUT
        return TerminalOutcome.APPROVED

    def _path(self, reference: str) -> Path:
        if not _REFERENCE.fullmatch(reference):
            raise ValueError(f"bad terminal reference {reference!r}")
        return self.journal_dir / f"{reference}.json"

    def _read(self, reference: str) -> _Journal | None:
        path = self._path(reference)
        if not path.exists():
            return None
        return _Journal(**json.loads(path.read_text()))

    def _write(self, entry: _Journal) -> None:
        self.journal_dir.mkdir(parents=True, exist_ok=True)
        path = self._path(entry.reference)
        temporary = path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            json.dump(asdict(entry), handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    @staticmethod
    def _result(entry: _Journal) -> TerminalResult:
        approved = entry.outcome == TerminalOutcome.APPROVED
        return TerminalResult(
            outcome=TerminalOutcome(entry.outcome),
            reference=entry.reference,
            processor_reference=entry.processor_reference if approved else None,
            card_brand=entry.card_brand if approved else None,
            card_last4=entry.card_last4 if approved else None,
            auth_code=entry.auth_code or None,
            message=entry.message,
        )


def _auth_code(reference: str) -> str:
    return f"{int(hashlib.sha256(reference.encode()).hexdigest()[:8], 16) % 1_000_000:06d}"
