"""Fixtures for house accounts and invoices: the app without background workers (tests deliver the outbox)."""

from __future__ import annotations

import pytest

from app.lib.settings import Settings


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """No background workers (tests post the outbox when they mean to); the venue as its invoices name the seller."""
    settings.run_workers = False
    settings.venue_address = "Dam 1\n1012 JS Amsterdam"
    settings.venue_vat_number = "NL999999999B01"
    return settings
