"""Brigade settings, read from BRIGADE_* environment variables when asked, never at import time."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a Brigade process needs to know about its deployment."""

    model_config = SettingsConfigDict(env_prefix="BRIGADE_", extra="ignore")

    # A venue is one restaurant (optionally linked to a head office); a head office takes in its venues' records.
    role: Literal["venue", "head_office"] = "venue"
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    venue_name: str = "Brigade Bistro"
    # The seller on customer invoices: the venue's postal address and VAT number, as registered.
    venue_address: str = ""
    venue_vat_number: str = ""
    currency: str = "EUR"
    timezone: str = "Europe/Amsterdam"
    business_day_cutoff_hour: int = Field(default=5, ge=0, le=23)
    idle_lock_seconds: int = Field(default=300, ge=10)
    session_max_hours: int = Field(default=16, ge=1)
    # Wrong PINs are counted per device and per source address alike: after `throttle_after` in the window each
    # try waits `throttle_seconds`; at `lockout_after` the device locks (a manager unlocks it) and the address is
    # refused for `address_lockout_minutes` (or until a manager lifts it). Across the whole venue, `venue_failures`
    # wrong PINs within the window pause every PIN login for `venue_pause_seconds`.
    pin_throttle_after: int = Field(default=5, ge=1)
    pin_lockout_after: int = Field(default=10, ge=1)
    pin_window_minutes: int = Field(default=15, ge=1)
    pin_throttle_seconds: int = Field(default=30, ge=0)
    pin_address_lockout_minutes: int = Field(default=15, ge=1)
    pin_venue_failures: int = Field(default=25, ge=1)
    pin_venue_pause_seconds: int = Field(default=60, ge=1)
    # Cost of the argon2id hash new PINs are stored with. "default" is RFC 9106's low-memory profile; "fast"
    # (one pass over 1 MiB) exists for test suites that hire the demo staff for every test. Never in production.
    pin_hash_profile: Literal["default", "fast"] = "default"
    cookie_secure: bool = False
    allowed_origins: list[str] = Field(default_factory=list)
    prices_include_tax: bool = False
    tax_rounding: Literal["per_line", "per_check"] = "per_line"
    # Parties of more than this many covers get the service charge below (revenue, not tip); 0 turns it off.
    service_charge_over_covers: int = Field(default=0, ge=0, le=99)
    service_charge_percent: Decimal = Field(default=Decimal("12.5"), ge=0, le=100)
    service_charge_tax_rate_id: int | None = None
    tip_percents: list[int] = Field(default_factory=lambda: [5, 10, 15, 20])
    # Gift cards: the amounts offered with one tap (cents; any other amount can be typed) and the most one card holds.
    gift_card_amounts: list[int] = Field(default_factory=lambda: [2500, 5000, 10000])
    gift_card_max_cents: int = Field(default=50000, ge=100)
    # A line voided after the kitchen had it books its recipe's ingredients as waste (off: nothing moves).
    void_after_fire_is_waste: bool = True
    payment_terminal: Literal["simulated"] = "simulated"
    run_workers: bool = True
    # How far below normal this process's CPU priority is (as nice(1)): web processes that leave the delivery to a
    # process of their own beside them take some, so that on a busy machine the kitchen's tickets go first.
    niceness: int = Field(default=0, ge=0, le=19)
    # Print worker: seconds between tries on one printer before its backup, and how long a claim lasts.
    print_retry_delays: list[float] = Field(default_factory=lambda: [1.0, 3.0, 10.0])
    print_lease_seconds: float = Field(default=90.0, ge=5)
    outbox_poll_seconds: float = 0.5
    # A venue linked to a head office: how often its sender looks for records to send, and how many go at once.
    sync_poll_seconds: float = Field(default=2.0, gt=0)
    sync_batch_size: int = Field(default=200, ge=1, le=1000)
    # Sync records head office acknowledged are pruned at the venue once older than this many days.
    sync_retention_days: int = Field(default=30, ge=1, le=3650)
    demo_kitchen_printer: str = ""
    demo_bar_printer: str = ""
    debug: bool = False

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'brigade.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The signing secret shared by every process: from settings, else from a file in var/ made once."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            candidate = path.with_name(f".secret_key.{secrets.token_hex(8)}")
            candidate.write_text(secrets.token_urlsafe(48))
            candidate.chmod(0o600)
            try:
                # link() refuses to overwrite, so concurrent first starts agree on one secret
                path.hardlink_to(candidate)
            except FileExistsError:
                pass
            finally:
                candidate.unlink(missing_ok=True)
        self.secret_key = path.read_text().strip()
        return self.secret_key

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite (embedded mode)."""
        return self.resolved_database_url().startswith("sqlite")
