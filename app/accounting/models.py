"""Tables of the accounting domain."""

from __future__ import annotations
