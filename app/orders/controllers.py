"""Pages and endpoints for orders: the floor view, checks, order entry, hold and fire."""

from __future__ import annotations

from typing import Any

from app.orders import floor_view

ROUTES: list[Any] = [*floor_view.ROUTES]
