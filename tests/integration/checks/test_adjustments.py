"""Discounts and comps: reasons, permissions, a manager's PIN in the same flow, distinct in the totals."""

from __future__ import annotations

from typing import Any

from app.checks.models import CheckComp, CheckDiscount
from app.lib.audit import AuditEntry
from app.staff.models import Staff
from tests.integration.checks.arrange import money, post, ring_in, rows

DINNER = [(1, "PA-CAR"), (1, "BR-CID"), (2, "PA-RIS"), (2, "SD-LEM")]


async def test_a_server_needs_a_manager_pin_to_discount_and_the_pin_approves_it(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=DINNER)
    line = arranged.line_ids["PA-CAR"]
    form = {"line_id": str(line), "kind": "percent", "value": "10", "reason": "Loyalty"}
    refused = await post(server, runtime, arranged.check_id, "settle/discount", form)
    assert refused.status_code == 403
    assert "PIN is needed to give a discount" in refused.text
    assert await rows(runtime, CheckDiscount) == []
    wrong = await post(server, runtime, arranged.check_id, "settle/discount", {**form, "manager_pin": "1234"})
    assert wrong.status_code == 403
    assert "not right" in wrong.text
    assert await rows(runtime, AuditEntry, AuditEntry.action == "approval.pin_refused")
    approved = await post(server, runtime, arranged.check_id, "settle/discount", {**form, "manager_pin": "9999"})
    assert approved.status_code == 200, approved.text
    [discount] = await rows(runtime, CheckDiscount)
    manager = (await rows(runtime, Staff, Staff.name == "Nora Vance"))[0]
    assert discount.approved_by == manager.id
    assert discount.percent_bp == 1000
    summary = await money(runtime, arranged.check_id)
    assert summary.line_totals[line].discount == 175
    [entry] = await rows(runtime, AuditEntry, AuditEntry.action == "checks.discount")
    assert entry.approver_id == manager.id
    assert entry.reason == "Loyalty"


async def test_voids_comps_and_discounts_are_distinct_in_the_totals(manager: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=DINNER, server_name="Nora Vance")
    comp = await post(
        manager,
        runtime,
        arranged.check_id,
        "settle/comp",
        {"line_id": str(arranged.line_ids["SD-LEM"]), "reason": "Long wait"},
    )
    assert comp.status_code == 200, comp.text
    discount = await post(
        manager,
        runtime,
        arranged.check_id,
        "settle/discount",
        {"kind": "amount", "value": "5.00", "reason": "other", "reason_other": "Birthday dessert"},
    )
    assert discount.status_code == 200, discount.text
    from app.orders import voids

    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=arranged.check_id,
            line_id=arranged.line_ids["BR-CID"],
            actor=(await rows(runtime, Staff, Staff.name == "Nora Vance"))[0],
            expected_version=None,
            reason="Spilled",
        )
    totals = (await money(runtime, arranged.check_id)).totals
    assert totals.voids == 600
    assert totals.comps == 450
    assert totals.discounts == 500
    assert totals.gross - totals.discounts - totals.comps == totals.subtotal
    [row] = await rows(runtime, CheckDiscount)
    assert row.reason == "Birthday dessert"
    assert [c.reason for c in await rows(runtime, CheckComp)] == ["Long wait"]


async def test_bad_discounts_are_refused_and_change_nothing(manager: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=DINNER, server_name="Nora Vance")
    line = str(arranged.line_ids["SD-LEM"])
    for form, text in (
        ({"line_id": line, "kind": "amount", "value": "50.00", "reason": "Loyalty"}, "more than"),
        ({"line_id": line, "kind": "percent", "value": "150", "reason": "Loyalty"}, "at most 100"),
        ({"line_id": line, "kind": "percent", "value": "ten", "reason": "Loyalty"}, "as a percent"),
        ({"line_id": line, "kind": "percent", "value": "10", "reason": "other"}, "reason is required"),
        ({"line_id": "999999", "kind": "percent", "value": "10", "reason": "Loyalty"}, "not on check"),
    ):
        response = await post(manager, runtime, arranged.check_id, "settle/discount", form)
        assert response.status_code in (404, 409, 422), (form, response.text)
        assert text in response.text, (form, response.text)
    assert await rows(runtime, CheckDiscount) == []


async def test_taking_a_comp_off_puts_the_line_back_on_the_bill(manager: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=DINNER, server_name="Nora Vance")
    before = (await money(runtime, arranged.check_id)).totals.total
    await post(manager, runtime, arranged.check_id, "settle/comp", {"reason": "House guest"})
    assert (await money(runtime, arranged.check_id)).totals.total == 0
    [comp] = await rows(runtime, CheckComp)
    removed = await post(manager, runtime, arranged.check_id, f"settle/comp/{comp.id}/remove")
    assert removed.status_code == 200, removed.text
    assert (await money(runtime, arranged.check_id)).totals.total == before
    assert await rows(runtime, AuditEntry, AuditEntry.action == "checks.comp_remove")
