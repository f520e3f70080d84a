"""Staff commands: PIN login with throttling and lockout, sessions, staff records, API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput, NotFound
from app.lib.settings import Settings
from app.staff.models import ApiToken, Device, PinAttempt, Staff, StaffSession, SystemSecret
from app.staff.permissions import Role

_hasher = PasswordHasher()
# Verifying reads the parameters from the stored hash, so either profile's hashes log in through `_hasher`.
PIN_HASHERS: dict[str, PasswordHasher] = {
    "default": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
PIN_MIN, PIN_MAX = 4, 8


@dataclass(frozen=True)
class PinPolicy:
    """How many wrong PINs a device may enter before it slows down, then locks."""

    throttle_after: int = 5
    lockout_after: int = 10
    window: timedelta = timedelta(minutes=15)
    throttle_delay: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class LoginOutcome:
    """What a PIN entry led to; `token` is set only on success."""

    ok: bool
    message: str = ""
    staff: Staff | None = None
    token: str | None = None
    retry_after_s: int = 0
    device_locked: bool = False


def hash_token(token: str) -> str:
    """Tokens are stored as digests, so a copy of the database cannot log anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


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


async def device_for(session: AsyncSession, token: str | None) -> Device:
    """The device behind a device cookie, registered on first sight."""
    if token:
        device = (await session.exec(select(Device).where(Device.token == token))).first()
        if device is not None:
            return device
    device = Device(token=token or secrets.token_urlsafe(24))
    session.add(device)
    await session.flush()
    return device


async def _recent_failures(session: AsyncSession, device: Device, since: datetime) -> tuple[int, datetime | None]:
    # Failures count from the last success or manager unlock, whichever is later, within the window.
    last_success = (
        await session.exec(
            select(func.max(PinAttempt.at)).where(PinAttempt.device_id == device.id, PinAttempt.success.is_(True))  # type: ignore[attr-defined]
        )
    ).one()
    floor = max(t for t in (since, last_success, device.unlocked_at) if t is not None)
    row = (
        await session.exec(
            select(func.count(), func.max(PinAttempt.at)).where(
                PinAttempt.device_id == device.id,
                PinAttempt.success.is_(False),  # type: ignore[attr-defined]
                PinAttempt.at > floor,
            )
        )
    ).one()
    latest = row[1]
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return int(row[0]), latest


async def login_with_pin(
    session: AsyncSession, *, device: Device, pin: str, policy: PinPolicy, now: datetime | None = None
) -> LoginOutcome:
    """Check a PIN at a device; every attempt is recorded and audited, whatever the outcome."""
    now = now or utcnow()
    if device.locked_at is not None:
        await _attempt(session, device, None, success=False, note="refused: device locked")
        return LoginOutcome(
            False, "This device is locked after too many wrong PINs. A manager must unlock it.", device_locked=True
        )
    failures, last_failure = await _recent_failures(session, device, now - policy.window)
    if failures >= policy.throttle_after and last_failure is not None:
        wait = last_failure + policy.throttle_delay - now
        if wait.total_seconds() > 0:
            seconds = int(wait.total_seconds()) + 1
            await _attempt(session, device, None, success=False, note="refused: throttled", counted=False)
            return LoginOutcome(False, f"Too many wrong PINs. Try again in {seconds} s.", retry_after_s=seconds)
    staff = await _staff_for_pin(session, pin)
    if staff is None:
        await _attempt(session, device, None, success=False, note="wrong PIN")
        failures += 1
        if failures >= policy.lockout_after:
            device.locked_at = now
            session.add(device)
            await audit.record(
                session,
                "device.lock",
                actor_id=None,
                subject=f"device:{device.id}",
                reason=f"{failures} wrong PINs",
                device=device.token[:12],
            )
            return LoginOutcome(
                False,
                "This device is now locked after too many wrong PINs. A manager must unlock it.",
                device_locked=True,
            )
        if failures >= policy.throttle_after:
            return LoginOutcome(
                False,
                f"Wrong PIN. Wait {int(policy.throttle_delay.total_seconds())} s before the next try.",
                retry_after_s=int(policy.throttle_delay.total_seconds()),
            )
        return LoginOutcome(False, "Wrong PIN.")
    await _attempt(session, device, staff, success=True, note="login")
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=hash_token(token), staff_id=staff.id or 0, device_id=device.id, created_at=now, last_seen_at=now
        )
    )
    await session.flush()
    return LoginOutcome(True, staff=staff, token=token)


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
    session: AsyncSession, device: Device, staff: Staff | None, *, success: bool, note: str, counted: bool = True
) -> None:
    if counted:
        session.add(PinAttempt(device_id=device.id or 0, success=success, staff_id=staff.id if staff else None))
    await audit.record(
        session,
        "staff.login" if success else "staff.login_failed",
        actor_id=staff.id if staff else None,
        subject=f"device:{device.id}",
        reason=note,
        device=device.token[:12],
    )


async def end_session(session: AsyncSession, token: str | None) -> None:
    """Log out (or lock) the session behind a cookie token, if any."""
    if not token:
        return
    row = (await session.exec(select(StaffSession).where(StaffSession.token_hash == hash_token(token)))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)


@dataclass(frozen=True)
class ActiveSession:
    """A live login and its person."""

    session_id: int
    staff: Staff
    device_id: int | None
    last_seen_at: datetime


async def active_session(
    session: AsyncSession, token: str, *, idle: timedelta, max_age: timedelta, now: datetime | None = None
) -> ActiveSession | None:
    """The live session behind a cookie token; idle or too old means none (the device shows the PIN pad)."""
    now = now or utcnow()
    row = (await session.exec(_SESSION_AND_STAFF, params={"token_hash": hash_token(token)})).first()
    if row is None:
        return None
    staff_session, staff = row
    if staff_session.ended_at is not None or staff.archived_at is not None:
        return None
    if now - staff_session.last_seen_at > idle or now - staff_session.created_at > max_age:
        return None
    return ActiveSession(staff_session.id or 0, staff, staff_session.device_id, staff_session.last_seen_at)


# Every request reads it: built once, since SQLAlchemy derives a new statement's cache key at more cost than it runs.
_SESSION_AND_STAFF = (
    select(StaffSession, Staff)
    .join(Staff, col(Staff.id) == col(StaffSession.staff_id))
    .where(col(StaffSession.token_hash) == bindparam("token_hash"))
)


async def touch_session(session: AsyncSession, session_id: int, now: datetime | None = None) -> None:
    """Record activity so the idle lock counts from now."""
    row = await session.get(StaffSession, session_id)
    if row is not None and row.ended_at is None:
        row.last_seen_at = now or utcnow()
        session.add(row)


async def unlock_device(session: AsyncSession, device_id: int, *, manager: Staff) -> Device:
    """A manager lets a locked device take PINs again."""
    device = await session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.")
    device.locked_at = None
    device.unlocked_at = utcnow()
    session.add(device)
    await audit.record(session, "device.unlock", actor_id=manager.id, subject=f"device:{device_id}")
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
