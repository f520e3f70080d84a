"""End-of-day close: cash drawers, server checkouts, tip pools, business days, Z report."""
