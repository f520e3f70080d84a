"""Tables of the checks domain."""

from __future__ import annotations
