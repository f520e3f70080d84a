"""Every table, imported in one place for migrations and test databases."""

from __future__ import annotations

from sqlmodel import SQLModel

from app.floor import models as floor_models
from app.kitchen import models as kitchen_models
from app.lib import audit, idempotency, outbox
from app.menu import models as menu_models
from app.staff import models as staff_models

metadata = SQLModel.metadata

__all__ = [
    "audit",
    "floor_models",
    "idempotency",
    "kitchen_models",
    "menu_models",
    "metadata",
    "outbox",
    "staff_models",
]
