"""The process's heap once the app is built: what it is made of is kept out of the garbage collector's way."""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

_settled = False
YOUNG_THRESHOLD = 10_000


def settle() -> int:
    """Collect once, then move every object alive now (modules, mappers, routes: a quarter of a million) into the
    collector's permanent generation, where its full collections no longer walk them; and let a young collection
    wait for `YOUNG_THRESHOLD` new objects instead of 700, so that fewer short-lived ones are ever walked.

    A full collection walks every tracked object and holds the event loop meanwhile: 150-200 ms with the app
    loaded, every few seconds of a busy service, and every fire then in flight waits that long for its ticket.
    After this one settles, a full collection walks only what was made since. Objects are still freed as their
    references go; only a cycle among the frozen ones would stay. Once a process: the first app started in it is
    the one that serves. Returns how many objects were frozen (0 when settled already).
    """
    global _settled
    if _settled:
        return 0
    _settled = True
    frozen = freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    log.info("heap settled: %d objects kept out of the collector's full collections", frozen)
    return frozen


def freeze() -> int:
    """Collect, so that no garbage is frozen with it, then freeze every object alive now; how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
