"""Guest commands: take a guest's details, find them again, attach them to a check, erase them on request.

Each command runs in its caller's transaction. The audit log records who did what to which guest by id, never
the guest's name, phone, email or allergies: audit entries are hash-chained and cannot be edited, so personal
data written there could never be erased.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.guests.models import (
    ALLERGIES_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    PREFERENCES_MAX_LENGTH,
    Guest,
)
from app.guests.queries import count_guests, digits_of, phone_key, search_guests
from app.kitchen.allergies import forget_guest, show_allergies
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.lib.events import DomainEvent, emit
from app.lib.idempotency import IdempotencyRecord
from app.lib.inputs import clean_text
from app.orders.models import Check, CheckStatus
from app.orders.services import get_check_for_update
from app.staff.models import Staff
from app.staff.permissions import Perm

__all__ = [
    "GuestErased",
    "attach_guest_to_check",
    "count_guests",
    "create_guest",
    "detach_guest_from_check",
    "erase_guest",
    "find_or_create_guest",
    "get_guest",
    "search_guests",
    "update_guest",
]

PHONE_MIN_DIGITS = 6
PHONE_MAX_DIGITS = 15
ERASE_REASON_MAX_LENGTH = 300
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
ERASED_NAME = "Erased guest"
API_IDEMPOTENCY_SCOPE = "api:guests:"
"""Idempotency scopes of guest writes over the API (one per token): their stored answers hold a guest's details."""


@dataclass(frozen=True)
class GuestErased(DomainEvent):
    """A guest's personal data was erased; whoever keeps a copy of it (a booking, a snapshot) empties theirs."""

    name: ClassVar[str] = "guests.erased"
    guest_id: int
    check_ids: tuple[int, ...]


def _require(actor: Staff, perm: Perm, doing: str) -> None:
    if not actor.can(perm):
        raise PermissionDenied(f"{actor.name} cannot {doing}; a manager can.")


def clean_phone(value: str | None) -> tuple[str | None, str | None]:
    """A phone number as typed (trimmed) and its digits; None for none; refused when it cannot be a number."""
    text = clean_text(value, label="Phone", max_length=PHONE_MAX_LENGTH, required=False)
    if not text:
        return None, None
    digits = digits_of(text)
    if not _PHONE_CHARACTERS.match(text) or not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise InvalidInput(
            f"Phone “{text}” is not a phone number: use {PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS} digits, "
            "with spaces, dashes or a leading + if you like."
        )
    return text, phone_key(digits)


def clean_email(value: str | None) -> str | None:
    """An email address in lower case, None for none; refused when it is not one."""
    text = clean_text(value, label="Email", max_length=EMAIL_MAX_LENGTH, required=False).lower()
    if not text:
        return None
    if not _EMAIL.match(text):
        raise InvalidInput(f"Email “{text}” is not an email address (name@example.com).")
    return text


def clean_allergies(value: str | None) -> str:
    """Allergies as the kitchen will read them, on one line."""
    text = clean_text(value, label="Allergies", max_length=ALLERGIES_MAX_LENGTH, required=False, multiline=True)
    return " ".join(text.split())


def _clean_name(value: str | None) -> str:
    return clean_text(value, label="Name", max_length=NAME_MAX_LENGTH)


def _clean_preferences(value: str | None) -> str:
    return clean_text(value, label="Preferences", max_length=PREFERENCES_MAX_LENGTH, required=False, multiline=True)


async def get_guest(session: AsyncSession, guest_id: int) -> Guest:
    """The guest, or a refusal naming the id."""
    guest = await session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"Guest {guest_id} does not exist.")
    return guest


async def _live_guest(session: AsyncSession, guest_id: int) -> Guest:
    guest = await get_guest(session, guest_id)
    if guest.erased_at is not None:
        raise Conflict(f"Guest {guest_id} was erased on request; their details are gone.")
    return guest


