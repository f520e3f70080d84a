"""Charts are drawn on the server as SVG, with every label escaped."""

from __future__ import annotations

import re
from pathlib import Path

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


def _hours(values: dict[str, int]) -> list[Bar]:
    return [Bar(f"{hour:02d}", values.get(f"{hour:02d}", 0)) for hour in (*range(11, 24), 0, 1, 2)]


def test_only_hours_with_sales_carry_a_value_label() -> None:
    svg = str(column_chart(_hours({"12": 41_250, "19": 98_000}), title="Net sales by hour"))
    values = re.findall(r'class="v">([^<]*)<', svg)
    assert values == ["412.50", "980.00"], "no row of 0.00 labels"
    assert svg.count("<rect") == 16, "every hour keeps its place on the axis"
    assert re.findall(r'class="l">([^<]*)<', svg)[:3] == ["11", "12", "13"]


def test_a_day_without_sales_in_these_hours_says_so() -> None:
    svg = str(column_chart(_hours({}), title="Net sales by hour", empty="No sales in these hours"))
    assert "No sales in these hours" in svg
    assert "0.00" not in svg
    assert "<rect" not in svg


def test_chart_text_is_drawn_at_tablet_size_and_never_stretched() -> None:
    for svg in (
        str(column_chart(_hours({"12": 100}), title="Hours")),
        str(bar_chart([Bar("Wine", 35_790)], title="Categories")),
    ):
        assert 'viewBox="0 0 480 ' in svg
        assert 'width="480"' in svg, "drawn at its own size: a wide screen does not blow the text up"
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "closes.css").read_text()
    size = re.search(r"svg\.chart text \{ font: (\d+)px", css)
    assert size is not None
    # The charts' cards are about 450 px wide at 1024 px: 480 units shrink by 0.94, 15-unit text reads at 14 px.
    assert int(size.group(1)) * 450 / 480 >= 14


def test_crowded_values_stand_upright_and_crowded_labels_are_thinned() -> None:
    busy = [Bar(f"{hour:02d}", 120_000 + hour) for hour in range(11, 24)]
    svg = str(column_chart(busy, title="Net sales by hour"))
    assert svg.count('transform="rotate(-90') == 13, "1,200.11 does not fit across a 35-unit column"
    month = [Bar(f"{day:02d} Mar", 10_000) for day in range(1, 32)]
    labels = re.findall(r'class="l">([^<]*)<', str(column_chart(month, title="Net sales by day")))
    assert 5 <= len(labels) < 31, "every few days named, none over another"
    assert labels[0] == "01 Mar"
