"""Replenishment across venues: transfers from venues above par, purchases for what they cannot cover."""

from __future__ import annotations

from app.group.replenish import Level, Purchase, Transfer, suggest


def _level(venue: str, on_hand: int, par: int, item: str = "Tomatoes", unit: str = "kg") -> Level:
    return Level(venue=venue, item=item, unit=unit, on_hand_milli=on_hand, par_milli=par)


def test_a_venue_over_par_sends_to_one_below_and_keeps_its_own_par() -> None:
    transfers, purchases = suggest([_level("NORTH", 12_000, 5_000), _level("SOUTH", 1_000, 4_000)])
    assert transfers == [Transfer("Tomatoes", "kg", "NORTH", "SOUTH", 3_000)]
    assert purchases == []


def test_what_transfers_cannot_cover_is_bought() -> None:
    transfers, purchases = suggest([_level("NORTH", 6_000, 5_000), _level("SOUTH", 0, 4_000)])
    assert transfers == [Transfer("Tomatoes", "kg", "NORTH", "SOUTH", 1_000)]
    assert purchases == [Purchase("Tomatoes", "kg", "SOUTH", 3_000)]


def test_transfers_round_down_to_whole_units_and_purchases_round_up() -> None:
    # NORTH has 1.8 kg spare: it sends 1 kg, never dipping below its par. SOUTH is 2.3 kg short: 3 kg covers it.
    transfers, purchases = suggest([_level("NORTH", 6_800, 5_000), _level("SOUTH", 1_700, 4_000)])
    assert transfers == [Transfer("Tomatoes", "kg", "NORTH", "SOUTH", 1_000)]
    assert purchases == [Purchase("Tomatoes", "kg", "SOUTH", 2_000)]
    # Less than a whole unit spare sends nothing.
    transfers, purchases = suggest([_level("NORTH", 5_900, 5_000), _level("SOUTH", 3_500, 4_000)])
    assert transfers == []
    assert purchases == [Purchase("Tomatoes", "kg", "SOUTH", 1_000)]


def test_several_venues_the_largest_need_is_served_first_from_the_largest_surplus() -> None:
    levels = [
        _level("EAST", 9_000, 4_000),  # 5 spare
        _level("WEST", 6_000, 4_000),  # 2 spare
        _level("NORTH", 0, 6_000),  # 6 short
        _level("SOUTH", 1_000, 4_000),  # 3 short
    ]
    transfers, purchases = suggest(levels)
    assert transfers == [
        Transfer("Tomatoes", "kg", "EAST", "NORTH", 5_000),
        Transfer("Tomatoes", "kg", "WEST", "NORTH", 1_000),
        Transfer("Tomatoes", "kg", "WEST", "SOUTH", 1_000),
    ]
    assert purchases == [Purchase("Tomatoes", "kg", "SOUTH", 2_000)]
    moved = sum(t.quantity_milli for t in transfers) + sum(p.quantity_milli for p in purchases)
    assert moved == 9_000


def test_items_are_kept_apart_and_venues_at_par_are_left_alone() -> None:
    levels = [
        _level("NORTH", 10_000, 2_000, item="Flour"),
        _level("SOUTH", 1_000, 2_000, item="Tomatoes"),
        _level("EAST", 4_000, 4_000, item="Tomatoes"),
    ]
    transfers, purchases = suggest(levels)
    assert transfers == []
    assert purchases == [Purchase("Tomatoes", "kg", "SOUTH", 1_000)]
    assert suggest([]) == ([], [])
