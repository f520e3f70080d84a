"""Manager pages for floors and tables."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
