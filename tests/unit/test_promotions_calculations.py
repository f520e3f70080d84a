"""The maths of promotions: per-unit rules, deals, set menus, rounding, precedence, schedules, and their place
in the one totals computation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from app.checks import calculations as checks
from app.promotions.calculations import (
    PromotedLine,
    Rule,
    RuleKind,
    Schedule,
    Terms,
    best_rule,
    promotion_amounts,
    schedule_text,
    terms_for,
    unit_off,
)

HAPPY = Rule(1, "Happy hour", RuleKind.PERCENT, percent=Decimal("33.33"))
HOUSE_WINE = Rule(2, "House wine €4", RuleKind.SET_PRICE, price_cents=400)
TWO_FOR = Rule(3, "2 for €15", RuleKind.QUANTITY, price_cents=1500, deal_size=2)
SET_MENU = Rule(4, "Menu du jour", RuleKind.SET_MENU, price_cents=2500, deal_size=3)


def _line(price: int, terms: Terms | None, quantity: int | Fraction = 1) -> PromotedLine:
    return PromotedLine(price, Fraction(quantity), terms)


def test_percent_rounds_each_unit_half_up_and_set_price_never_goes_up() -> None:
    assert unit_off(HAPPY, 950) == 317  # 316.635 rounds half-up
    assert unit_off(HOUSE_WINE, 650) == 250
    assert unit_off(HOUSE_WINE, 350) == 0
    terms = terms_for(HAPPY, 950)
    assert terms.unit_off == 317
    assert promotion_amounts([_line(950, terms, 3)]) == [951]


def test_two_for_groups_the_dearest_units_and_spreads_the_saving_by_largest_remainder() -> None:
    terms = terms_for(TWO_FOR, 0)
    lines = [_line(900, terms), _line(1000, terms), _line(800, terms)]
    # 1000 + 900 make the pair (saving 400); the 800 waits for a partner
    assert promotion_amounts(lines) == [189, 211, 0]
    assert sum(promotion_amounts(lines)) == 1000 + 900 - 1500
    # one line of quantity 2 is a pair by itself; 3 units give one pair and one at full price
    assert promotion_amounts([_line(1000, terms, 3)]) == [500]
    # a pair costing no more than the deal saves nothing, never a negative amount
    assert promotion_amounts([_line(700, terms, 2)]) == [0]


def test_a_void_of_one_of_a_pair_takes_the_deal_away() -> None:
    terms = terms_for(TWO_FOR, 0)
    assert sum(promotion_amounts([_line(1000, terms), _line(1000, terms)])) == 500
    assert promotion_amounts([_line(1000, terms)]) == [0]


def test_set_menu_needs_one_of_each_course_and_takes_the_dearest_of_each() -> None:
    starter = terms_for(SET_MENU, 0, "starters")
    main = terms_for(SET_MENU, 0, "mains")
    dessert = terms_for(SET_MENU, 0, "dessert")
    lines = [_line(800, starter), _line(1900, main), _line(700, dessert), _line(600, starter)]
    amounts = promotion_amounts(lines)
    # 800 + 1900 + 700 = 3400 for 2500: 900 spread by price; the second starter is à la carte
    assert amounts == [212, 503, 185, 0]
    assert sum(amounts) == 900
    assert promotion_amounts([_line(800, starter), _line(1900, main)]) == [0, 0]


def test_the_shares_of_a_shared_line_are_rounded_once_and_spread_by_largest_remainder() -> None:
    terms = terms_for(HAPPY, 950)  # 317 off the unit
    third = Fraction(1, 3)
    shares = [PromotedLine(950, third, terms, group=5) for _ in range(3)]
    assert promotion_amounts(shares) == [106, 106, 105]
    # each share alone would round to 106: a cent the guest was never given
    assert promotion_amounts([PromotedLine(950, third, terms)]) == [106]


def test_shares_of_a_unit_never_make_a_deal() -> None:
    terms = terms_for(TWO_FOR, 0)
    assert promotion_amounts([_line(1000, terms, Fraction(1, 2)), _line(1000, terms)]) == [0, 0]


def test_precedence_is_the_lowest_price_for_the_guest_then_the_lowest_rule_id() -> None:
    assert best_rule([HAPPY, HOUSE_WINE], 650) == HOUSE_WINE  # 400 beats 433.35
    assert best_rule([HAPPY, HOUSE_WINE], 500) == HAPPY  # 333.35 beats 400
    assert best_rule([TWO_FOR, HAPPY], 1000) == HAPPY  # 667 a unit beats 750
    assert best_rule([TWO_FOR, HAPPY], 1200) == TWO_FOR  # 750 a unit beats 800
    twin = Rule(9, "Also 2 for €15", RuleKind.QUANTITY, price_cents=1500, deal_size=2)
    assert best_rule([twin, TWO_FOR], 1000) == TWO_FOR  # a tie goes to the lower id
    assert best_rule([HOUSE_WINE], 350) is None  # a set price above the menu's is not applied
    assert best_rule([SET_MENU], 700) == SET_MENU  # a set's cheap dessert still belongs to the set
    assert best_rule([SET_MENU, HAPPY], 700) == HAPPY  # 467 beats a third of the set's 2500


def test_schedule_is_read_on_the_venue_clock() -> None:
    weekdays_five_to_seven = Schedule(frozenset(range(5)), 17 * 60, 19 * 60)
    # Friday 4 December 2026, 16:30 UTC is 17:30 in Amsterdam
    assert weekdays_five_to_seven.runs_at(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), "Europe/Amsterdam")
    assert not weekdays_five_to_seven.runs_at(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), "Europe/London")
    assert not weekdays_five_to_seven.runs_at(datetime(2026, 12, 4, 18, 0, tzinfo=UTC), "Europe/Amsterdam")
    assert not weekdays_five_to_seven.runs_at(datetime(2026, 12, 5, 16, 30, tzinfo=UTC), "Europe/Amsterdam")
    bounded = Schedule(frozenset(range(7)), 0, 1440, first_day=date(2026, 12, 1), last_day=date(2026, 12, 3))
    assert bounded.runs_at(datetime(2026, 12, 3, 22, 59, tzinfo=UTC), "Europe/Amsterdam")
    assert not bounded.runs_at(datetime(2026, 12, 3, 23, 0, tzinfo=UTC), "Europe/Amsterdam")
    assert schedule_text(frozenset(range(5)), 17 * 60, 19 * 60) == "Mon-Fri, 17:00-19:00"
    assert schedule_text(frozenset(range(7)), 0, 1440) == "Every day, all day"


RATE = checks.TaxRate(1, "VAT 21 %", Decimal("0.21"))
SETTINGS = checks.TaxSettings(prices_include_tax=True, rounding=checks.TaxRounding.PER_CHECK)


def test_compute_totals_takes_promotions_off_before_a_managers_discount() -> None:
    pair = terms_for(TWO_FOR, 0)
    lines = [
        checks.PricedLine(1, "Negroni", 1000, Fraction(1), RATE, 7, promotion=pair, item_price=1000),
        checks.PricedLine(
            2,
            "Negroni",
            1100,
            Fraction(1),
            RATE,
            7,
            promotion=pair,
            item_price=1000,
            discount=checks.Discount.percent(10, "Regular"),
        ),
        checks.PricedLine(3, "Fries", 450, Fraction(1), RATE, 8),
    ]
    totals = checks.compute_totals(lines, checks.CheckAdjustments(), SETTINGS)
    assert totals.gross == 2550
    assert totals.promotions == 500
    by_line = {line.line_id: line for line in totals.lines}
    assert (by_line[1].promotion, by_line[2].promotion) == (250, 250)
    assert by_line[2].discount == 85  # 10 % of the 850 left after the deal (modifier of 100 charged in full)
    assert by_line[1].promotion_id == 3
    assert by_line[3].promotion_id is None
    assert totals.total == 2550 - 500 - 85
    # the partner voided: the deal is gone, the discount is on the full price again
    voided = [lines[0], checks.PricedLine(**{**_fields(lines[1]), "status": checks.LineStatus.VOIDED}), lines[2]]
    after = checks.compute_totals(voided, checks.CheckAdjustments(), SETTINGS)
    assert after.promotions == 0
    assert after.total == 1000 + 450


def test_a_comped_check_takes_no_promotion() -> None:
    line = checks.PricedLine(1, "Wine", 650, Fraction(1), RATE, 7, promotion=terms_for(HOUSE_WINE, 650))
    totals = checks.compute_totals([line], checks.CheckAdjustments(comp=checks.CheckComp("Birthday")), SETTINGS)
    assert (totals.promotions, totals.comps, totals.total) == (0, 650, 0)


def _fields(line: checks.PricedLine) -> dict[str, object]:
    return {name: getattr(line, name) for name in checks.PricedLine.__dataclass_fields__}


def test_the_printed_z_report_carries_promotions_beside_comps_and_discounts() -> None:
    from printers import CountedAmountDoc, ZReportDoc
    from printers.layouts import render_z_report
    from printers.queue import document_from_json, document_to_json
    from tests.support.escpos_decoder import decode

    none = CountedAmountDoc(count=0, amount_cents=0)
    report = ZReportDoc(
        venue_name="Brigade Bistro",
        business_day=date(2026, 12, 4),
        printed_at=datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
        net_sales_cents=10000,
        voids=none,
        comps=none,
        discounts=none,
        promotions=CountedAmountDoc(count=3, amount_cents=1100),
        tips_cents=0,
        cash_over_short_cents=0,
    )
    assert document_from_json(document_to_json(report)) == report
    assert "Promotions (3 sold)" in decode(render_z_report(report)).text
