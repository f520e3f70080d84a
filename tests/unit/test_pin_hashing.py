"""PINs are stored as argon2id hashes at RFC 9106's strength unless the settings explicitly ask for the test profile."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters, profiles
from pydantic import ValidationError

from app.lib.settings import Settings
from app.staff.services import pin_hasher


def test_a_restaurant_stores_pins_with_the_strong_argon2id_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIGADE_PIN_HASH_PROFILE", raising=False)
    settings = Settings()
    assert settings.pin_hash_profile == "default"
    stored = extract_parameters(pin_hasher(settings).hash("1111"))
    assert stored == profiles.RFC_9106_LOW_MEMORY
    assert (stored.type, stored.time_cost, stored.memory_cost, stored.parallelism) == (Type.ID, 3, 64 * 1024, 4)


def test_code_without_settings_gets_the_strong_parameters_too() -> None:
    assert extract_parameters(pin_hasher(None).hash("1111")) == profiles.RFC_9106_LOW_MEMORY


def test_the_fast_profile_is_still_a_salted_argon2id_hash_that_logs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIGADE_PIN_HASH_PROFILE", "fast")
    hasher = pin_hasher(Settings())
    first, second = hasher.hash("4444"), hasher.hash("4444")
    assert first != second
    stored = extract_parameters(first)
    assert (stored.type, stored.salt_len, stored.hash_len) == (Type.ID, 16, 32)
    assert stored.time_cost < profiles.RFC_9106_LOW_MEMORY.time_cost
    # login verifies with the default hasher, which reads the cost from the stored hash
    assert PasswordHasher().verify(first, "4444")


def test_an_unknown_hash_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIGADE_PIN_HASH_PROFILE", "none")
    with pytest.raises(ValidationError, match="pin_hash_profile"):
        Settings()
