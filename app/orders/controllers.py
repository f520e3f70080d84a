"""Pages and endpoints for orders."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
