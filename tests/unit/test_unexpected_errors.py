"""An error nothing else handled: the person sees a plain 500, and the server's log keeps the whole traceback."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.testing import TestClient

from app.lib import web


@get("/boom")
async def boom() -> str:
    raise RuntimeError("the fryer's thermostat is on fire")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unforeseen_error_is_logged_with_its_traceback_in_debug_or_not(
    caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    handlers = {HTTP_500_INTERNAL_SERVER_ERROR: web.unexpected_error}
    app = Litestar([boom], exception_handlers=handlers, debug=debug, logging_config=None)
    with caplog.at_level(logging.ERROR, logger=web.__name__), TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    if not debug:
        assert "thermostat" not in response.text, "a guest-facing page never shows the error's insides"
    [record] = [r for r in caplog.records if r.name == web.__name__]
    assert record.getMessage() == "GET /boom failed"
    assert record.exc_info is not None
    assert "thermostat" in str(record.exc_info[1])
