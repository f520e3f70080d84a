"""A served process keeps what the app is built of out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import json

import pytest

from app.lib import heap
from tests.support.lifespan import run_in_fresh_process

_SERVE_TWICE = """
    seen = {"threshold_before": gc.get_threshold()[0]}
    app = create_app(settings())
    seen["tracked_before"] = len(gc.get_objects())
    async with app.lifespan():
        seen["frozen"] = gc.get_freeze_count()
        seen["tracked_serving"] = len(gc.get_objects())
        seen["threshold_serving"] = gc.get_threshold()[0]
    async with create_app(settings()).lifespan():
        seen["frozen_second_app"] = gc.get_freeze_count()
    print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """What one fresh process saw of its heap, serving one app and then another."""
    folder = tmp_path_factory.mktemp("heap")
    observed: dict[str, int] = json.loads(run_in_fresh_process(folder, _SERVE_TWICE).splitlines()[-1])
    return observed


def test_a_started_app_leaves_the_collector_little_to_walk(seen: dict[str, int]) -> None:
    assert seen["tracked_before"] > 100_000  # modules, mappers, routes: what every full collection would walk
    # what the app was built of is frozen: a full collection walks a small part of it
    assert seen["frozen"] >= seen["tracked_before"] * 0.9
    assert seen["tracked_serving"] < seen["tracked_before"] / 10
    # young collections come less often, so fewer short-lived objects are ever walked
    assert seen["threshold_before"] == 700
    assert seen["threshold_serving"] == heap.YOUNG_THRESHOLD


def test_a_process_settles_once(seen: dict[str, int]) -> None:
    # A second app started in the same process (tests do this) freezes nothing more; frozen objects are still
    # freed as their references go, so the count may only fall.
    assert seen["frozen"] > 100_000
    assert seen["frozen_second_app"] <= seen["frozen"]


def test_settling_again_freezes_nothing() -> None:
    # This test process's own apps may have settled it already; either way a further call is a no-op.
    heap.settle()
    frozen = gc.get_freeze_count()
    assert heap.settle() == 0
    assert gc.get_freeze_count() == frozen
