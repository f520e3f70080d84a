"""A posting that cannot be made waits on the exceptions page with its reason; fixing and retrying posts it once."""

from __future__ import annotations

from typing import Any

from app.accounting.models import JournalEntry
from app.checks.terminal import SimulatedTerminal
from app.closes.models import CheckPosting, ExceptionStatus, MappingKind, PostingException, PostingMapping
from app.lib.outbox import OutboxMessage
from tests.integration.closes.arrange import deliver, entries, pay, rows, serve, unmap_category

REASON = "Missing mapping: no revenue account is mapped for From the Grill. Fix it on the mappings page, then retry."


async def test_a_missing_mapping_goes_to_the_exceptions_page_and_a_retry_after_the_fix_posts_once(
    manager: Any, runtime: Any, terminal: SimulatedTerminal, cash_drawer: Any
) -> None:
    category_id = await unmap_category(runtime, "From the Grill")
    served = await serve(runtime, ["GR-BUR", "BR-PIL"])
    await pay(runtime, terminal, served, "Cash")
    await deliver(runtime)
    # Not a crash: the message is delivered, nothing is half posted, the reason is kept.
    assert all(m.delivered_at for m in await rows(runtime, OutboxMessage, OutboxMessage.topic == "checks.closed"))
    assert await entries(runtime, JournalEntry.source_type == "check") == []
    assert await rows(runtime, CheckPosting) == []
    [exception] = await rows(runtime, PostingException)
    assert (exception.source_key, exception.reason) == (f"close:{served.check_id}:1", REASON)
    page = await manager.get("/closes/exceptions")
    assert page.status_code == 200
    assert "no revenue account is mapped for From the Grill" in page.text
    assert f"/closes/exceptions/{exception.id}/retry" in page.text
    still = await manager.post(f"/closes/exceptions/{exception.id}/retry")
    assert still.status_code == 200
    assert "Still not posted" in still.text
    fixed = await manager.post(
        "/closes/mappings", {"kind": "category", "subject": str(category_id), "account_code": "4010"}
    )
    assert fixed.status_code == 200, fixed.text
    retried = await manager.post(f"/closes/exceptions/{exception.id}/retry")
    assert retried.status_code == 200
    assert f"Posted close:{served.check_id}:1" in retried.text
    again = await manager.post(f"/closes/exceptions/{exception.id}/retry")
    assert again.status_code == 200
    assert len(await entries(runtime, JournalEntry.source_type == "check")) == 1
    assert len(await rows(runtime, CheckPosting)) == 1
    [exception] = await rows(runtime, PostingException)
    assert exception.status is ExceptionStatus.RESOLVED
    assert exception.attempts == 2


async def test_a_mapping_to_an_account_not_in_the_chart_is_refused_and_changes_nothing(
    manager: Any, runtime: Any
) -> None:
    before = await rows(runtime, PostingMapping, PostingMapping.kind == MappingKind.ACCOUNT)
    response = await manager.post(
        "/closes/mappings", {"kind": "account", "subject": "tips_payable", "account_code": "9999"}
    )
    assert response.status_code == 422
    assert "Account 9999 is not in the chart of accounts." in response.text
    unknown = await manager.post(
        "/closes/mappings", {"kind": "account", "subject": "petty_theft", "account_code": "2020"}
    )
    assert unknown.status_code == 422
    assert "does not exist" in unknown.text
    no_location = await manager.post("/closes/mappings", {"kind": "station", "subject": "default"})
    assert no_location.status_code == 422
    after = await rows(runtime, PostingMapping, PostingMapping.kind == MappingKind.ACCOUNT)
    assert [(m.subject, m.account_code) for m in after] == [(m.subject, m.account_code) for m in before]


async def test_servers_may_not_see_exceptions_nor_retry_nor_change_mappings(
    server: Any, manager: Any, runtime: Any
) -> None:
    assert (await server.get("/closes/exceptions")).status_code == 403
    assert (await server.get("/closes/mappings")).status_code == 403
    assert (await server.post("/closes/exceptions/1/retry")).status_code == 403
    assert (
        await server.post("/closes/mappings", {"kind": "account", "subject": "comps", "account_code": "4010"})
    ).status_code == 403


async def test_the_mappings_page_lists_every_subject_and_flags_gaps(manager: Any, runtime: Any) -> None:
    await unmap_category(runtime, "Desserts")
    page = await manager.get("/closes/mappings")
    assert page.status_code == 200
    assert "Desserts" in page.text
    assert "1 missing" in page.text
    fragment = await manager.post("/closes/mappings/defaults")
    assert fragment.status_code == 200
    assert "Filled 1 mapping from the standard chart." in fragment.text
    assert "<html" not in fragment.text


async def test_retrying_an_unknown_exception_says_so(manager: Any) -> None:
    response = await manager.post("/closes/exceptions/999999/retry")
    assert response.status_code == 404
    assert "does not exist" in response.text
