"""Pages and endpoints for checks."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
