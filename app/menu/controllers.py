"""Manager pages for the menu."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
