"""The check page's routes, assembled from its rooms."""

from __future__ import annotations

from typing import Any

from app.orders import floor_view
from app.orders.check_page_controllers import (
    actions_sheet,
    check_live,
    check_page,
    check_panel,
    item_sheet,
    line_sheet,
    menu_buttons,
)
from app.orders.line_controllers import add_line, course_action, repeat_line, send, update_line, void_line
from app.orders.seating_controllers import clear_table, merge, move, open_check, set_covers, transfer

ROUTES: list[Any] = [
    *floor_view.ROUTES,
    check_page,
    check_panel,
    item_sheet,
    line_sheet,
    actions_sheet,
    menu_buttons,
    check_live,
    open_check,
    clear_table,
    add_line,
    update_line,
    repeat_line,
    void_line,
    send,
    course_action,
    set_covers,
    transfer,
    merge,
    move,
]
