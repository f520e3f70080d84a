"""Pages and endpoints for accounting."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
