"""Settings are an argument; roles carry the permissions a restaurant expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.lib.settings import Settings
from app.staff.permissions import Perm, Role, permissions_for


def test_the_secret_is_generated_once_into_var_and_shared(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).resolved_secret_key()
    second = Settings(var_dir=tmp_path).resolved_secret_key()
    assert first == second
    assert len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_configured_secret_wins_over_the_file(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path, secret_key="configured").resolved_secret_key() == "configured"
    assert not (tmp_path / "secret_key").exists()


def test_the_database_defaults_to_a_sqlite_file_under_var(tmp_path: Path) -> None:
    url = Settings(var_dir=tmp_path).resolved_database_url()
    assert url == f"sqlite+aiosqlite:///{(tmp_path / 'brigade.db').resolve()}"


def test_settings_come_from_brigade_variables_only_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIGADE_IDLE_LOCK_SECONDS", "120")
    monkeypatch.setenv("BRIGADE_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = Settings()
    assert settings.idle_lock_seconds == 120
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_a_server_takes_orders_and_payments_but_cannot_void_after_send_or_manage() -> None:
    server = permissions_for(Role.SERVER)
    assert {Perm.FLOOR_VIEW, Perm.ORDERS_ENTER, Perm.PAYMENTS_TAKE} <= server
    assert Perm.VOID_AFTER_SEND not in server
    assert Perm.MENU_MANAGE not in server
    assert Perm.CHECKS_EDIT_ANY not in server


def test_a_cook_sees_the_kitchen_and_86s_items_but_not_the_floor() -> None:
    cook = permissions_for(Role.COOK)
    assert {Perm.KITCHEN_VIEW, Perm.KITCHEN_BUMP, Perm.EIGHTY_SIX} <= cook
    assert Perm.FLOOR_VIEW not in cook
    assert Perm.PAYMENTS_TAKE not in cook


def test_a_manager_can_approve_what_servers_cannot() -> None:
    manager = permissions_for(Role.MANAGER)
    for perm in (Perm.VOID_AFTER_SEND, Perm.COMP, Perm.DISCOUNT, Perm.REFUND, Perm.CHECKS_REOPEN, Perm.DAY_CLOSE):
        assert perm in manager
