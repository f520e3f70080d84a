"""Gift cards: sold on a check as a liability, activated when it is paid, spent as a tender."""
