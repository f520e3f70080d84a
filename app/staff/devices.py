"""Devices: the browser behind a device cookie; enrolling it with a manager's PIN, revoking and unlocking it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import InvalidInput, NotFound
from app.staff.lockouts import after_failure, latest_lockout, lift_lockout, still_running, why_refused
from app.staff.models import Device, PinAttempt, Staff, StaffSession
from app.staff.permissions import Perm
from app.staff.pins import PinPolicy, staff_for_pin


async def device_by_token(session: AsyncSession, token: str | None) -> Device | None:
    """The device behind a device cookie, if the cookie names one."""
    if not token:
        return None
    return (await session.exec(select(Device).where(Device.token == token))).first()


@dataclass(frozen=True)
class EnrolOutcome:
    """What a manager's PIN at a stranger's browser led to; `device` is set once it is enrolled."""

    ok: bool
    message: str = ""
    device: Device | None = None
    retry_after_s: int = 0
    locked: bool = False


async def enrol_device(
    session: AsyncSession,
    *,
    token: str | None,
    name: str,
    pin: str,
    policy: PinPolicy,
    address: str | None = None,
    now: datetime | None = None,
) -> EnrolOutcome:
    """A manager's PIN enrols this browser as a named device (a revoked one comes back with a new cookie).

    Wrong PINs here count against the source address and the venue, as at the PIN pad.
    """
    now = now or utcnow()
    name = name.strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        raise InvalidInput("Give the device a name of at most 80 characters, e.g. “Bar tablet”.")
    refusal = await why_refused(session, device=None, address=address, policy=policy, now=now)
    if refusal is not None:
        await audit.record(
            session, "device.enrol_refused", actor_id=None, subject=f"address:{address}", reason=refusal.message
        )
        return EnrolOutcome(False, refusal.message, retry_after_s=refusal.retry_after_s, locked=refusal.address_locked)
    manager = await staff_for_pin(session, pin)
    if manager is None or not manager.can(Perm.DEVICES_MANAGE):
        # A staff PIN that is right but not a manager's is refused in the same words, so it tells a guesser nothing.
        session.add(PinAttempt(device_id=None, at=now, success=False, staff_id=None, address=address))
        await audit.record(
            session, "device.enrol_refused", actor_id=None, subject=f"address:{address}", reason="not a manager's PIN"
        )
        outcome = await after_failure(
            session, device=None, address=address, policy=policy, now=now, message="That is not a manager's PIN."
        )
        return EnrolOutcome(False, outcome.message, retry_after_s=outcome.retry_after_s, locked=outcome.address_locked)
    device = await device_by_token(session, token)
    if device is None:
        device = Device(token=secrets.token_urlsafe(24), first_seen_at=now)
    else:
        device.token = secrets.token_urlsafe(24)
    before = {"name": device.name, "revoked_at": device.revoked_at.isoformat()} if device.revoked_at else None
    device.name = name
    device.enrolled_at = now
    device.enrolled_by_id = manager.id
    device.revoked_at = None
    device.last_seen_at = now
    device.last_address = address
    session.add(device)
    await session.flush()
    session.add(PinAttempt(device_id=device.id, at=now, success=True, staff_id=manager.id, address=address))
    await audit.record(
        session,
        "device.enrol",
        actor_id=manager.id,
        subject=f"device:{device.id}",
        before=before,
        after={"name": name, "address": address},
        device=device.token[:12],
    )
    return EnrolOutcome(True, device=device)


async def revoke_device(session: AsyncSession, device_id: int, *, manager: Staff) -> Device:
    """Take a device out of service: its sessions end and its PINs stop working until a manager enrols it again."""
    device = await session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.")
    if device.revoked_at is None:
        now = utcnow()
        device.revoked_at = now
        session.add(device)
        open_sessions = await session.exec(
            select(StaffSession).where(StaffSession.device_id == device_id, col(StaffSession.ended_at).is_(None))
        )
        for open_session in open_sessions:
            open_session.ended_at = now
            session.add(open_session)
        await audit.record(
            session, "device.revoke", actor_id=manager.id, subject=f"device:{device_id}", before={"name": device.name}
        )
    return device


async def unlock_device(session: AsyncSession, device_id: int, *, manager: Staff) -> Device:
    """A manager lets a locked device take PINs again."""
    device = await session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.")
    device.locked_at = None
    device.unlocked_at = utcnow()
    session.add(device)
    await audit.record(session, "device.unlock", actor_id=manager.id, subject=f"device:{device_id}")
    # The wrong PINs that locked the device most likely locked its address too; unlocking one frees both.
    address = (
        await session.exec(
            select(PinAttempt.address)
            .where(PinAttempt.device_id == device_id, col(PinAttempt.address).is_not(None))
            .order_by(col(PinAttempt.id).desc())
            .limit(1)
        )
    ).first()
    if address is not None:
        lockout = still_running(await latest_lockout(session, address), device.unlocked_at)
        if lockout is not None and lockout.id is not None:
            await lift_lockout(session, lockout.id, manager=manager)
    return device
