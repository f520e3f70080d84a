"""The menu's commands live in rooms by what a manager changes: tax_rates.py, categories.py, items.py,
modifiers.py (modifier groups and their answers) and availability.py (86 and back); inputs.py reads prices
and percentages as people type them, guards.py holds what the rooms share and events.py what they announce.

Every command runs inside the caller's write transaction, refuses bad input with a message a manager can act
on (and then changes nothing, because the transaction rolls back), and leaves an audit entry with the record
before and after. Nothing history points to is ever deleted: records are archived, and archived ones can be
restored.

This module keeps the names other packages call (the API, the stockroom, promotions) until they import the
rooms themselves.
"""

from __future__ import annotations

from app.menu.availability import eighty_six, un_eighty_six
from app.menu.inputs import parse_percent, parse_price
from app.menu.items import ItemFields, archive_item, create_item, item_fields, restore_item, update_item

__all__ = [
    "ItemFields",
    "archive_item",
    "create_item",
    "eighty_six",
    "item_fields",
    "parse_percent",
    "parse_price",
    "restore_item",
    "un_eighty_six",
    "update_item",
]
