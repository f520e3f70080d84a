"""Promotions: scheduled price rules (happy hour, quantity deals, set menus) applied as lines are rung in."""
