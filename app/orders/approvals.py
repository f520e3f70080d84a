"""A manager's PIN typed into a server's tablet to approve one action, throttled like a login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import as_utc, utcnow
from app.staff import services as staff_services
from app.staff.models import Device, PinAttempt, Staff

_hasher = PasswordHasher()


@dataclass(frozen=True)
class ApprovalOutcome:
    """Whose PIN it was, or why it was refused; every attempt is recorded whatever the outcome."""

    approver_id: int | None
    message: str = ""


async def identify_approver(
    session: AsyncSession, *, pin: str, device_id: int | None, policy: staff_services.PinPolicy
) -> ApprovalOutcome:
    """Find the person whose PIN was typed, counting wrong PINs against the device as the PIN pad does.

    The caller commits this transaction even when the PIN is refused, so a wrong PIN is never forgotten.
    """
    now = utcnow()
    pin = pin.strip()
    if not pin.isdigit() or not staff_services.PIN_MIN <= len(pin) <= staff_services.PIN_MAX:
        return ApprovalOutcome(None, f"A PIN is {staff_services.PIN_MIN} to {staff_services.PIN_MAX} digits.")
    device = await session.get(Device, device_id) if device_id is not None else None
    if device is not None and device.locked_at is not None:
        return ApprovalOutcome(None, "This device is locked after too many wrong PINs. A manager must unlock it.")
    failures = 0
    if device is not None:
        failures, last_failure = await _failures_since_last_success(session, device, now, policy)
        if failures >= policy.throttle_after and last_failure is not None:
            wait = (last_failure + policy.throttle_delay - now).total_seconds()
            if wait > 0:
                return ApprovalOutcome(None, f"Too many wrong PINs. Try again in {int(wait) + 1} s.")
    approver = await _staff_for_pin(session, pin)
    if device is not None:
        session.add(
            PinAttempt(
                device_id=device.id or 0,
                at=now,
                success=approver is not None,
                staff_id=approver.id if approver else None,
            )
        )
    if approver is None:
        await audit.record(
            session,
            "approval.pin_refused",
            actor_id=None,
            subject=f"device:{device_id}",
            reason="wrong PIN",
            device=device.token[:12] if device else None,
        )
        if device is not None and failures + 1 >= policy.lockout_after:
            device.locked_at = now
            session.add(device)
            await audit.record(
                session,
                "device.lock",
                actor_id=None,
                subject=f"device:{device.id}",
                reason=f"{failures + 1} wrong PINs",
                device=device.token[:12],
            )
            return ApprovalOutcome(
                None, "This device is now locked after too many wrong PINs. A manager must unlock it."
            )
        return ApprovalOutcome(None, "That PIN is not right. Nothing was changed.")
    return ApprovalOutcome(approver.id)


async def _staff_for_pin(session: AsyncSession, pin: str) -> Staff | None:
    lookup = await staff_services.pin_lookup(session, pin)
    staff = (
        await session.exec(select(Staff).where(Staff.pin_lookup == lookup, col(Staff.archived_at).is_(None)))
    ).first()
    if staff is None:
        return None
    try:
        _hasher.verify(staff.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return None
    return staff


async def _failures_since_last_success(
    session: AsyncSession, device: Device, now: datetime, policy: staff_services.PinPolicy
) -> tuple[int, datetime | None]:
    last_success = (
        await session.exec(
            select(func.max(PinAttempt.at)).where(PinAttempt.device_id == device.id, col(PinAttempt.success).is_(True))
        )
    ).one()
    candidates = (now - policy.window, last_success, device.unlocked_at)
    floor = max(as_utc(t) for t in candidates if t is not None)
    failures = (
        await session.exec(
            select(PinAttempt.at)
            .where(PinAttempt.device_id == device.id, col(PinAttempt.success).is_(False), PinAttempt.at > floor)
            .order_by(col(PinAttempt.at).desc())
        )
    ).all()
    return len(failures), (failures[0] if failures else None)
