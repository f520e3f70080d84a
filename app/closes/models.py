"""Tables of the closes domain."""

from __future__ import annotations
