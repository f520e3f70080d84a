"""Work every test's app would repeat identically, done once per run; the collector tuned for a test run.

The suite builds a fresh Litestar app per test. Compiling templates is a pure function of template
sources that do not change during a run, so it is done once and shared; everything that depends on a
test's settings or runtime (template globals and filters, the database, channels and workers) is still
built per app.
"""

from __future__ import annotations

import gc

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine


class _TemplateBytecode(BytecodeCache):
    """Compiled templates kept in memory, keyed by Jinja on template name and a checksum of the source."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _TemplateBytecode()


def share_compiled_templates(app: Litestar) -> None:
    """Let `app`'s Jinja environment reuse templates another test's app compiled (same loader, same options)."""
    engine = app.template_engine
    assert isinstance(engine, JinjaTemplateEngine), "the app renders with Jinja"
    engine.engine.bytecode_cache = _TEMPLATES


def collect_garbage_less_often() -> None:
    """Tune the collector for a test run, which allocates far more between collections than a server does.

    Everything imported so far lives for the whole run: freezing it keeps full collections from walking
    it again and again. Each test's app, runtime and sessions become cyclic garbage at teardown; young
    collections every 50,000 allocations instead of 700 still free them, at a fifth of the collector time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