async def _same_contact(
    session: AsyncSession, digits: str | None, email: str | None, *, other_than: int | None
) -> Guest | None:
    for column, value in ((Guest.phone_digits, digits), (Guest.email, email)):
        if value is None:
            continue
        query = select(Guest).where(col(column) == value, col(Guest.erased_at).is_(None)).order_by(col(Guest.id))
        if other_than is not None:
            query = query.where(col(Guest.id) != other_than)
        found = (await session.exec(query)).first()
        if found is not None:
            return found
    return None


async def create_guest(
    session: AsyncSession,
    *,
    actor: Staff,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    allergies: str | None = None,
    preferences: str | None = None,
    marketing_consent: bool = False,
) -> Guest:
    """Put a new guest on file; a phone or email already on file is refused, naming the guest who has it."""
    _require(actor, Perm.GUESTS_MANAGE, "add guests")
    clean_name = _clean_name(name)
    shown_phone, digits = clean_phone(phone)
    clean_mail = clean_email(email)
    if digits is None and clean_mail is None:
        raise InvalidInput("A guest needs a phone number or an email address, so they can be found again.")
    existing = await _same_contact(session, digits, clean_mail, other_than=None)
    if existing is not None:
        raise Conflict(
            f"{existing.name} (guest {existing.id}) already has that phone number or email; "
            "attach or edit them instead.",
            detail={"guest_id": existing.id},
        )
    guest = Guest(
        name=clean_name,
        phone=shown_phone,
        phone_digits=digits,
        email=clean_mail,
        allergies=clean_allergies(allergies),
        preferences=_clean_preferences(preferences),
        marketing_consent=bool(marketing_consent),
    )
    session.add(guest)
    await session.flush()
    await audit.record(
        session,
        "guest.created",
        actor_id=actor.id,
        subject=f"guest:{guest.id}",
        after={"marketing_consent": guest.marketing_consent},
    )
    return guest


async def find_or_create_guest(
    session: AsyncSession,
    *,
    actor: Staff,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    allergies: str | None = None,
    preferences: str | None = None,
    marketing_consent: bool | None = None,
) -> Guest:
    """The guest on file with this phone (else email), or a new one.

    A guest found keeps their name; allergies, preferences and consent given here replace theirs (what the guest
    said last is what the kitchen must know), and a phone or email they lacked is added.
    """
    _require(actor, Perm.GUESTS_MANAGE, "add guests")
    _clean_name(name)
    _shown, digits = clean_phone(phone)
    clean_mail = clean_email(email)
    existing = await _same_contact(session, digits, clean_mail, other_than=None)
    if existing is None:
        return await create_guest(
            session,
            actor=actor,
            name=name,
            phone=phone,
            email=email,
            allergies=allergies,
            preferences=preferences,
            marketing_consent=bool(marketing_consent),
        )
    return await update_guest(
        session,
        existing.id or 0,
        actor=actor,
        phone=phone if existing.phone_digits is None else None,
        email=email if existing.email is None else None,
        allergies=allergies,
        preferences=preferences,
        marketing_consent=marketing_consent,
    )


