"""Head-office commands: add and revoke venues, exchange an enrolment token, take in a venue's records once."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.group.calculations import contiguous_high
from app.group.models import Venue, VenueRecord, VenueStatus
from app.group.protocol import CREDENTIAL_PREFIX, TOKEN_PREFIX, IncomingRecord, new_secret, secret_hash
from app.lib import audit
from app.lib.clock import utcnow
from app.lib.errors import Conflict, DomainError, InvalidInput, NotFound
from app.lib.inputs import clean_text

# The advisory lock that keeps head office's ingest order equal to its commit order (any fixed number).
INGEST_ORDER_LOCK = 0x6272_6731


class NotEnrolled(DomainError):
    """A request from a venue head office cannot identify (a wrong or missing credential)."""

    status_code = 401
    code = "unknown_venue"


class VenueRevoked(DomainError):
    """A venue head office has revoked: its credential and any token it had are refused."""

    status_code = 403
    code = "venue_revoked"


@dataclass(frozen=True)
class AddedVenue:
    """A venue just added, and its enrolment token (shown this once, never stored)."""

    venue: Venue
    token: str


@dataclass(frozen=True)
class Enrolment:
    """What a venue receives for its token: who it is, and its credential (never stored at head office)."""

    venue: Venue
    credential: str


@dataclass(frozen=True)
class Receipt:
    """Head office's answer to a batch: the highest contiguous sequence it holds, and what was new."""

    acked: int
    stored: int
    duplicates: int


def _code(raw: str) -> str:
    code = clean_text(raw, label="Venue code", max_length=20).upper()
    if not all(c.isalnum() or c in "-_" for c in code):
        raise InvalidInput("A venue code is letters, digits, '-' and '_' (say NORTH or AMS-01).")
    return code


async def add_venue(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    timezone: str,
    currency: str,
    actor_id: int | None = None,
) -> AddedVenue:
    """Add a venue to the group and issue its one-time enrolment token."""
    venue_code = _code(code)
    venue_name = clean_text(name, label="Venue name", max_length=80)
    zone = clean_text(timezone, label="Time zone", max_length=64)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{zone} is not a time zone (say Europe/Amsterdam).") from None
    money = clean_text(currency, label="Currency", max_length=3).upper()
    if len(money) != 3 or not money.isalpha():
        raise InvalidInput("The currency is a three-letter ISO code (say EUR).")
    taken = (await session.exec(select(Venue.id).where(Venue.code == venue_code))).first()
    if taken is not None:
        raise Conflict(f"The group already has a venue {venue_code}.")
    token = new_secret(TOKEN_PREFIX)
    venue = Venue(code=venue_code, name=venue_name, timezone=zone, currency=money, token_hash=secret_hash(token))
    session.add(venue)
    await session.flush()
    await audit.record(session, "group.venue_add", actor_id=actor_id, subject=f"venue:{venue_code}")
    return AddedVenue(venue, token)


async def revoke_venue(session: AsyncSession, *, code: str, actor_id: int | None = None) -> Venue:
    """Refuse the venue from now on: its credential and any unused token stop working. What it sent stays."""
    venue = await _venue_by_code(session, code, lock=True)
    if venue.status is VenueStatus.REVOKED:
        raise Conflict(f"Venue {venue.code} is already revoked.")
    venue.status = VenueStatus.REVOKED
    venue.revoked_at = utcnow()
    session.add(venue)
    await audit.record(session, "group.venue_revoke", actor_id=actor_id, subject=f"venue:{venue.code}")
    return venue


async def _venue_by_code(session: AsyncSession, code: str, *, lock: bool = False) -> Venue:
    query = select(Venue).where(Venue.code == code.strip().upper())
    if lock:
        query = query.with_for_update()
    venue = (await session.exec(query)).first()
    if venue is None:
        raise NotFound(f"The group has no venue {code.strip().upper()}.")
    return venue


