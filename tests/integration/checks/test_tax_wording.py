"""How the guest reads the tax on the check: rounded per line, a rate's tax need not be its rate times its base,
so the check says how it was reached instead of printing a base it does not match; rounded per check, it
names the base, and the base reconciles."""

from __future__ import annotations

from typing import Any

import pytest

from app.kitchen.models import Printer, PrintJob
from app.lib.settings import Settings
from printers.queue import job_bytes
from tests.integration.checks.arrange import money, post, ring_in, rows
from tests.support.escpos_decoder import decode

# Two carbonaras at €17.50 and 9 %: 1.575 rounds to 1.58 on each line (3.16), while 9 % of 35.00 is 3.15.
TWO_CARBONARAS = [(1, "PA-CAR"), (2, "PA-CAR")]
FOOD = "Food & soft drinks 9 %"
FOOD_HTML = "Food &amp; soft drinks 9 %"


@pytest.fixture(params=["per_line", "per_check"])
def tax_rounding(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def settings(settings: Settings, tax_rounding: str) -> Settings:
    return settings.model_copy(update={"tax_rounding": tax_rounding})


async def test_the_guest_check_says_how_its_tax_was_rounded(server: Any, runtime: Any, tax_rounding: str) -> None:
    arranged = await ring_in(runtime, items=TWO_CARBONARAS)
    [food] = [t for t in (await money(runtime, arranged.check_id)).totals.taxes if t.rate.name == FOOD]
    assert food.taxable_base == 3500
    response = await post(server, runtime, arranged.check_id, "settle/print")
    assert response.status_code == 200, response.text
    [job] = await rows(runtime, PrintJob, PrintJob.kind == "guest_check")
    [printer] = await rows(runtime, Printer, Printer.id == job.printer_id)
    paper = decode(job_bytes(job, primary=printer, target=printer))
    printed = " ".join(paper.line(FOOD).text.split())
    settle = await server.get(f"/checks/{arranged.check_id}/settle")
    if tax_rounding == "per_line":
        assert food.tax == 316
        tax_lines = paper.lines[paper.lines.index("Tax rounded per line:") :]
        assert tax_lines[1].startswith(f"  {FOOD}"), "the rate follows the note, indented under it"
        assert printed == f"{FOOD} €3.16"
        assert f"{FOOD_HTML} (rounded per line)</th><td>€3.16</td>" in settle.text
        assert "on €35.00" not in paper.text + settle.text, "no base that 3.16 does not match"
    else:
        assert food.tax == 315
        assert "rounded per line" not in paper.text
        assert printed == f"{FOOD} on €35.00 €3.15", "9 % of 35.00 is 3.15: the base reconciles"
        assert f"{FOOD_HTML} on €35.00</th><td>€3.15</td>" in settle.text
        assert "rounded per line" not in settle.text