async def update_guest(
    session: AsyncSession,
    guest_id: int,
    *,
    actor: Staff,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    allergies: str | None = None,
    preferences: str | None = None,
    marketing_consent: bool | None = None,
    clear_phone: bool = False,
    clear_email: bool = False,
) -> Guest:
    """Change what is given (None leaves a field as it is); open checks with the guest follow new allergies."""
    _require(actor, Perm.GUESTS_MANAGE, "edit guests")
    guest = await _live_guest(session, guest_id)
    changed: list[str] = []
    if name is not None and _clean_name(name) != guest.name:
        guest.name = _clean_name(name)
        changed.append("name")
    if phone is not None or clear_phone:
        shown, digits = clean_phone(None if clear_phone else phone)
        if digits != guest.phone_digits or shown != guest.phone:
            guest.phone, guest.phone_digits = shown, digits
            changed.append("phone")
    if email is not None or clear_email:
        clean_mail = clean_email(None if clear_email else email)
        if clean_mail != guest.email:
            guest.email = clean_mail
            changed.append("email")
    if allergies is not None and clean_allergies(allergies) != guest.allergies:
        guest.allergies = clean_allergies(allergies)
        changed.append("allergies")
    if preferences is not None and _clean_preferences(preferences) != guest.preferences:
        guest.preferences = _clean_preferences(preferences)
        changed.append("preferences")
    if marketing_consent is not None and bool(marketing_consent) != guest.marketing_consent:
        guest.marketing_consent = bool(marketing_consent)
        changed.append("marketing_consent")
    if guest.phone_digits is None and guest.email is None:
        raise InvalidInput("A guest needs a phone number or an email address, so they can be found again.")
    if "phone" in changed or "email" in changed:
        clash = await _same_contact(
            session,
            guest.phone_digits if "phone" in changed else None,
            guest.email if "email" in changed else None,
            other_than=guest.id,
        )
        if clash is not None:
            raise Conflict(
                f"{clash.name} (guest {clash.id}) already has that phone number or email.",
                detail={"guest_id": clash.id},
            )
    if not changed:
        return guest
    guest.updated_at = utcnow()
    session.add(guest)
    await session.flush()
    await audit.record(
        session,
        "guest.updated",
        actor_id=actor.id,
        subject=f"guest:{guest.id}",
        after={"fields": changed, "marketing_consent": guest.marketing_consent},
    )
    if "name" in changed or "allergies" in changed:
        for check in await _open_checks_of(session, guest.id or 0):
            await _snapshot(session, check, guest, actor)
    return guest


async def _open_checks_of(session: AsyncSession, guest_id: int) -> list[Check]:
    query = select(Check).where(Check.guest_id == guest_id, Check.status == CheckStatus.OPEN).order_by(col(Check.id))
    return list((await session.exec(query)).all())


async def _snapshot(session: AsyncSession, check: Check, guest: Guest | None, actor: Staff) -> None:
    """Write the guest's name and allergies onto the check; the check's open kitchen tickets follow the allergies."""
    allergies = (guest.allergies or None) if guest else None
    check.guest_id = guest.id if guest else None
    check.guest_name = guest.name if guest else None
    check.guest_allergies = allergies
    check.version += 1
    session.add(check)
    await session.flush()
    await show_allergies(session, check.id or 0, allergies, staff_id=actor.id)


async def attach_guest_to_check(
    session: AsyncSession,
    check_id: int,
    guest_id: int,
    actor: Staff,
    *,
    allergies: str | None = None,
    expected_version: int | None = None,
) -> Check:
    """Attach a guest to an open check: their name shows on it, their allergies go to every kitchen ticket.

    `allergies`, when given (a booking's note, what the guest just told the server), replace the guest's own
    first, so attaching with allergies is one call.
    """
    _require(actor, Perm.GUESTS_MANAGE, "attach guests to checks")
    check = await get_check_for_update(session, check_id, expected_version)
    if check.status != CheckStatus.OPEN:
        raise Conflict(f"Check #{check.number} is {check.status.value}; a guest can be attached to an open check only.")
    guest = await _live_guest(session, guest_id)
    if allergies is not None:
        guest = await update_guest(session, guest_id, actor=actor, allergies=allergies)
    replaced = check.guest_id if check.guest_id not in (None, guest.id) else None
    if (
        check.guest_id != guest.id
        or check.guest_allergies != (guest.allergies or None)
        or check.guest_name != guest.name
    ):
        await _snapshot(session, check, guest, actor)
    await audit.record(
        session,
        "check.guest_attached",
        actor_id=actor.id,
        subject=f"check:{check.id}",
        after={"guest_id": guest.id, "replaced_guest_id": replaced},
    )
    return check