async def enrol(session: AsyncSession, *, token: str) -> Enrolment:
    """Exchange an enrolment token for the venue's credential; a token works once."""
    token = token.strip()
    if not token:
        raise InvalidInput("An enrolment token is required.")
    venue = (await session.exec(select(Venue).where(Venue.token_hash == secret_hash(token)).with_for_update())).first()
    if venue is None:
        raise NotEnrolled(
            "Head office does not know this enrolment token; check it was copied whole, "
            "or ask head office for a new one."
        )
    if venue.status is VenueStatus.REVOKED:
        raise VenueRevoked(f"Head office revoked venue {venue.code}; this venue may not join.")
    if venue.status is VenueStatus.ENROLLED:
        raise Conflict(
            f"This enrolment token was already used to join venue {venue.code}; a token works once. "
            "Ask head office for a new one."
        )
    credential = new_secret(CREDENTIAL_PREFIX)
    now = utcnow()
    venue.credential_hash = secret_hash(credential)
    venue.status = VenueStatus.ENROLLED
    venue.enrolled_at = now
    venue.last_contact_at = now
    session.add(venue)
    await audit.record(session, "group.venue_enrol", actor_id=None, subject=f"venue:{venue.code}")
    return Enrolment(venue, credential)


async def venue_for_credential(session: AsyncSession, authorization: str | None, *, lock: bool = False) -> Venue:
    """The enrolled venue a bearer credential belongs to, or a refusal a venue can show its manager."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotEnrolled("A venue credential is required (Authorization: Bearer ...).")
    query = select(Venue).where(Venue.credential_hash == secret_hash(value))
    if lock:
        query = query.with_for_update()
    venue = (await session.exec(query)).first()
    if venue is None:
        raise NotEnrolled("Head office does not recognise this venue's credential; join again with a new token.")
    if venue.status is VenueStatus.REVOKED:
        raise VenueRevoked(
            f"Head office revoked venue {venue.code}; nothing more is accepted from it. "
            "Ask head office to add the venue again and join with the new token."
        )
    return venue


async def ingest(session: AsyncSession, venue: Venue, records: list[IncomingRecord]) -> Receipt:
    """Store each (venue, sequence) once, whatever the order or repetition, and acknowledge the contiguous run.

    The caller holds the venue's row lock (or SQLite's one writer), so two batches of one venue never count
    the same hole twice. A sequence already held is ignored, so a resend or a duplicate changes nothing.
    """
    fresh = {r.sequence: r for r in records if r.sequence > venue.acked_sequence}
    stored = 0
    if fresh:
        now = utcnow()
        rows = [
            {
                "venue_id": venue.id,
                "sequence": r.sequence,
                "kind": r.kind,
                "key": r.key,
                "occurred_at": r.occurred_at,
                "payload": r.payload,
                "received_at": now,
            }
            for r in fresh.values()
        ]
        connection = await session.connection()
        dialect = connection.dialect.name
        if dialect == "postgresql":
            # One venue's batch at a time takes record ids, until it commits: ids then commit in their order,
            # so the API's change cursor (the record id) never passes a record that commits later.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_ORDER_LOCK})
        table = VenueRecord.__table__  # type: ignore[attr-defined]
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # One statement compiled once and sent with the batch's rows (a statement of 200 rows' literal
        # parameters took longer to compile than to run).
        statement = builder(table).on_conflict_do_nothing(index_elements=["venue_id", "sequence"])
        result = await session.exec(statement.returning(table.c.id), params=rows)
        stored = len(result.all())
        held = (
            await session.exec(
                select(VenueRecord.sequence)
                .where(VenueRecord.venue_id == venue.id, col(VenueRecord.sequence) > venue.acked_sequence)
                .order_by(col(VenueRecord.sequence))
            )
        ).all()
        venue.acked_sequence = contiguous_high(venue.acked_sequence, held)
        venue.highest_sequence = max(venue.highest_sequence, max(fresh))
        venue.records_received += stored
    venue.last_contact_at = utcnow()
    session.add(venue)
    return Receipt(acked=venue.acked_sequence, stored=stored, duplicates=len(records) - stored)
