"""Routing fired lines: the snapshot station first, then today's menu; modifiers may go elsewhere; nothing dropped."""

from __future__ import annotations

from fractions import Fraction

from app.kitchen.routing import RoutableLine, RoutableModifier, route_fire, station_for

GRILL, FRY, COLD = 1, 2, 3
NAMES = {GRILL: "Grill", FRY: "Fry", COLD: "Cold"}
LIVE = [GRILL, FRY, COLD]


def line(line_id: int, name: str, **kwargs: object) -> RoutableLine:
    return RoutableLine(line_id=line_id, name=name, quantity=Fraction(1), **kwargs)  # type: ignore[arg-type]


def test_a_line_goes_to_the_station_it_was_rung_in_with() -> None:
    assert station_for(line(1, "Rib-eye", snapshot_station_id=GRILL, category_station_id=COLD), LIVE) == GRILL


def test_an_archived_snapshot_station_falls_back_to_the_item_then_the_category() -> None:
    assert (
        station_for(line(1, "Salmon", snapshot_station_id=9, item_station_id=COLD, category_station_id=GRILL), LIVE)
        == COLD
    )
    assert station_for(line(1, "Salmon", snapshot_station_id=9, category_station_id=GRILL), LIVE) == GRILL


def test_firing_mains_and_starters_sends_each_only_to_its_station() -> None:
    routed = route_fire(
        [line(1, "Rib-eye", snapshot_station_id=GRILL), line(2, "Calamari", snapshot_station_id=FRY)], LIVE, NAMES
    )
    assert {sid: [r.name for r in lines] for sid, lines in routed.by_station.items()} == {
        GRILL: ["Rib-eye"],
        FRY: ["Calamari"],
    }
    assert routed.unrouted == []


def test_a_modifier_with_its_own_station_goes_there_as_part_of_the_item() -> None:
    steak = RoutableLine(
        line_id=1,
        name="Rib-eye",
        quantity=Fraction(2),
        snapshot_station_id=GRILL,
        seat=3,
        modifiers=(RoutableModifier("Medium rare"), RoutableModifier("Fries", station_id=FRY)),
    )
    routed = route_fire([steak], LIVE, NAMES)
    grill, fry = routed.by_station[GRILL][0], routed.by_station[FRY][0]
    assert grill.modifiers == ("Medium rare", "Fries (from Fry)")
    assert (fry.name, fry.part_of, fry.quantity, fry.seat) == ("Fries", "Rib-eye", Fraction(2), 3)


def test_a_modifier_routed_to_the_items_own_station_stays_a_modifier() -> None:
    steak = line(1, "Rib-eye", snapshot_station_id=GRILL, modifiers=(RoutableModifier("Butter", station_id=GRILL),))
    routed = route_fire([steak], LIVE, NAMES)
    assert list(routed.by_station) == [GRILL]
    assert routed.by_station[GRILL][0].modifiers == ("Butter",)


def test_a_line_no_station_takes_is_kept_with_a_reason_not_dropped() -> None:
    routed = route_fire([line(1, "Tiramisu", category_name="Desserts")], LIVE, NAMES)
    assert routed.by_station == {}
    assert len(routed.unrouted) == 1
    reason = routed.unrouted[0].unrouted_reason or ""
    assert reason.startswith("Tiramisu (category Desserts) has no kitchen station")


def test_shares_keep_their_fraction() -> None:
    bottle = RoutableLine(line_id=1, name="Cava", quantity=Fraction(1, 4), snapshot_station_id=COLD)
    assert route_fire([bottle], LIVE, NAMES).by_station[COLD][0].quantity == Fraction(1, 4)
