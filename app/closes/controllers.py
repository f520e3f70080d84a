"""Pages and endpoints for closes."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
