"""Pages and endpoints for inventory."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
