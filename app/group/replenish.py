"""Replenishment across venues: which venue sends an item to which, and what must be bought.

A venue below par on an item first receives from venues above par on it (each keeps its own par), the
largest surplus sending to the largest need; what no venue can spare is bought. Quantities are in
thousandths of the item's unit (as stock is counted); transfers are rounded down to whole units (a sender
never drops below its par and nobody ships a sliver), purchases up to whole units (the need is covered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

UNIT = 1000


@dataclass(frozen=True)
class Level:
    """What one venue holds of one item, summed over its locations that have a par, and that par."""

    venue: str
    item: str
    unit: str
    on_hand_milli: int
    par_milli: int

    @property
    def short_milli(self) -> int:
        """How far below par (0 at or above it)."""
        return max(self.par_milli - self.on_hand_milli, 0)

    @property
    def spare_milli(self) -> int:
        """How much above par (0 at or below it)."""
        return max(self.on_hand_milli - self.par_milli, 0)


@dataclass(frozen=True)
class Transfer:
    """Send `quantity_milli` of `item` from one venue to another."""

    item: str
    unit: str
    source: str
    target: str
    quantity_milli: int


@dataclass(frozen=True)
class Purchase:
    """Buy `quantity_milli` of `item` for a venue: its shortfall that no transfer covers."""

    item: str
    unit: str
    venue: str
    quantity_milli: int


def _whole_down(milli: int) -> int:
    return milli // UNIT * UNIT


def _whole_up(milli: int) -> int:
    return -(-milli // UNIT) * UNIT


def suggest(levels: Iterable[Level]) -> tuple[list[Transfer], list[Purchase]]:
    """Transfers from venues above par to venues below it, then purchases for what remains short."""
    by_item: dict[str, list[Level]] = {}
    for level in levels:
        by_item.setdefault(level.item, []).append(level)
    transfers: list[Transfer] = []
    purchases: list[Purchase] = []
    for item in sorted(by_item):
        rows = by_item[item]
        unit = rows[0].unit
        needs = sorted(((r.venue, r.short_milli) for r in rows if r.short_milli), key=lambda vn: (-vn[1], vn[0]))
        spares = {r.venue: _whole_down(r.spare_milli) for r in rows if r.spare_milli >= UNIT}
        for venue, short in needs:
            want = _whole_up(short)
            while want > 0 and any(spares.values()):
                source = min(spares, key=lambda v: (-spares[v], v))
                if spares[source] <= 0:
                    break
                sent = min(want, spares[source])
                transfers.append(Transfer(item, unit, source, venue, sent))
                spares[source] -= sent
                want -= sent
            if want > 0:
                purchases.append(Purchase(item, unit, venue, want))
    return transfers, purchases
