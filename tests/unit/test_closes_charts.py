"""Charts are drawn on the server as SVG, with every label escaped."""

from __future__ import annotations

from app.closes.charts import bar_chart, column_chart
from app.closes.reports import Bar


def test_a_bar_chart_draws_one_bar_per_value_with_its_amount() -> None:
    svg = str(bar_chart([Bar("Food", 125_000), Bar("Drinks", 40_050, "12")], title="By category"))
    assert svg.startswith("<svg")
    assert svg.count("<rect") == 2
    assert "1,250.00" in svg
    assert "400.50 (12)" in svg


def test_labels_are_escaped_so_a_menu_name_cannot_inject_markup() -> None:
    svg = str(column_chart([Bar("<script>alert(1)</script>", 100)], title="Hours & <b>"))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "Hours &amp; &lt;b&gt;" in svg


def test_an_empty_chart_says_there_is_nothing_yet() -> None:
    assert "Nothing to show yet" in str(bar_chart([], title="Empty"))
    assert "Nothing to show yet" in str(column_chart([], title="Empty"))


def test_seconds_read_as_minutes_and_negative_money_is_drawn() -> None:
    assert "4:05" in str(bar_chart([Bar("Grill", 245)], title="Times", unit="seconds"))
    assert "-5.00" in str(bar_chart([Bar("Short", -500)], title="Over/short"))
