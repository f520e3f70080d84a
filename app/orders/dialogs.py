"""What the order-entry dialogs hold in their fields: a line as it stands, or what the server typed before the
check changed under them on another tablet (kept, so nothing typed is lost and it can be sent again)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from app.menu.models import Course
from app.orders.models import CheckLine, LineState
from app.orders.queries import LineView

if TYPE_CHECKING:
    from app.orders.controller_helpers import ItemForm, LineChangeForm, VoidForm

ITEM_DIALOG = "item-form"
"""The id of the item dialog's form (htmx names it in the HX-Trigger header of what it posts)."""
LINE_DIALOG = "line-form"
"""The id of the form that changes an unsent line."""
VOID_DIALOG = "void-form"
"""The id of the form that voids a line after send."""
CHOICE_FIELD = "choice_"
"""Prefix of the field a choose-one group's radio buttons share: one name per group, so each keeps its own answer."""


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "on", "true", "yes"}


def _quoted(note: str) -> str:
    return f"note “{note}”" if note else "no note"


@dataclass(frozen=True)
class ItemDraft:
    """The item dialog's fields: empty for a new line, or the choices and typing a refused request carried."""

    quantity: str = "1"
    note: str = ""
    hold: bool = False
    chosen: frozenset[int] = frozenset()

    @classmethod
    def typed(cls, data: ItemForm) -> ItemDraft:
        """What the server had chosen and typed in the dialog."""
        return cls(
            quantity=data.quantity.strip() or "1",
            note=data.note,
            hold=_flag(data.hold),
            chosen=frozenset(data.modifier_id),
        )


@dataclass(frozen=True)
class LineDraft:
    """The line dialog's fields: the line as it stands, or with what the server typed over it."""

    quantity: str
    seat: str
    course: str
    held: bool
    rush: bool
    note: str
    reason: str = ""
    void_quantity: str = ""

    @classmethod
    def of(cls, line: CheckLine) -> LineDraft:
        """The line as it stands on the check."""
        quantity = str(line.quantity_num) if line.quantity_den == 1 else f"{line.quantity_num}/{line.quantity_den}"
        return cls(
            quantity=quantity,
            seat=str(line.seat) if line.seat else "shared",
            course=line.course.value,
            held=line.state == LineState.HELD,
            rush=line.rush,
            note=line.note or "",
            void_quantity=quantity,
        )

    def with_changes(self, data: LineChangeForm) -> LineDraft:
        """This line with the changes typed into its dialog (quantity, seat, course, hold, rush, note)."""
        return replace(
            self,
            quantity=data.quantity if data.quantity is not None else self.quantity,
            seat=(data.seat.strip().lower() or "shared") if data.seat is not None else self.seat,
            course=data.course or self.course,
            held=_flag(data.hold) if data.hold is not None else self.held,
            rush=_flag(data.rush) if data.rush is not None else self.rush,
            note=data.note if data.note is not None else self.note,
        )

    def with_void(self, data: VoidForm) -> LineDraft:
        """This line with the void typed into its dialog (reason and how many); never the PIN."""
        return replace(self, reason=data.reason, void_quantity=data.quantity.strip() or self.void_quantity)

    def changes(self) -> tuple[str, str, str, bool, bool, str]:
        """The fields a server changes on an unsent line."""
        return (self.quantity, self.seat, self.course, self.held, self.rush, self.note)

    def summary(self) -> str:
        """The fields in a sentence: 'qty 2, seat 1, mains, held, note “no basil”'."""
        seat = "shared" if self.seat == "shared" else f"seat {self.seat}"
        course = next((c.label for c in Course if c.value == self.course), self.course)
        parts = [f"qty {self.quantity}", seat, course]
        if self.held:
            parts.append("held")
        if self.rush:
            parts.append("rush")
        parts.append(_quoted(self.note))
        return ", ".join(parts)


def now_on_the_check(lv: LineView) -> str:
    """The line as it stands now, in the words the dialog shows beside what was typed."""
    line = lv.line
    fresh = LineDraft.of(line)
    seat = "shared" if line.seat is None else f"seat {line.seat}"
    where = "held" if line.state == LineState.HELD else "not sent" if line.state == LineState.PENDING else "sent"
    parts = [f"qty {fresh.quantity}", seat, line.course.label, where]
    if line.rush:
        parts.append("rush")
    parts.append(_quoted(fresh.note))
    return ", ".join(parts)
