"""A backend outage on the event channels is logged twice, when it starts and when it ends, whatever it costs."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest
from litestar.channels.backends.memory import MemoryChannelsBackend

from app.lib.events import ChannelsUnavailable
from kds.channels import ResilientChannelsPlugin


class FlakyBackend(MemoryChannelsBackend):
    """An in-memory backend that refuses every publish while `down`, as Redis does while it restarts."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        await super().publish(data, channels)


async def test_a_backend_blip_logs_one_warning_when_lost_and_one_when_back_with_the_count_between(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FlakyBackend()
    await backend.on_startup()
    channels = ResilientChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
    caplog.set_level(logging.INFO)

    backend.down = True
    results = [await channels.try_publish("card", "kds.station.1") for _ in range(30)]
    for _ in range(12):
        with pytest.raises(ChannelsUnavailable):
            await channels.wait_published("look again", ["floor:1", "check:7"])
    backend.down = False
    assert await channels.try_publish("card", "kds.station.1")
    assert await channels.try_publish("card", "kds.station.1")

    assert results == [False] * 30
    records = [r for r in caplog.records if r.name.startswith(("kds", "app"))]
    assert [r.levelname for r in records] == ["WARNING", "WARNING"]
    assert all(r.exc_info is None for r in records)
    lost, back = (r.getMessage() for r in records)
    assert "lost their backend" in lost
    assert "ConnectionError" in lost
    assert "are back after" in back
    assert "42 publishes failed" in back
    assert channels.outages == 1
    await backend.on_shutdown()


async def test_each_outage_is_logged_once_on_its_own(caplog: pytest.LogCaptureFixture) -> None:
    backend = FlakyBackend()
    await backend.on_startup()
    channels = ResilientChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
    caplog.set_level(logging.WARNING)

    for _ in range(2):
        backend.down = True
        for _ in range(3):
            await channels.try_publish("card", "kds.all")
        backend.down = False
        await channels.try_publish("card", "kds.all")

    messages = [r.getMessage() for r in caplog.records if r.name == "kds.channels"]
    assert len(messages) == 4
    assert ["3 publishes failed" in m for m in messages] == [False, True, False, True]
    assert channels.outages == 2
    await backend.on_shutdown()
