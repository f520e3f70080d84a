"""Staff commands: hiring someone and letting them go.

The rest of the staff domain has rooms of its own, and its commands are offered here too: pins.py (the rules,
storage and policy of PINs), lockouts.py (wrong PINs, throttling and lockouts), logins.py (PIN login at a device),
devices.py (enrolling, revoking, unlocking), sessions.py (the logged-in person behind each request) and
api_tokens.py (integrations' bearer tokens).
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.staff.api_tokens import api_token_for as api_token_for
from app.staff.api_tokens import create_api_token as create_api_token
from app.staff.devices import EnrolOutcome as EnrolOutcome
from app.staff.devices import device_by_token as device_by_token
from app.staff.devices import enrol_device as enrol_device
from app.staff.devices import revoke_device as revoke_device
from app.staff.devices import unlock_device as unlock_device
from app.staff.lockouts import active_lockouts as active_lockouts
from app.staff.lockouts import lift_lockout as lift_lockout
from app.staff.logins import NOT_ENROLLED as NOT_ENROLLED
from app.staff.logins import REVOKED as REVOKED
from app.staff.logins import login_with_pin as login_with_pin
from app.staff.models import Staff, StaffSession
from app.staff.permissions import Role
from app.staff.pins import PIN_HASHERS as PIN_HASHERS
from app.staff.pins import PIN_MAX as PIN_MAX
from app.staff.pins import PIN_MIN as PIN_MIN
from app.staff.pins import LoginOutcome as LoginOutcome
from app.staff.pins import PinPolicy as PinPolicy
from app.staff.pins import pin_hasher as pin_hasher
from app.staff.pins import pin_lookup as pin_lookup
from app.staff.pins import validate_pin as validate_pin
from app.staff.sessions import ActiveSession as ActiveSession
from app.staff.sessions import active_session as active_session
from app.staff.sessions import end_session as end_session
from app.staff.sessions import hash_token as hash_token
from app.staff.sessions import touch_session as touch_session


async def add_staff(
    session: AsyncSession, *, name: str, role: Role | str, pin: str, actor_id: int | None = None
) -> Staff:
    """Hire someone: a name, a role and a PIN nobody else has."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("Give the person a name of at most 80 characters.")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}.") from None
    pin = validate_pin(pin)
    lookup = await pin_lookup(session, pin)
    taken = (await session.exec(select(Staff.id).where(Staff.pin_lookup == lookup))).first()
    if taken is not None:
        raise Conflict("That PIN is already in use; choose another.")
    staff = Staff(name=name, role=role, pin_lookup=lookup, pin_hash=pin_hasher(session.info.get("settings")).hash(pin))
    session.add(staff)
    await session.flush()
    await audit.record(
        session, "staff.add", actor_id=actor_id, subject=f"staff:{staff.id}", after={"name": name, "role": role.value}
    )
    return staff


async def archive_staff(session: AsyncSession, staff_id: int, *, actor_id: int) -> Staff:
    """Let someone go: they can no longer log in, their history stays."""
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("No such staff member.")
    if staff.archived_at is None:
        staff.archived_at = utcnow()
        session.add(staff)
        for open_session in await session.exec(
            select(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))  # type: ignore[union-attr]
        ):
            open_session.ended_at = utcnow()
            session.add(open_session)
        await audit.record(session, "staff.archive", actor_id=actor_id, subject=f"staff:{staff_id}")
    return staff
