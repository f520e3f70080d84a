"""Books set up before purchasing gain the purchase price variance account and its mapping on upgrade."""

from __future__ import annotations

from app.accounting.models import AccountType
from app.lib.migrate import upgrade
from tests.integration.test_migrations import _accounts, _books_at_0003, _role_mapping, unmigrated_url

__all__ = ["unmigrated_url"]


def test_an_upgrade_adds_and_maps_purchase_price_variance_where_the_chart_lacks_it(unmigrated_url: str) -> None:
    _books_at_0003(unmigrated_url, chart_without=frozenset({"5040"}))
    assert "price_variance" not in _role_mapping(unmigrated_url)

    upgrade(unmigrated_url)

    assert _role_mapping(unmigrated_url)["price_variance"] == "5040"
    assert _accounts(unmigrated_url, "5040") == {"5040": ("Purchase price variance", AccountType.EXPENSE, "5000", 1)}


def test_an_upgrade_leaves_a_code_the_venue_uses_for_something_else_for_a_person_to_map(unmigrated_url: str) -> None:
    deposits = ("5040", "Bottle deposits", AccountType.ASSET, "1000")
    _books_at_0003(unmigrated_url, chart_without=frozenset({"5040"}), own_accounts=(deposits,))

    upgrade(unmigrated_url)

    assert "price_variance" not in _role_mapping(unmigrated_url)
    assert _accounts(unmigrated_url, "5040") == {"5040": ("Bottle deposits", AccountType.ASSET, "1000", 1)}
