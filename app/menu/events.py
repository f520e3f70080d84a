"""What the menu tells the rest of the house: an item 86'd or back on sale, and any other menu change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from app.lib.events import DomainEvent


@dataclass(frozen=True)
class ItemEightySixed(DomainEvent):
    """The kitchen ran out of an item: tablets stop selling it. `actor_id` is None when stock said so."""

    name: ClassVar[str] = "menu.item_86d"
    item_id: int
    reason: str
    actor_id: int | None


@dataclass(frozen=True)
class ItemBackInStock(DomainEvent):
    """An 86'd item can be sold again."""

    name: ClassVar[str] = "menu.item_un86d"
    item_id: int
    actor_id: int | None


@dataclass(frozen=True)
class MenuChanged(DomainEvent):
    """Something on the menu changed (`kind` is tax_rate, category, item, modifier_group or modifier)."""

    name: ClassVar[str] = "menu.changed"
    kind: str
    record_id: int
