"""PIN login at an enrolled device: every attempt recorded and audited, a session on success."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.staff.lockouts import after_failure, why_refused
from app.staff.models import Device, PinAttempt, Staff, StaffSession
from app.staff.pins import LoginOutcome, PinPolicy, staff_for_pin
from app.staff.sessions import hash_token

NOT_ENROLLED = "This device is not enrolled — a manager enters their PIN to enrol it."
REVOKED = "This device's enrolment was revoked — a manager enters their PIN to enrol it again."


async def login_with_pin(
    session: AsyncSession,
    *,
    device: Device | None,
    pin: str,
    policy: PinPolicy,
    address: str | None = None,
    now: datetime | None = None,
) -> LoginOutcome:
    """Check a PIN at an enrolled device; every attempt is recorded and audited, whatever the outcome."""
    now = now or utcnow()
    if device is None or not device.enrolled:
        # No PIN is checked on a stranger's browser, so discarding the device cookie buys no guesses.
        await audit.record(
            session,
            "staff.login_failed",
            actor_id=None,
            subject=f"device:{device.id}" if device is not None else f"address:{address}",
            reason="refused: device revoked" if device is not None else "refused: device not enrolled",
        )
        return LoginOutcome(False, REVOKED if device is not None else NOT_ENROLLED, not_enrolled=True)
    refusal = await why_refused(session, device=device, address=address, policy=policy, now=now)
    if refusal is not None:
        await _attempt(session, device, None, address, success=False, note=f"refused: {refusal.message}", counted=False)
        return refusal
    staff = await staff_for_pin(session, pin)
    if staff is None:
        await _attempt(session, device, None, address, success=False, note="wrong PIN", now=now)
        return await after_failure(
            session, device=device, address=address, policy=policy, now=now, message="Wrong PIN."
        )
    await _attempt(session, device, staff, address, success=True, note="login", now=now)
    device.last_seen_at = now
    device.last_address = address
    session.add(device)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=hash_token(token), staff_id=staff.id or 0, device_id=device.id, created_at=now, last_seen_at=now
        )
    )
    await session.flush()
    return LoginOutcome(True, staff=staff, token=token)


async def _attempt(
    session: AsyncSession,
    device: Device,
    staff: Staff | None,
    address: str | None,
    *,
    success: bool,
    note: str,
    counted: bool = True,
    now: datetime | None = None,
) -> None:
    if counted:
        session.add(
            PinAttempt(
                device_id=device.id,
                at=now or utcnow(),
                success=success,
                staff_id=staff.id if staff else None,
                address=address,
            )
        )
    await audit.record(
        session,
        "staff.login" if success else "staff.login_failed",
        actor_id=staff.id if staff else None,
        subject=f"device:{device.id}",
        reason=note if address is None else f"{note} from {address}",
        device=device.token[:12],
    )
