"""PINs: the rules a PIN follows, how it is stored and found, and the policy for wrong ones."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.errors import InvalidInput
from app.lib.settings import Settings
from app.staff.models import Staff, SystemSecret

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


async def staff_for_pin(session: AsyncSession, pin: str) -> Staff | None:
    """The person a PIN belongs to, verified against its argon2 hash; None for a malformed or unknown PIN."""
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
