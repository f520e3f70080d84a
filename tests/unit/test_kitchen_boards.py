"""Board read models: all-day counts, ticket-time summaries, quantity labels, websocket origin checks."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from app.kitchen.models import StationKind, TicketKind, quantity_label
from app.kitchen.queries import LineView, TicketView, all_day_counts, timing_summary
from kds.controllers import origin_allowed

FIRED = datetime(2025, 3, 14, 19, 42, tzinfo=UTC)


def item(name: str, qty: Fraction, *, bumped: bool = False, voided: bool = False) -> LineView:
    return LineView(
        id=0,
        name=name,
        part_of=None,
        quantity=qty,
        quantity_label=quantity_label(qty),
        seat=None,
        course=None,
        note=None,
        modifiers=(),
        voided=voided,
        bumped=bumped,
        rush=False,
        unrouted_reason=None,
    )


def ticket(*lines: LineView, kind: TicketKind = TicketKind.NEW, is_open: bool = True, ticket_id: int = 1) -> TicketView:
    return TicketView(
        id=ticket_id,
        version=1,
        station_id=1,
        station_name="Grill",
        is_expo=False,
        kind=kind,
        is_open=is_open,
        course="Mains",
        table_label="Table 1",
        check_number=1,
        server_name="Lena",
        covers=2,
        fired_at=FIRED,
        bumped_at=None,
        rush=False,
        changed=False,
        has_unrouted=False,
        lines=lines,
    )


def test_all_day_counts_add_up_what_is_still_to_make() -> None:
    counts = all_day_counts(
        [
            ticket(item("Rib-eye", Fraction(2)), item("Burger", Fraction(1))),
            ticket(item("Rib-eye", Fraction(1)), item("Burger", Fraction(1), bumped=True), ticket_id=2),
            ticket(item("Rib-eye", Fraction(5)), kind=TicketKind.VOID, ticket_id=3),
            ticket(item("Rib-eye", Fraction(4)), is_open=False, ticket_id=4),
            ticket(item("Salmon", Fraction(1), voided=True), item("Cava", Fraction(1, 4)), ticket_id=5),
        ]
    )
    assert [(c.name, c.label) for c in counts] == [("Rib-eye", "3"), ("Burger", "1"), ("Cava", "1/4")]


def test_quantities_read_as_the_kitchen_says_them() -> None:
    assert [quantity_label(Fraction(n, d)) for n, d in [(2, 1), (1, 4), (3, 2)]] == ["2", "1/4", "1 1/2"]


def test_ticket_times_summarise_average_median_p90_and_longest() -> None:
    summary = timing_summary(1, "Grill", [300, 600, 420, 900, 480, 360, 540, 720, 660, 1200])
    assert (summary.tickets, summary.average_s, summary.median_s, summary.p90_s, summary.longest_s) == (
        10,
        618,
        540,
        900,
        1200,
    )
    assert timing_summary(2, "Fry", []).tickets == 0


def test_rushed_tickets_sort_before_older_ones() -> None:
    old = ticket(ticket_id=1)
    rushed = TicketView(**{**old.__dict__, "id": 2, "rush": True, "fired_at": FIRED.replace(hour=20)})
    assert sorted([old, rushed], key=lambda t: t.sort_key)[0].id == 2


def test_a_websocket_origin_must_be_this_site() -> None:
    assert origin_allowed("http://pos.local:8000", "pos.local:8000", "ws", [])
    assert origin_allowed("https://pos.example", "pos.example", "wss", [])
    assert not origin_allowed("http://pos.example", "pos.example", "wss", [])
    assert not origin_allowed("http://evil.example", "pos.local:8000", "ws", [])
    assert not origin_allowed(None, "pos.local:8000", "ws", [])
    assert origin_allowed("http://tablet.local", "pos.local", "ws", ["http://tablet.local"])


def test_station_kinds_include_expo() -> None:
    assert StationKind("expo") is StationKind.EXPO
