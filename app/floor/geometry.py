"""The floor plan's geometry, pure: the grid, a table's box kept inside its plan, free spots, outlines and overlaps.

Positions and sizes are plan units on a 10-unit grid. A table's box is its unrotated box; rotation turns it about
its centre; a round table or bar seat covers the ellipse inside its box.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from app.floor.models import Floor, TableShape
from app.lib.errors import InvalidInput

GRID: Final = 10
SIZE_MIN, SIZE_MAX = 20, 1000


@dataclass(frozen=True)
class Geometry:
    """Where a table stands: its unrotated box in plan units and its rotation in degrees."""

    x: int
    y: int
    width: int
    height: int
    rotation: int = 0


def snap(value: int, grid: int = GRID) -> int:
    """The nearest grid line (halves round up)."""
    return ((value + grid // 2) // grid) * grid


def snapped(geometry: Geometry, floor: Floor) -> Geometry:
    """A valid geometry moved onto the grid, nudged back inside the plan if the snap pushed it out."""
    width, height = snap(geometry.width), snap(geometry.height)
    return Geometry(
        x=max(0, min(snap(geometry.x), floor.width - width)),
        y=max(0, min(snap(geometry.y), floor.height - height)),
        width=width,
        height=height,
        rotation=geometry.rotation,
    )


def placed(geometry: Geometry, floor: Floor, *, label: str = "The table") -> Geometry:
    """Where a table may stand: the geometry checked against the plan's rules, then snapped to the grid."""
    return snapped(check_geometry(geometry, floor, label=label), floor)


def check_geometry(geometry: Geometry, floor: Floor, *, label: str = "The table") -> Geometry:
    """Refuse a box outside the plan, a size outside 20..1000 or a rotation outside 0..359."""
    for name, value in (("Width", geometry.width), ("Height", geometry.height)):
        if not SIZE_MIN <= value <= SIZE_MAX:
            raise InvalidInput(f"{name} must be between {SIZE_MIN} and {SIZE_MAX} plan units.")
    if not 0 <= geometry.rotation <= 359:
        raise InvalidInput("Rotation must be between 0 and 359 degrees.")
    if geometry.x < 0 or geometry.y < 0:
        raise InvalidInput(f"{label} would stand outside the plan (left or top edge).")
    if geometry.x + geometry.width > floor.width or geometry.y + geometry.height > floor.height:
        raise InvalidInput(
            f"{label} would stand outside the plan ({floor.width} by {floor.height}); move it in or make it smaller."
        )
    return geometry


def _bounds(geometry: Geometry) -> tuple[float, float, float, float]:
    """Left, top, right and bottom of the box a table covers once rotated."""
    xs, ys = zip(*outline(geometry, TableShape.SQUARE), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def free_spot(width: int, height: int, plan: tuple[int, int], taken: Iterable[Geometry]) -> tuple[int, int] | None:
    """The first grid position, reading the plan like a page, where a box fits without touching another.

    None when the plan has no such spot left.
    """
    plan_width, plan_height = plan
    boxes = [
        (left - GRID, top - GRID, right + GRID, bottom + GRID)
        for left, top, right, bottom in (_bounds(g) for g in taken)
    ]
    step = 2 * GRID
    for y in range(step, plan_height - height + 1, step):
        for x in range(step, plan_width - width + 1, step):
            if all(
                x + width <= left or x >= right or y + height <= top or y >= bottom
                for left, top, right, bottom in boxes
            ):
                return x, y
    return None


# An ellipse is drawn as a polygon of this many corners: within 0.5 % of its radius, and convex.
ELLIPSE_CORNERS: Final = 32
# Tables that only touch (an edge on an edge) do not overlap; nor does a rounding error of the polygon.
OVERLAP_TOLERANCE: Final = 0.5


def outline(geometry: Geometry, shape: TableShape) -> list[tuple[float, float]]:
    """The outline a table covers on the plan, as a convex polygon: its box or ellipse, turned about its centre."""
    half_w, half_h = geometry.width / 2, geometry.height / 2
    if shape in (TableShape.ROUND, TableShape.BAR_SEAT):
        corners = [
            (half_w * math.cos(2 * math.pi * k / ELLIPSE_CORNERS), half_h * math.sin(2 * math.pi * k / ELLIPSE_CORNERS))
            for k in range(ELLIPSE_CORNERS)
        ]
    else:
        corners = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
    # The plan's y axis points down, so a positive rotation turns clockwise on screen, as SVG draws it.
    angle = math.radians(geometry.rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = geometry.x + half_w, geometry.y + half_h
    return [(cx + px * cos - py * sin, cy + px * sin + py * cos) for px, py in corners]


def outlines_overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> bool:
    """Whether two convex outlines share more than an edge (separating axis test)."""
    for polygon in (a, b):
        for index, (x1, y1) in enumerate(polygon):
            x2, y2 = polygon[(index + 1) % len(polygon)]
            normal_x, normal_y = y1 - y2, x2 - x1
            length = math.hypot(normal_x, normal_y)
            if not length:
                continue
            on_a = [(x * normal_x + y * normal_y) / length for x, y in a]
            on_b = [(x * normal_x + y * normal_y) / length for x, y in b]
            if min(max(on_a), max(on_b)) - max(min(on_a), min(on_b)) <= OVERLAP_TOLERANCE:
                return False
    return True


def tables_overlap(a: tuple[Geometry, TableShape], b: tuple[Geometry, TableShape]) -> bool:
    """Whether two tables, each placed with its shape, would stand on each other."""
    return outlines_overlap(outline(*a), outline(*b))
