"""Checks and money: totals and tax, discounts and comps, splits, payments, tips, receipts."""
