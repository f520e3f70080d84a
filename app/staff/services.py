"""Staff commands: PIN login with throttling and lockout, devices, staff records, API tokens.

The logged-in person behind each request lives in app/staff/sessions.py.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.settings import Settings
from app.staff.models import ApiToken, Device, PinAttempt, PinLockout, Staff, StaffSession, SystemSecret
from app.staff.permissions import Perm, Role
from app.staff.sessions import ActiveSession as ActiveSession
from app.staff.sessions import active_session as active_session
from app.staff.sessions import end_session as end_session
from app.staff.sessions import hash_token as hash_token
from app.staff.sessions import touch_session as touch_session

_hasher = PasswordHasher()
# Verifying reads the parameters from the stored hash, so either profile's hashes log in through `_hasher`.
PIN_HASHERS: dict[str, PasswordHasher] = {
    "default": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
PIN_MIN, PIN_MAX = 4, 8


@dataclass(frozen=True)
class PinPolicy:
    """How many wrong PINs a device or a source address may enter before it slows down, then locks; and the
    venue-wide ceiling after which every PIN login pauses."""

    throttle_after: int = 5
    lockout_after: int = 10
    window: timedelta = timedelta(minutes=15)
    throttle_delay: timedelta = timedelta(seconds=30)
    address_lockout: timedelta = timedelta(minutes=15)
    venue_ceiling: int = 25
    venue_pause: timedelta = timedelta(seconds=60)

    @classmethod
    def from_settings(cls, settings: Settings) -> PinPolicy:
        """The policy the venue's settings describe."""
        return cls(
            throttle_after=settings.pin_throttle_after,
            lockout_after=settings.pin_lockout_after,
            window=timedelta(minutes=settings.pin_window_minutes),
            throttle_delay=timedelta(seconds=settings.pin_throttle_seconds),
            address_lockout=timedelta(minutes=settings.pin_address_lockout_minutes),
            venue_ceiling=settings.pin_venue_failures,
            venue_pause=timedelta(seconds=settings.pin_venue_pause_seconds),
        )


@dataclass(frozen=True)
class LoginOutcome:
    """What a PIN entry led to; `token` is set only on success."""

    ok: bool
    message: str = ""
    staff: Staff | None = None
    token: str | None = None
    retry_after_s: int = 0
    device_locked: bool = False
    address_locked: bool = False
    not_enrolled: bool = False


def validate_pin(pin: str) -> str:
    """A PIN is 4 to 8 digits."""
    pin = pin.strip()
    if not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
        raise InvalidInput(f"A PIN is {PIN_MIN} to {PIN_MAX} digits.")
    return pin


async def _pepper(session: AsyncSession) -> bytes:
    secret = await session.get(SystemSecret, "pin_pepper")
    if secret is None:
        secret = SystemSecret(name="pin_pepper", value=secrets.token_hex(32))
        session.add(secret)
        await session.flush()
    return bytes.fromhex(secret.value)


def pin_hasher(settings: Settings | None) -> PasswordHasher:
    """The argon2id hasher new PINs are stored with: the strong default unless the settings ask for "fast"."""
    return PIN_HASHERS["default" if settings is None else settings.pin_hash_profile]


async def pin_lookup(session: AsyncSession, pin: str) -> str:
    """A keyed digest of a PIN: finds its owner in one indexed query, then argon2 verifies."""
    return hmac.new(await _pepper(session), pin.encode(), hashlib.sha256).hexdigest()


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


async def device_by_token(session: AsyncSession, token: str | None) -> Device | None:
    """The device behind a device cookie, if the cookie names one."""
    if not token:
        return None
    return (await session.exec(select(Device).where(Device.token == token))).first()


@dataclass(frozen=True)
class _Failures:
    count: int
    latest: datetime | None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


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


async def _latest_lockout(session: AsyncSession, address: str | None) -> PinLockout | None:
    where = col(PinLockout.address).is_(None) if address is None else PinLockout.address == address
    return (await session.exec(select(PinLockout).where(where).order_by(col(PinLockout.id).desc()).limit(1))).first()


