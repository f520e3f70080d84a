"""Property: whatever order adds, sends, voids and moves come in across two checks, every line is on exactly one
check, none is lost or doubled, quantities add up, and only sends and voids ever reach the kitchen."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from app.floor.models import DiningTable, Floor
from app.lib.db import Database
from app.lib.errors import DomainError
from app.menu.models import Course, MenuCategory, MenuItem, TaxRate
from app.orders import firing, seating, voids
from app.orders import lines as order_lines
from app.orders.models import Check, CheckKind, CheckLine, FireKind, FireLine, KitchenFire, LineState
from app.staff.models import Staff
from app.staff.permissions import Role
from tests.support.services import PostgresDatabase, SqliteTemplate

Op = tuple[str, int, int]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 1), st.integers(1, 3)),
        st.tuples(st.just("send"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("void"), st.integers(0, 50), st.integers(0, 3)),
        st.tuples(st.just("move"), st.integers(0, 50), st.just(0)),
    ),
    max_size=14,
)


@dataclass
class Expected:
    """What the restaurant should look like, kept by hand beside the database."""

    where: dict[int, int] = field(default_factory=dict)
    active: dict[int, int] = field(default_factory=dict)
    rung_in: int = 0
    voided: int = 0
    void_fires: int = 0


async def _seed(db: Database) -> tuple[Staff, int, list[int]]:
    async with db.write() as session:
        staff = Staff(name="Nora Vance", role=Role.MANAGER, pin_lookup="n", pin_hash="n")
        tax = TaxRate(name="Food 9 %", rate_bp=900)
        floor = Floor(name="Dining Room")
        session.add_all([staff, tax, floor])
        await session.flush()
        category = MenuCategory(name="Starters", course=Course.STARTERS, tax_rate_id=tax.id or 0)
        session.add(category)
        await session.flush()
        item = MenuItem(sku="ST-SOU", name="Soup of the Day", price_cents=750, category_id=category.id or 0)
        tables = [DiningTable(floor_id=floor.id or 0, name=str(n)) for n in (1, 2)]
        session.add_all([item, *tables])
        await session.flush()
        checks = [
            await seating.open_check(session, table_id=t.id, covers=2, server=staff, kind=CheckKind.TABLE)
            for t in tables
        ]
        return staff, item.id or 0, [c.id or 0 for c in checks]


async def _apply(db: Database, op: Op, staff: Staff, item_id: int, checks: list[int], expected: Expected) -> None:
    kind, a, b = op
    async with db.read() as session:
        lines = list((await session.exec(select(CheckLine).order_by(col(CheckLine.id)))).all())
    try:
        async with db.write() as session:
            if kind == "add":
                line = await order_lines.add_line(
                    session,
                    check_id=checks[a],
                    request=order_lines.LineRequest(menu_item_id=item_id, quantity=b),
                    actor=staff,
                    expected_version=None,
                )
                expected.where[line.id or 0] = checks[a]
                expected.active[line.id or 0] = b
                expected.rung_in += b
            elif kind == "send":
                await firing.send(session, check_id=checks[a], actor=staff, expected_version=None)
            elif kind == "void" and lines:
                line = lines[a % len(lines)]
                partial = b if 0 < b < line.quantity_num else None
                was_sent = line.state == LineState.SENT
                result = await voids.void_line(
                    session,
                    check_id=line.check_id,
                    line_id=line.id or 0,
                    actor=staff,
                    expected_version=None,
                    reason="Guest changed their mind",
                    quantity=partial,
                )
                gone = partial or line.quantity_num
                expected.active[line.id or 0] -= gone
                expected.voided += gone
                expected.void_fires += 1 if was_sent else 0
                if partial:
                    await session.flush()
                    copy = (await session.exec(select(CheckLine).where(CheckLine.origin_line_id == line.id))).all()[-1]
                    expected.where[copy.id or 0] = line.check_id
                    expected.active[copy.id or 0] = 0
                assert result.line.id == line.id
            elif kind == "move" and lines:
                line = lines[a % len(lines)]
                other = checks[1] if line.check_id == checks[0] else checks[0]
                await seating.move_lines(
                    session, line_ids=[line.id or 0], from_check_id=line.check_id, to_check_id=other, actor=staff
                )
                expected.where[line.id or 0] = other
    except DomainError:
        pass  # a refused step changes nothing, which the final comparison proves


async def _scenario(db: Database, ops: list[Op]) -> None:
    staff, item_id, checks = await _seed(db)
    expected = Expected()
    for op in ops:
        await _apply(db, op, staff, item_id, checks, expected)
    async with db.read() as session:
        lines = list((await session.exec(select(CheckLine))).all())
        fires = list((await session.exec(select(KitchenFire))).all())
        fire_lines = list((await session.exec(select(FireLine))).all())
        open_checks = list((await session.exec(select(Check.id))).all())
    assert sorted(open_checks) == sorted(checks)
    assert {line.id: line.check_id for line in lines} == expected.where, "every line on exactly the check expected"
    assert all(line.check_id in checks for line in lines)
    active = {line.id: (0 if line.state == LineState.VOIDED else line.quantity_num) for line in lines}
    assert active == expected.active, "no quantity lost or doubled"
    assert sum(active.values()) == expected.rung_in - expected.voided
    assert sum(line.quantity_num for line in lines) == expected.rung_in, "voided parts stay on the check"
    assert sum(1 for f in fires if f.kind == FireKind.VOID) == expected.void_fires, "moves never reach the kitchen"
    fired_ids = {fl.line_id for fl in fire_lines}
    assert all(line.id in fired_ids for line in lines if line.state == LineState.SENT)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_any_interleaving_of_adds_voids_and_moves_keeps_every_line_on_exactly_one_check(
    ops: list[Op],
    backend: str,
    sqlite_template: SqliteTemplate,
    postgres_database: PostgresDatabase | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    async def run() -> None:
        if postgres_database is not None:
            await postgres_database.empty()
            url = postgres_database.url
        else:
            url = sqlite_template.fresh(tmp_path_factory.mktemp("invariants") / "brigade.db")
        db = Database(url)
        try:
            await _scenario(db, ops)
        finally:
            await db.dispose()

    asyncio.run(run())


def test_the_strategy_can_reach_every_kind_of_step() -> None:
    kinds: set[str] = set()

    @settings(max_examples=60, deadline=None)
    @given(ops=operations)
    def collect(ops: list[Op]) -> None:
        kinds.update(op[0] for op in ops)

    collect()
    assert kinds == {"add", "send", "void", "move"}


def test_an_example_is_checked_by_hand(sqlite_template: SqliteTemplate, tmp_path: Path) -> None:
    ops: list[Op] = [("add", 0, 3), ("add", 1, 1), ("send", 0, 0), ("void", 0, 1), ("move", 0, 0), ("move", 1, 0)]

    async def run() -> Any:
        db = Database(sqlite_template.fresh(tmp_path / "hand.db"))
        try:
            await _scenario(db, ops)
        finally:
            await db.dispose()

    asyncio.run(run())
