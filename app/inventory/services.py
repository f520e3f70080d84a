"""Inventory commands, offered in one place; each lives in a room of its own inside app/inventory.

- items.py: stock items, locations and par levels (adding, watching for auto-86, archiving)
- recipes.py: how much of each stock item a menu item or modifier uses
- depletion.py: what sold lines used, by recipe: out for a sale, waste for a void, back for a refund
- deliveries.py, counts.py, transfers.py, waste.py: what the stockroom does on its own
- supplier_returns.py: goods going back to a supplier
- operations.py: one stock operation, the only way stock changes (once per source key, valued, 86s
  followed, the ledger owed through the outbox); levels.py: where stock stands; outages.py: 86 and back

The functions a posting layer calls: `deplete_for_sale`, `waste_for_void`, `return_for_refund`;
each returns its moves, and `total_cost_cents(moves)` is what left the stockroom. What the stockroom
does on its own (a delivery, a count, waste it records) owes the ledger an entry: those operations
write an outbox message on `STOCK_BOOKED_TOPIC` in their own transaction, and the posting layer
delivers it once.
"""

from __future__ import annotations

from app.inventory.counts import CountLine as CountLine
from app.inventory.counts import record_count as record_count
from app.inventory.deliveries import ReceiptLine as ReceiptLine
from app.inventory.deliveries import receive_delivery as receive_delivery
from app.inventory.depletion import SaleLine as SaleLine
from app.inventory.depletion import deplete_for_sale as deplete_for_sale
from app.inventory.depletion import return_for_refund as return_for_refund
from app.inventory.depletion import waste_for_void as waste_for_void
from app.inventory.items import NAME_MAX as NAME_MAX
from app.inventory.items import archive_stock_item as archive_stock_item
from app.inventory.items import create_location as create_location
from app.inventory.items import create_stock_item as create_stock_item
from app.inventory.items import set_item_counted as set_item_counted
from app.inventory.items import set_par as set_par
from app.inventory.levels import checked_quantity
from app.inventory.operations import KEY_MAX as KEY_MAX
from app.inventory.operations import LINES_MAX as LINES_MAX
from app.inventory.operations import NOTE_MAX as NOTE_MAX
from app.inventory.operations import STOCK_BOOKED_TOPIC as STOCK_BOOKED_TOPIC
from app.inventory.operations import StockMoved as StockMoved
from app.inventory.operations import moves_of as moves_of
from app.inventory.operations import total_cost_cents as total_cost_cents
from app.inventory.recipes import set_recipe_component as set_recipe_component
from app.inventory.transfers import transfer_stock as transfer_stock
from app.inventory.waste import record_waste as record_waste

_quantity = checked_quantity  # the name purchasing reads quantities with
