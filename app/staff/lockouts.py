"""Wrong PINs: counted per device, per address and across the venue; slowing down, locking, and lifting a lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import as_utc, utcnow
from app.lib.errors import NotFound
from app.staff.models import Device, PinAttempt, PinLockout, Staff
from app.staff.pins import LoginOutcome, PinPolicy


@dataclass(frozen=True)
class _Failures:
    count: int
    latest: datetime | None


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


async def _failures(session: AsyncSession, *where: Any) -> _Failures:
    row = (
        await session.exec(
            select(func.count(), func.max(PinAttempt.at)).where(col(PinAttempt.success).is_(False), *where)
        )
    ).one()
    return _Failures(int(row[0]), _aware(row[1]))


async def _last_success(session: AsyncSession, *where: Any) -> datetime | None:
    latest = (
        await session.exec(select(func.max(PinAttempt.at)).where(col(PinAttempt.success).is_(True), *where))
    ).one()
    return _aware(latest)


async def _device_failures(session: AsyncSession, device: Device, policy: PinPolicy, now: datetime) -> _Failures:
    # Counted from the last success or manager unlock, whichever is later, within the window.
    last_success = await _last_success(session, PinAttempt.device_id == device.id)
    floor = max(t for t in (now - policy.window, last_success, _aware(device.unlocked_at)) if t is not None)
    return await _failures(session, PinAttempt.device_id == device.id, PinAttempt.at > floor)


async def latest_lockout(session: AsyncSession, address: str | None) -> PinLockout | None:
    """The last lockout of an address, or of the whole venue (a pause) when `address` is None."""
    where = col(PinLockout.address).is_(None) if address is None else PinLockout.address == address
    return (await session.exec(select(PinLockout).where(where).order_by(col(PinLockout.id).desc()).limit(1))).first()


async def _address_failures(session: AsyncSession, address: str, policy: PinPolicy, now: datetime) -> _Failures:
    # Counted from the last success at the address or its last lockout, whichever is later, within the window.
    last_success = await _last_success(session, PinAttempt.address == address)
    lockout = await latest_lockout(session, address)
    lockout_start = None if lockout is None else _aware(lockout.lifted_at or lockout.started_at)
    floor = max(t for t in (now - policy.window, last_success, lockout_start) if t is not None)
    return await _failures(session, PinAttempt.address == address, PinAttempt.at > floor)


def still_running(lockout: PinLockout | None, now: datetime) -> PinLockout | None:
    """The lockout if it has neither been lifted nor run out by `now`."""
    if lockout is None or lockout.lifted_at is not None:
        return None
    until = _aware(lockout.until)
    return lockout if until is not None and until > now else None


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 0
    return max(1, int((moment - now).total_seconds()) + 1)


def _throttled(failures: _Failures, policy: PinPolicy, now: datetime) -> int:
    """Seconds still to wait before the next try, or 0."""
    if failures.count < policy.throttle_after or failures.latest is None:
        return 0
    wait = failures.latest + policy.throttle_delay - now
    return _seconds_until(failures.latest + policy.throttle_delay, now) if wait.total_seconds() > 0 else 0


async def why_refused(
    session: AsyncSession, *, device: Device | None, address: str | None, policy: PinPolicy, now: datetime
) -> LoginOutcome | None:
    """Why no PIN may be tried here right now (locked device, locked address, venue pause, throttle), or None."""
    if device is not None and device.locked_at is not None:
        return LoginOutcome(
            False, "This device is locked after too many wrong PINs. A manager must unlock it.", device_locked=True
        )
    if address is not None:
        lockout = still_running(await latest_lockout(session, address), now)
        if lockout is not None:
            minutes = -(-_seconds_until(_aware(lockout.until), now) // 60)
            return LoginOutcome(
                False,
                f"Too many wrong PINs from this address: PIN entry here is locked for {minutes} min. "
                "A manager can lift the lock on the Devices page.",
                retry_after_s=_seconds_until(_aware(lockout.until), now),
                address_locked=True,
            )
    pause = still_running(await latest_lockout(session, None), now)
    if pause is not None:
        seconds = _seconds_until(_aware(pause.until), now)
        return LoginOutcome(
            False, f"Too many wrong PINs in the restaurant: PIN login is paused for {seconds} s.", retry_after_s=seconds
        )
    wait = 0
    if device is not None:
        wait = _throttled(await _device_failures(session, device, policy, now), policy, now)
    if address is not None:
        wait = max(wait, _throttled(await _address_failures(session, address, policy, now), policy, now))
    if wait:
        return LoginOutcome(False, f"Too many wrong PINs. Try again in {wait} s.", retry_after_s=wait)
    return None


async def after_failure(
    session: AsyncSession,
    *,
    device: Device | None,
    address: str | None,
    policy: PinPolicy,
    now: datetime,
    message: str,
) -> LoginOutcome:
    """A wrong PIN was recorded: lock what has had too many, audit each lockout, and say how long to wait."""
    outcome = LoginOutcome(False, message)
    if device is not None:
        failures = await _device_failures(session, device, policy, now)
        if failures.count >= policy.lockout_after:
            device.locked_at = now
            session.add(device)
            await audit.record(
                session,
                "device.lock",
                actor_id=None,
                subject=f"device:{device.id}",
                reason=f"{failures.count} wrong PINs",
                device=device.token[:12],
            )
            outcome = LoginOutcome(
                False,
                "This device is now locked after too many wrong PINs. A manager must unlock it.",
                device_locked=True,
            )
        elif failures.count >= policy.throttle_after:
            outcome = _slow_down(message, policy)
    if address is not None:
        failures = await _address_failures(session, address, policy, now)
        if failures.count >= policy.lockout_after:
            until = now + policy.address_lockout
            session.add(PinLockout(address=address, started_at=now, until=until, failures=failures.count))
            await audit.record(
                session,
                "pin.address_lock",
                actor_id=None,
                subject=f"address:{address}",
                reason=f"{failures.count} wrong PINs from this address",
                after={"until": until.isoformat()},
            )
            if not outcome.device_locked:
                minutes = int(policy.address_lockout.total_seconds() // 60)
                outcome = LoginOutcome(
                    False,
                    f"Too many wrong PINs from this address: PIN entry here is locked for {minutes} min. "
                    "A manager can lift the lock on the Devices page.",
                    retry_after_s=int(policy.address_lockout.total_seconds()),
                    address_locked=True,
                )
        elif failures.count >= policy.throttle_after and not outcome.device_locked:
            outcome = _slow_down(message, policy)
    # A pause a manager lifted starts the count afresh, or the next slip would pause the venue again at once.
    last_pause = await latest_lockout(session, None)
    lifted = None if last_pause is None else _aware(last_pause.lifted_at)
    venue = await _failures(session, PinAttempt.at > max(t for t in (now - policy.window, lifted) if t is not None))
    if venue.count >= policy.venue_ceiling:
        until = now + policy.venue_pause
        session.add(PinLockout(address=None, started_at=now, until=until, failures=venue.count))
        await audit.record(
            session,
            "pin.venue_pause",
            actor_id=None,
            subject="venue",
            reason=f"{venue.count} wrong PINs in {int(policy.window.total_seconds() // 60)} min across the venue",
            after={"until": until.isoformat()},
        )
        if not (outcome.device_locked or outcome.address_locked):
            seconds = int(policy.venue_pause.total_seconds())
            outcome = LoginOutcome(
                False,
                f"{message} Too many wrong PINs in the restaurant: PIN login is paused for {seconds} s.",
                retry_after_s=seconds,
            )
    return outcome


def _slow_down(message: str, policy: PinPolicy) -> LoginOutcome:
    seconds = int(policy.throttle_delay.total_seconds())
    return LoginOutcome(False, f"{message} Wait {seconds} s before the next try.", retry_after_s=seconds)


async def active_lockouts(session: AsyncSession, now: datetime | None = None) -> list[PinLockout]:
    """Source addresses locked out, and any venue-wide pause, that are still running."""
    now = now or utcnow()
    rows = await session.exec(
        select(PinLockout)
        .where(col(PinLockout.lifted_at).is_(None), PinLockout.until > now)
        .order_by(col(PinLockout.id).desc())
    )
    return list(rows.all())


async def lift_lockout(session: AsyncSession, lockout_id: int, *, manager: Staff) -> PinLockout:
    """A manager lets PINs in again from a locked-out address (or ends a venue-wide pause)."""
    lockout = await session.get(PinLockout, lockout_id)
    if lockout is None:
        raise NotFound("No such lockout.")
    if lockout.lifted_at is None:
        lockout.lifted_at = utcnow()
        lockout.lifted_by_id = manager.id
        session.add(lockout)
        subject = f"address:{lockout.address}" if lockout.address else "venue"
        await audit.record(session, "pin.lockout_lift", actor_id=manager.id, subject=subject)
    return lockout
