"""The settle page shows the bill from the one totals function, as a page and as a fragment."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.checks.arrange import FOUR_TOP, ring_in


async def test_the_settle_page_shows_every_seat_and_the_total(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    page = await server.get(f"/checks/{arranged.check_id}/settle")
    assert page.status_code == 200, page.text
    for seat in ("Seat 1", "Seat 2", "Seat 3", "Seat 4", "Shared"):
        assert seat in page.text
    assert "Spaghetti Carbonara" in page.text
    assert re.search(r'data-total="\d+"', page.text)
    fragment = await server.get(f"/checks/{arranged.check_id}/settle", htmx=True)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="settle"')


async def test_the_split_page_shows_the_check_as_one_column(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=FOUR_TOP, bottle=True)
    page = await server.get(f"/checks/{arranged.check_id}/split")
    assert page.status_code == 200, page.text
    assert "By seat" in page.text
    fragment = await server.get(f"/checks/{arranged.check_id}/split", htmx=True)
    assert fragment.text.lstrip().startswith('<section id="split"')
