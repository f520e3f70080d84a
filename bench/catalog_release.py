"""How long a venue takes to apply a catalog release: `python -m bench.catalog_release [--items 500]`.

Builds a head office and a venue, each on its own temporary SQLite file with the demo restaurant, grows head
office's menu to `--items` dishes and publishes it; the venue keeps the release as it would receive it and
applies it (the first release: hundreds of new dishes). Head office then changes every price and publishes
again; the venue applies that too (every dish rewritten). Prints both times and one line `BENCH {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from app.demo import load_demo
from app.group import catalog as head_office
from app.lib.db import Database
from app.lib.settings import Settings
from app.main import create_app
from app.menu.models import MenuCategory, MenuItem
from app.models import metadata
from app.sync import catalog
from app.sync.models import HeadOfficeLink


async def _database(folder: Path, name: str, role: str) -> Database:
    url = f"sqlite+aiosqlite:///{folder / name}.db"
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    settings = Settings(
        database_url=url,
        var_dir=folder / f"{name}-var",
        secret_key="catalog-bench-secret-key-0123456789",
        pin_hash_profile="fast",
        run_workers=False,
        role=role,
    )
    db: Database = create_app(settings).state.runtime.db
    async with db.write() as session:
        await load_demo(session, settings)
    return db


async def _release(ho: Database, venue: Database, settings: Settings) -> float:
    async with ho.write() as session:
        release = await head_office.publish(session)
        view = head_office.venue_view(release, "BENCH")
    async with venue.write() as session:
        await catalog.keep(session, [view])
    started = time.perf_counter()
    outcome = await catalog.apply_due(venue, settings)
    elapsed = time.perf_counter() - started
    assert outcome.applied == [release.number], outcome
    return elapsed


async def main(items: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        ho = await _database(Path(folder), "head-office", "head_office")
        venue = await _database(Path(folder), "venue", "venue")
        settings = Settings(database_url="sqlite://", secret_key="catalog-bench-secret-key-0123456789")
        async with ho.write() as session:
            category = (await session.exec(select(MenuCategory).order_by(col(MenuCategory.id)))).first()
            assert category is not None
            have = len((await session.exec(select(MenuItem))).all())
            for n in range(items - have):
                session.add(MenuItem(sku=f"B{n:05d}", name=f"Dish {n}", price_cents=900 + n, category_id=category.id))
        async with venue.write() as session:
            session.add(
                HeadOfficeLink(url="http://head-office.invalid", venue_code="BENCH", venue_name="B", credential="x")
            )
        first = await _release(ho, venue, settings)
        async with ho.write() as session:
            for item in (await session.exec(select(MenuItem))).all():
                item.price_cents += 50
                session.add(item)
        repriced = await _release(ho, venue, settings)
        await ho.dispose()
        await venue.dispose()
    return {"items": items, "first_release_ms": round(first * 1000), "every_price_changed_ms": round(repriced * 1000)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    result = asyncio.run(main(parser.parse_args().items))
    print(
        f"{result['items']}-item release: first {result['first_release_ms']} ms, every price changed "
        f"{result['every_price_changed_ms']} ms"
    )
    print("BENCH " + json.dumps(result))
