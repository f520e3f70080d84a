"""The back office's pure maths: balanced postings, drawer counts, cash assignment, tip pools to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.checks import calculations as checks_calc
from app.closes import calculations as calc

ACCOUNTS = calc.Accounts(
    category={1: "4010", 2: "4030"},
    tax_rate={10: "2101", 20: "2102"},
    tender={100: "1010", 200: "1020"},
    roles={
        k: v
        for k, v in {
            "discounts": "4500",
            "comps": "4510",
            "service_charge": "4100",
            "tips_payable": "2020",
            "cogs": "5010",
            "inventory": "1100",
            "waste": "5020",
        }.items()
    },
)
LOW = checks_calc.TaxRate(10, "Low", Decimal("0.09"))
HIGH = checks_calc.TaxRate(20, "High", Decimal("0.21"))
SETTINGS = checks_calc.TaxSettings(prices_include_tax=False, rounding=checks_calc.TaxRounding.PER_LINE)


def _totals(prices: list[tuple[int, int]], *, discount: int = 0) -> checks_calc.CheckTotals:
    lines = [
        checks_calc.PricedLine(
            line_id=index + 1,
            name=f"Item {index}",
            unit_price=price,
            quantity=1,
            tax_rate=LOW if category == 1 else HIGH,
            category_id=category,
        )
        for index, (category, price) in enumerate(prices)
    ]
    adjustments = checks_calc.CheckAdjustments(
        discount=checks_calc.Discount.percent(discount, "Loyalty") if discount else None
    )
    return checks_calc.compute_totals(lines, adjustments, SETTINGS)


def test_a_closed_check_posts_revenue_gross_with_discounts_apart_and_balances() -> None:
    totals = _totals([(1, 1850), (2, 550)], discount=10)
    figures = calc.sale_figures(totals, [(200, totals.total, 300)], cost=412)
    lines = calc.sale_entry(figures, ACCOUNTS)
    by_account = {line.account: line.amount_cents for line in lines}
    assert by_account["4010"] == -1850
    assert by_account["4030"] == -550
    assert by_account["4500"] == 240
    assert by_account["2020"] == -300
    assert by_account["1020"] == totals.total + 300
    assert by_account["5010"] == 412 == -by_account["1100"]
    assert sum(by_account.values()) == 0
    assert figures.imbalance == 0


def test_a_check_whose_payments_miss_its_total_shows_the_imbalance() -> None:
    totals = _totals([(1, 1000)])
    figures = calc.sale_figures(totals, [(100, totals.total - 1, 0)])
    assert figures.imbalance == -1


@given(
    prices=st.lists(
        st.tuples(st.sampled_from([1, 2]), st.integers(min_value=1, max_value=50_000)), min_size=1, max_size=12
    ),
    discount=st.sampled_from([0, 5, 10, 15, 33]),
    tip=st.integers(min_value=0, max_value=10_000),
    split=st.integers(min_value=0, max_value=100),
)
def test_every_closed_check_posts_an_entry_that_sums_to_zero(
    prices: list[tuple[int, int]], discount: int, tip: int, split: int
) -> None:
    totals = _totals(prices, discount=discount)
    card = totals.total * split // 100
    figures = calc.sale_figures(totals, [(200, card, tip), (100, totals.total - card, 0)])
    assert sum(line.amount_cents for line in calc.sale_entry(figures, ACCOUNTS)) == 0


def test_a_refund_reverses_revenue_tax_and_tip_against_its_tender() -> None:
    figures = calc.RefundFigures(
        net_by_category={2: 550}, tax_by_rate={20: 116}, service_charge=0, tip=50, tender_id=200, amount=666
    )
    lines = {line.account: line.amount_cents for line in calc.refund_entry(figures, ACCOUNTS)}
    assert lines == {"4030": 550, "2102": 116, "2020": 50, "1020": -716}
    assert figures.imbalance == 0


def test_short_by_five_debits_over_short_five_and_over_does_the_reverse() -> None:
    short = {
        line.account: line.amount_cents
        for line in calc.over_short_entry(-500, over_short_account="6010", drawer_account="1010")
    }
    assert short == {"6010": 500, "1010": -500}
    over = {
        line.account: line.amount_cents
        for line in calc.over_short_entry(120, over_short_account="6010", drawer_account="1010")
    }
    assert over == {"6010": -120, "1010": 120}
    assert calc.over_short_entry(0, over_short_account="6010", drawer_account="1010") == []
    assert calc.over_short(counted=9_500, expected=10_000) == -500


def test_a_drawer_expects_its_float_takings_and_movements_less_refunds() -> None:
    assert calc.expected_cash(10_000, 25_340, [(1, 5_000), (-1, 1_240), (0, 0)], 1_200) == 37_900


def test_a_count_by_notes_and_coins_adds_up_and_refuses_what_is_not_money() -> None:
    assert calc.count_total({5000: 2, 1000: 3, 200: 4, 5: 1}) == 13_805
    with pytest.raises(ValueError, match="not a coin or note"):
        calc.count_total({300: 1})
    with pytest.raises(ValueError, match="negative"):
        calc.count_total({100: -1})


def test_cash_goes_to_its_devices_drawer_else_the_house_drawer_else_is_kept_apart() -> None:
    drawers = [calc.DrawerWindow(1, None, 0, None), calc.DrawerWindow(2, 7, 10, 20)]
    payments = [
        calc.CashPayment(5, 7, 100),
        calc.CashPayment(15, 7, 200),
        calc.CashPayment(15, 8, 400),
        calc.CashPayment(25, 7, 800),
    ]
    assert calc.assign_cash(payments, drawers) == {1: 1300, 2: 200}
    assert calc.assign_cash([calc.CashPayment(1, None, 50)], []) == {None: 50}


def test_a_server_owes_cash_collected_less_tips_paid_out() -> None:
    assert calc.cash_owed_to_house(12_000, 3_500) == 8_500
    assert calc.cash_owed_to_house(0, 2_000) == -2_000


def test_pooling_by_hours_splits_to_the_cent_and_leaves_out_who_did_not_work() -> None:
    members = [
        calc.PoolMember(1, "server", 300),
        calc.PoolMember(2, "server", 300),
        calc.PoolMember(3, "cook", 300),
        calc.PoolMember(4, "host", 0),
    ]
    shares = calc.split_by_hours(10_000, members)
    assert shares == {1: 3334, 2: 3333, 3: 3333, 4: 0}
    with pytest.raises(ValueError, match="enter hours"):
        calc.split_by_hours(100, [calc.PoolMember(1, "server", 0)])


def test_pooling_by_role_gives_an_empty_roles_share_to_the_others() -> None:
    members = [calc.PoolMember(1, "server", 300), calc.PoolMember(2, "server", 200), calc.PoolMember(3, "cook", 480)]
    assert calc.split_by_roles(1001, {"server": 70, "cook": 30}, members) == {1: 421, 2: 280, 3: 300}
    assert calc.split_by_roles(1001, {"server": 60, "cook": 20, "bartender": 20}, members) == {1: 451, 2: 300, 3: 250}


@given(
    pool=st.integers(min_value=0, max_value=5_000_000),
    minutes=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=15),
    roles=st.lists(st.sampled_from(["server", "bartender", "cook"]), min_size=15, max_size=15),
)
def test_every_pool_is_shared_to_the_last_cent(pool: int, minutes: list[int], roles: list[str]) -> None:
    members = [calc.PoolMember(i + 1, roles[i], m) for i, m in enumerate(minutes)]
    if any(m > 0 for m in minutes):
        assert sum(calc.split_by_hours(pool, members).values()) == pool
    by_role = calc.split_by_roles(pool, {"server": 50, "bartender": 25, "cook": 25}, members)
    assert sum(by_role.values()) == pool
    assert all(share >= 0 for share in by_role.values())
