"""The Friday-night load: tablets seat tables, ring in four items, fire them at a set rate, and later pay."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.clients import BenchError, Tablet, Timings
from bench.restaurant import Restaurant


@dataclass
class Order:
    """One check of the run: where it was seated, its version after firing, and when the fire was sent."""

    check_id: int
    table_id: int
    version: int = 0
    fire_sent_at: float = 0.0
    fire_acked_at: float = 0.0


@dataclass
class FirePlan:
    """Fire at `rate` per second for `duration` seconds, at most `limit` orders."""

    rate: float
    duration: float
    limit: int


@dataclass
class LoadResult:
    """What the tablets did."""

    orders: list[Order] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started_at: float = 0.0
    last_fire_at: float = 0.0

    @property
    def fired(self) -> list[Order]:
        return [order for order in self.orders if order.fire_acked_at]

    @property
    def orders_per_s(self) -> float:
        fired = self.fired
        if len(fired) < 2:
            return 0.0
        first = min(order.fire_sent_at for order in fired)
        last = max(order.fire_sent_at for order in fired)
        # n fires spread over the span between the first and the last: n - 1 intervals
        return (len(fired) - 1) / (last - first) if last > first else 0.0


class FireLoad:
    """Drives tablets until the plan's time or count runs out; each tablet works table by table."""

    def __init__(self, tablets: list[Tablet], restaurant: Restaurant, plan: FirePlan) -> None:
        self.tablets = tablets
        self.restaurant = restaurant
        self.plan = plan
        self.result = LoadResult()
        self.by_tablet: dict[int, list[Order]] = {index: [] for index in range(len(tablets))}
        self._tables: asyncio.Queue[int] = asyncio.Queue()
        for table_id in restaurant.tables:
            self._tables.put_nowait(table_id)
        self._slots = 0
        self._deadline = 0.0

    async def run(self) -> LoadResult:
        """Run every tablet to the end of the plan."""
        self.result.started_at = time.perf_counter()
        self._deadline = self.result.started_at + self.plan.duration
        await asyncio.gather(*(self._tablet(index, tablet) for index, tablet in enumerate(self.tablets)))
        return self.result

    def _next_slot(self) -> float | None:
        """When this tablet may fire (paced at the plan's rate), or None once the plan is used up."""
        if self._slots >= self.plan.limit:
            return None
        slot = self.result.started_at + self._slots / self.plan.rate
        self._slots += 1
        return slot

    async def _tablet(self, index: int, tablet: Tablet) -> None:
        while time.perf_counter() < self._deadline:
            slot = self._next_slot()
            if slot is None or self._tables.empty():
                return
            table_id = self._tables.get_nowait()
            try:
                await self._serve(index, tablet, table_id, slot)
            except (BenchError, OSError, TimeoutError) as exc:
                self.result.errors.append(str(exc))
            except Exception as exc:  # an httpx failure is a finding, not a crash of the run
                self.result.errors.append(f"{type(exc).__name__}: {exc}")

    async def _serve(self, index: int, tablet: Tablet, table_id: int, slot: float) -> None:
        check_id = await tablet.seat(table_id)
        order = Order(check_id=check_id, table_id=table_id)
        self.result.orders.append(order)
        self.by_tablet[index].append(order)
        page = await tablet.get(f"/checks/{check_id}", name="check_page")
        version = _version(page.text)
        for item_id, seat in self.restaurant.items:
            version = await tablet.ring_in(check_id, item_id, version, seat)
        wait = slot - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        order.fire_sent_at = time.perf_counter()
        order.version = await tablet.send(check_id, version)
        order.fire_acked_at = time.perf_counter()
        self.result.last_fire_at = order.fire_acked_at
        # back to the floor, as the tablet does after sending
        await tablet.get("/floor", name="floor_page")


def _version(html: str) -> int:
    from bench.clients import VERSION

    match = VERSION.search(html)
    if match is None:
        raise BenchError("the check page shows no version")
    return int(match.group(1))


async def pay_all(
    tablets: list[Tablet], by_tablet: dict[int, list[Order]], card_tender: int
) -> tuple[set[int], list[str]]:
    """Each tablet pays its own fired checks by card; the checks whose payment was acknowledged, and errors."""
    paid: set[int] = set()
    errors: list[str] = []

    async def pay(index: int) -> None:
        for order in by_tablet[index]:
            try:
                if not order.fire_acked_at:
                    # seated and maybe rung in, but the fire failed: it is paid all the same, or the day stays open
                    page = await tablets[index].get(f"/checks/{order.check_id}", name="check_page")
                    order.version = _version(page.text)
                await tablets[index].pay_by_card(order.check_id, card_tender, order.version)
            except Exception as exc:  # reported with the run
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                paid.add(order.check_id)

    await asyncio.gather(*(pay(index) for index in by_tablet))
    return paid, errors


def page_timings(timings: Timings, name: str) -> list[float]:
    """The samples of one kind of request."""
    return timings.samples.get(name, [])
