"""What the venue's sync page and `brigade sync status` show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.sync import catalog
from app.sync.models import HeadOfficeLink, SyncRecord
from app.sync.services import current_link


@dataclass(frozen=True)
class SyncStatus:
    """Where this venue's sending stands."""

    linked: bool
    status: str
    head_office: str | None
    venue_code: str | None
    acked_sequence: int
    queued: int
    oldest_queued_at: datetime | None
    oldest_queued_age_seconds: int | None
    last_contact_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    next_attempt_at: datetime | None
    catalog_release: int | None
    # Records head office acknowledged that the venue still keeps (older ones are pruned after the retention period).
    kept: int = 0
    # A catalog release that would not apply ("release 4: why"); it and those after it wait.
    catalog_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The status as `brigade sync status --json` prints it."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


async def sync_status(session: AsyncSession) -> SyncStatus:
    """The link, the acknowledged mark, what is still queued and how old the oldest is, and the last error."""
    link: HeadOfficeLink | None = await current_link(session)
    acked = link.acked_sequence if link is not None else 0
    waiting = or_(col(SyncRecord.sequence).is_(None), col(SyncRecord.sequence) > acked)
    queued, oldest = (await session.exec(select(func.count(), func.min(SyncRecord.created_at)).where(waiting))).one()
    kept = (await session.exec(select(func.count()).where(col(SyncRecord.sequence) <= acked))).one()
    if isinstance(oldest, str):  # SQLite's MIN() gives the stored text back
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = int((utcnow() - oldest).total_seconds()) if oldest is not None else None
    failed = await catalog.failing(session)
    return SyncStatus(
        linked=link is not None,
        status=link.status.value if link is not None else "not linked",
        head_office=link.url if link is not None else None,
        venue_code=link.venue_code if link is not None else None,
        acked_sequence=acked,
        queued=int(queued or 0),
        oldest_queued_at=oldest,
        oldest_queued_age_seconds=age,
        last_contact_at=link.last_contact_at if link is not None else None,
        last_error=link.last_error if link is not None else None,
        last_error_at=link.last_error_at if link is not None else None,
        next_attempt_at=link.next_attempt_at if link is not None else None,
        catalog_release=link.catalog_release if link is not None else None,
        kept=int(kept or 0),
        catalog_error=f"release {failed.number}: {failed.error}" if failed is not None else None,
    )