async def detach_guest_from_check(
    session: AsyncSession, check_id: int, actor: Staff, *, expected_version: int | None = None
) -> Check:
    """Take the guest off an open check (attached by mistake); the kitchen's tickets lose their allergy banner."""
    _require(actor, Perm.GUESTS_MANAGE, "change a check's guest")
    check = await get_check_for_update(session, check_id, expected_version)
    if check.status != CheckStatus.OPEN:
        raise Conflict(f"Check #{check.number} is {check.status.value}; its guest stays as it was.")
    if check.guest_id is None:
        raise InvalidInput(f"Check #{check.number} has no guest attached.")
    previous = check.guest_id
    await _snapshot(session, check, None, actor)
    await audit.record(
        session, "check.guest_detached", actor_id=actor.id, subject=f"check:{check.id}", before={"guest_id": previous}
    )
    return check


async def _forget_api_answers(session: AsyncSession, guest_id: int) -> None:
    """Delete the API's stored answers about the guest (they repeat the details); a retry would then write anew."""
    records = await session.exec(
        select(IdempotencyRecord).where(col(IdempotencyRecord.scope).startswith(API_IDEMPOTENCY_SCOPE, autoescape=True))
    )
    for record in records.all():
        try:
            answered = json.loads(record.body or "null")
        except ValueError:
            continue
        if isinstance(answered, dict) and answered.get("id") == guest_id:
            await session.delete(record)
    await session.flush()


def _names_the_guest(text: str, guest: Guest) -> bool:
    """Whether `text` holds the guest's name (a word of it of three letters or more), phone or email."""
    lowered = text.lower()
    words = {word for word in re.split(r"[\s,.;:'\-]+", guest.name.lower()) if len(word) >= 3}
    if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words):
        return True
    if guest.email and guest.email in lowered:
        return True
    return bool(guest.phone_digits and guest.phone_digits in digits_of(text))


async def erase_guest(session: AsyncSession, guest_id: int, *, actor: Staff, reason: str) -> Guest:
    """Erase a guest's personal data on their request: the record and every check's copy are emptied (a tab named
    after them is renamed), and so are their kitchen tickets and the print queue's copies.

    Checks, their money and the ledger stay as they are (they point at the guest's id, which now names nobody);
    the audit chain holds only ids, so it still verifies. The API's stored answers about the guest are deleted.
    """
    _require(actor, Perm.GUESTS_ERASE, "erase guests")
    clean_reason = clean_text(reason, label="Reason", max_length=ERASE_REASON_MAX_LENGTH, multiline=True)
    guest = await get_guest(session, guest_id)
    if guest.erased_at is not None:
        raise Conflict(f"Guest {guest_id} was already erased.")
    if _names_the_guest(clean_reason, guest):
        raise InvalidInput(
            "Leave the guest's name, phone and email out of the reason (say how and when they asked): "
            "the audit log keeps the reason for good."
        )
    original = Guest(name=guest.name, phone_digits=guest.phone_digits, email=guest.email)
    guest.name = ERASED_NAME
    guest.phone = None
    guest.phone_digits = None
    guest.email = None
    guest.allergies = ""
    guest.preferences = ""
    guest.marketing_consent = False
    guest.erased_at = guest.updated_at = utcnow()
    session.add(guest)
    checks = list((await session.exec(select(Check).where(Check.guest_id == guest_id).order_by(col(Check.id)))).all())
    for check in checks:
        check.guest_name = None
        check.guest_allergies = None
        if check.tab_name and _names_the_guest(check.tab_name, original):
            check.tab_name = ERASED_NAME
        if check.status == CheckStatus.OPEN:
            check.version += 1
        session.add(check)
    await session.flush()
    check_ids = tuple(check.id or 0 for check in checks)
    await forget_guest(session, check_ids)
    await _forget_api_answers(session, guest_id)
    await emit(session, GuestErased(guest_id=guest_id, check_ids=check_ids))
    await audit.record(
        session,
        "guest.erased",
        actor_id=actor.id,
        subject=f"guest:{guest_id}",
        reason=clean_reason,
        after={"checks": len(check_ids)},
    )
    return guest
