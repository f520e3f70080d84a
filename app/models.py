"""Every table, imported in one place for migrations and test databases."""

from __future__ import annotations

from sqlmodel import SQLModel

from app.accounting import models as accounting_models
from app.checks import models as checks_models
from app.closes import models as closes_models
from app.floor import models as floor_models
from app.giftcards import models as giftcards_models
from app.group import books_models as group_books_models
from app.group import catalog_models as group_catalog_models
from app.group import models as group_models
from app.guests import models as guests_models
from app.house_accounts import models as house_accounts_models
from app.inventory import models as inventory_models
from app.invoices import models as invoices_models
from app.kitchen import models as kitchen_models
from app.lib import audit, idempotency, outbox, revisions
from app.menu import models as menu_models
from app.orders import models as orders_models
from app.promotions import models as promotions_models
from app.purchasing import models as purchasing_models
from app.reservations import models as reservations_models
from app.staff import models as staff_models
from app.sync import catalog_models as sync_catalog_models
from app.sync import models as sync_models

metadata = SQLModel.metadata

__all__ = [
    "accounting_models",
    "audit",
    "checks_models",
    "closes_models",
    "floor_models",
    "giftcards_models",
    "group_books_models",
    "group_catalog_models",
    "group_models",
    "guests_models",
    "house_accounts_models",
    "idempotency",
    "inventory_models",
    "invoices_models",
    "kitchen_models",
    "menu_models",
    "metadata",
    "orders_models",
    "outbox",
    "promotions_models",
    "purchasing_models",
    "reservations_models",
    "revisions",
    "staff_models",
    "sync_catalog_models",
    "sync_models",
]
