"""Manager pages for the kitchen."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