async def _address_failures(session: AsyncSession, address: str, policy: PinPolicy, now: datetime) -> _Failures:
    # Counted from the last success at the address or its last lockout, whichever is later, within the window.
    last_success = await _last_success(session, PinAttempt.address == address)
    lockout = await _latest_lockout(session, address)
    lockout_start = None if lockout is None else _aware(lockout.lifted_at or lockout.started_at)
    floor = max(t for t in (now - policy.window, last_success, lockout_start) if t is not None)
    return await _failures(session, PinAttempt.address == address, PinAttempt.at > floor)


def _active(lockout: PinLockout | None, now: datetime) -> PinLockout | None:
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


async def _refusal(
    session: AsyncSession, *, device: Device | None, address: str | None, policy: PinPolicy, now: datetime
) -> LoginOutcome | None:
    """Why no PIN may be tried here right now (locked device, locked address, venue pause, throttle), or None."""
    if device is not None and device.locked_at is not None:
        return LoginOutcome(
            False, "This device is locked after too many wrong PINs. A manager must unlock it.", device_locked=True
        )
    if address is not None:
        lockout = _active(await _latest_lockout(session, address), now)
        if lockout is not None:
            minutes = -(-_seconds_until(_aware(lockout.until), now) // 60)
            return LoginOutcome(
                False,
                f"Too many wrong PINs from this address: PIN entry here is locked for {minutes} min. "
                "A manager can lift the lock on the Devices page.",
                retry_after_s=_seconds_until(_aware(lockout.until), now),
                address_locked=True,
            )
    pause = _active(await _latest_lockout(session, None), now)
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


async def _after_failure(
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
    last_pause = await _latest_lockout(session, None)
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
    refusal = await _refusal(session, device=device, address=address, policy=policy, now=now)
    if refusal is not None:
        await _attempt(session, device, None, address, success=False, note=f"refused: {refusal.message}", counted=False)
        return refusal
    staff = await _staff_for_pin(session, pin)
    if staff is None:
        await _attempt(session, device, None, address, success=False, note="wrong PIN", now=now)
        return await _after_failure(
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
    refusal = await _refusal(session, device=None, address=address, policy=policy, now=now)
    if refusal is not None:
        await audit.record(
            session, "device.enrol_refused", actor_id=None, subject=f"address:{address}", reason=refusal.message
        )
        return EnrolOutcome(False, refusal.message, retry_after_s=refusal.retry_after_s, locked=refusal.address_locked)
    manager = await _staff_for_pin(session, pin)
    if manager is None or not manager.can(Perm.DEVICES_MANAGE):
        # A staff PIN that is right but not a manager's is refused in the same words, so it tells a guesser nothing.
        session.add(PinAttempt(device_id=None, at=now, success=False, staff_id=None, address=address))
        await audit.record(
            session, "device.enrol_refused", actor_id=None, subject=f"address:{address}", reason="not a manager's PIN"
        )
        outcome = await _after_failure(
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


async def _staff_for_pin(session: AsyncSession, pin: str) -> Staff | None:
    try:
        pin = validate_pin(pin)
    except InvalidInput:
        return None
    lookup = await pin_lookup(session, pin)
    staff = (await session.exec(select(Staff).where(Staff.pin_lookup == lookup, Staff.archived_at.is_(None)))).first()  # type: ignore[union-attr]
    if staff is None:
        return None
    try:
        _hasher.verify(staff.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return None
    return staff


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
        lockout = _active(await _latest_lockout(session, address), device.unlocked_at)
        if lockout is not None and lockout.id is not None:
            await lift_lockout(session, lockout.id, manager=manager)
    return device


async def create_api_token(
    session: AsyncSession, *, name: str, scopes: str = "read", actor_id: int | None = None
) -> str:
    """Issue a bearer token for an integration; the plain token is shown once and never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("Give the token a name of at most 80 characters.")
    allowed = {"read", "write"}
    scope_set = {s.strip() for s in scopes.split(",") if s.strip()}
    if not scope_set or not scope_set <= allowed:
        raise InvalidInput("Scopes are 'read' and/or 'write', comma separated.")
    token = "brg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(token), scopes=",".join(sorted(scope_set))))
    await audit.record(session, "api_token.create", actor_id=actor_id, subject=f"api_token:{name}")
    return token


async def api_token_for(session: AsyncSession, token: str) -> ApiToken | None:
    """The live API token behind a bearer value."""
    row = (await session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row
