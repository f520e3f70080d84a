"""Pages and endpoints for settling checks: split, discounts and comps, pay, tip, close, print, reopen, refund."""

from __future__ import annotations

from typing import Any

from app.checks.payment_controllers import pay, refund, refund_page, reopen, resolve, tip_adjust
from app.checks.settle_controllers import (
    choose_printer,
    clear_table,
    close,
    comp,
    comp_remove,
    discount,
    discount_remove,
    print_check,
    print_receipt,
    send_unsent,
    service_charge_waive,
    settle_page,
    void_unsent,
)
from app.checks.split_controllers import (
    split_amounts,
    split_even,
    split_items,
    split_page,
    split_seat,
    split_share,
    split_undo,
)
from app.checks.tender_controllers import tender_archive, tender_save, tenders_page

ROUTES: list[Any] = [
    settle_page,
    discount,
    discount_remove,
    comp,
    comp_remove,
    service_charge_waive,
    close,
    send_unsent,
    void_unsent,
    print_check,
    print_receipt,
    clear_table,
    choose_printer,
    split_page,
    split_seat,
    split_items,
    split_share,
    split_even,
    split_amounts,
    split_undo,
    pay,
    resolve,
    tip_adjust,
    reopen,
    refund_page,
    refund,
    tenders_page,
    tender_save,
    tender_archive,
]
