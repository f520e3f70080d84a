"""Pages and endpoints for api."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
