"""Promotions from ring-in to the books: the rule a line is rung in under is kept on it, collisions go to the
guest's best price, deals form and break as lines come and go, and the books carry promotions on their own
contra-revenue account, reversed exactly by refunds, reported per promotion, and exported files still check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from app.accounting.exports import export_ledger
from app.accounting.models import Account, JournalEntry, JournalLine
from app.checks import adjustments, payments, splits
from app.checks import refunds as check_refunds
from app.checks import services as checks
from app.checks.queries import check_money, load_check
from app.closes.models import CheckPosting, PostingKind
from app.closes.promotion_postings import promotion_report
from app.lib.errors import InvalidInput, ManagerApprovalRequired
from app.menu.models import MenuCategory, MenuItem
from app.orders import firing, voids
from app.orders import lines as order_lines
from app.promotions import services as promotions
from app.promotions.models import LinePromotion, Promotion
from app.promotions.services import PromotionInput
from tests.integration.accounting.test_exports import bean_check, hledger_check
from tests.integration.closes.arrange import deliver, key, pay, person, rows, serve

MANAGER = "Nora Vance"


async def _ids(runtime: Any) -> tuple[dict[str, int], dict[str, int]]:
    async with runtime.db.read() as session:
        items = {i.sku: i.id or 0 for i in (await session.exec(select(MenuItem))).all()}
        categories = {c.name: c.id or 0 for c in (await session.exec(select(MenuCategory))).all()}
    return items, categories


async def _create(runtime: Any, form: PromotionInput) -> Promotion:
    manager = await person(runtime, MANAGER)
    async with runtime.db.write() as session:
        return await promotions.create_promotion(session, form, actor=manager)


async def _add(runtime: Any, check_id: int, item_id: int, server: Any) -> int:
    async with runtime.db.write() as session:
        line = await order_lines.add_line(
            session,
            check_id=check_id,
            request=order_lines.LineRequest(menu_item_id=item_id, modifier_ids=await _first_answers(session, item_id)),
            actor=server,
            expected_version=None,
        )
    return line.id or 0


async def _first_answers(session: Any, item_id: int) -> tuple[int, ...]:
    from app.orders import queries as order_queries

    questions = await order_queries.modifier_questions(session, item_id)
    return tuple(o.id for q in questions for o in q.options[: q.min_choices])


async def _totals(runtime: Any, check_id: int) -> Any:
    async with runtime.db.read() as session:
        return (await check_money(session, await load_check(session, check_id))).totals


async def _lines_by_account(runtime: Any, entry_id: int) -> list[tuple[str, int, dict[str, str]]]:
    async with runtime.db.read() as session:
        found = (
            await session.exec(
                select(Account.code, JournalLine.amount_cents, JournalLine.dimensions)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(JournalLine.entry_id == entry_id)
                .order_by(col(JournalLine.id))
            )
        ).all()
    return [(code, cents, dict(dims or {})) for code, cents, dims in found]


async def test_a_happy_hour_is_kept_on_the_line_posted_on_its_own_account_and_refunded_exactly(
    runtime: Any, demo: None, terminal: Any, tmp_path: Path
) -> None:
    items, categories = await _ids(runtime)
    happy = await _create(
        runtime, PromotionInput(name="Happy hour", kind="percent", percent="50", category_id=categories["Cocktails"])
    )
    # Two rules match a Negroni: the guest gets the lower price (5.00 set beats 5.75 at half price).
    negroni = await _create(
        runtime, PromotionInput(name="Negroni night", kind="set_price", price="5.00", item_ids=[items["CK-NEG"]])
    )
    served = await serve(runtime, ["CK-NEG", "CK-SPR", "PA-CAR"])
    snapshots = {row.line_id: row for row in await rows_by_line(runtime)}
    assert snapshots[served.line_ids["CK-NEG"]].promotion_id == negroni.id
    assert snapshots[served.line_ids["CK-NEG"]].unit_off_cents == 1150 - 500
    assert snapshots[served.line_ids["CK-SPR"]].promotion_id == happy.id
    assert (snapshots[served.line_ids["CK-SPR"]].name, snapshots[served.line_ids["CK-SPR"]].unit_off_cents) == (
        "Happy hour",
        525,
    )
    assert served.line_ids["PA-CAR"] not in snapshots

    # Happy hour ends mid-check: the Spritz already rung in keeps its price, the next one is at full price.
    manager = await person(runtime, MANAGER)
    async with runtime.db.write() as session:
        await promotions.archive_promotion(session, happy.id or 0, actor=manager)
    second_spritz = await _add(runtime, served.check_id, items["CK-SPR"], served.server)
    totals = await _totals(runtime, served.check_id)
    by_line = {line.line_id: line for line in totals.lines}
    assert by_line[served.line_ids["CK-SPR"]].promotion == 525
    assert by_line[second_spritz].promotion == 0
    assert totals.promotions == 650 + 525
    assert totals.subtotal == totals.gross - 650 - 525

    async with runtime.db.write() as session:
        await firing.send(session, check_id=served.check_id, actor=served.server, expected_version=None)
    await pay(runtime, terminal, served)
    await deliver(runtime)
    [sale] = await rows(runtime, CheckPosting, CheckPosting.check_id == served.check_id)
    assert sale.entry_id is not None
    lines = await _lines_by_account(runtime, sale.entry_id)
    promoted = [(cents, dims) for code, cents, dims in lines if code == "4520"]
    assert sorted(promoted, key=lambda p: p[1]["promotion"]) == sorted(
        [(525, {"promotion": str(happy.id)}), (650, {"promotion": str(negroni.id)})], key=lambda p: p[1]["promotion"]
    )
    assert sum(cents for _, cents, _ in lines) == 0
    assert sale.gross_cents - sale.discounts_cents - sale.comps_cents - 1175 == sale.net_sales_cents

    # Refunding the Negroni gives back what the guest paid and takes its promotion off the contra account.
    async with runtime.db.read() as session:
        negroni_net = (await check_money(session, await load_check(session, served.check_id))).line_totals[
            served.line_ids["CK-NEG"]
        ]
    await check_refunds.refund(
        runtime.db,
        terminal,
        check_refunds.RefundRequest(
            check_id=served.check_id,
            actor=manager,
            reason="Guest changed their mind",
            idempotency_key=key(),
            line_ids=(served.line_ids["CK-NEG"],),
        ),
    )
    await deliver(runtime)
    [refund] = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.REFUND)
    assert refund.entry_id is not None
    refund_lines = await _lines_by_account(runtime, refund.entry_id)
    assert [(c, d) for code, c, d in refund_lines if code == "4520"] == [(-650, {"promotion": str(negroni.id)})]
    revenue_back = sum(c for code, c, d in refund_lines if "category" in d)
    assert revenue_back == negroni_net.net + 650, "revenue comes back gross, the promotion off its own account"
    async with runtime.db.read() as session:
        balance = (
            await session.exec(
                select(JournalLine.amount_cents)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(Account.code == "4520")
            )
        ).all()
    assert sum(balance) == 525, "only the Spritz's happy hour stays given"

    day = sale.business_day
    async with runtime.db.read() as session:
        report = {row.promotion_id: row for row in await promotion_report(session, day, day)}
    assert report[happy.id or 0].discount_cents == 525
    assert (report[happy.id or 0].checks, report[happy.id or 0].units) == (1, 1)
    assert report[happy.id or 0].promoted_net_cents > 0
    assert report[happy.id or 0].basket_net_cents > 0
    assert report[negroni.id or 0].discount_cents == 0
    assert report[negroni.id or 0].units == 0

    async with runtime.db.read() as session:
        entry_days = sorted({e.date for e in (await session.exec(select(JournalEntry))).all()})
        beancount = await export_ledger(session, start=entry_days[0], end=entry_days[-1], fmt="beancount")
        hledger = await export_ledger(session, start=entry_days[0], end=entry_days[-1], fmt="hledger")
    (tmp_path / "books.beancount").write_text(beancount)
    (tmp_path / "books.journal").write_text(hledger)
    checked = bean_check(tmp_path / "books.beancount")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = hledger_check(tmp_path / "books.journal")
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def rows_by_line(runtime: Any) -> list[LinePromotion]:
    async with runtime.db.read() as session:
        return list((await session.exec(select(LinePromotion))).all())


async def test_a_pair_breaks_when_one_is_voided_a_set_menu_forms_and_a_managers_discount_comes_on_top(
    runtime: Any, demo: None, terminal: Any
) -> None:
    items, _ = await _ids(runtime)
    pair = await _create(
        runtime,
        PromotionInput(
            name="2 ciders for 10", kind="quantity", price="10.00", deal_size="2", item_ids=[items["BR-CID"]]
        ),
    )
    await _create(
        runtime,
        PromotionInput(
            name="Menu du jour",
            kind="set_menu",
            price="30.00",
            set_menu={
                "starters": [items["ST-BUR"], items["ST-SOU"]],
                "mains": [items["PA-RIS"], items["PA-CAR"]],
                "dessert": [items["DS-CRB"]],
            },
        ),
    )
    served = await serve(runtime, ["BR-CID", "ST-BUR", "PA-RIS", "DS-CRB"], covers=2)
    second = await _add(runtime, served.check_id, items["BR-CID"], served.server)
    totals = await _totals(runtime, served.check_id)
    # two ciders 12.00 for 10.00; the set 12.50 + 19.00 + 8.50 = 40.00 for 30.00, spread by price (the tied half
    # cent goes to the first course in the set by name: dessert)
    assert totals.promotions == 200 + 1000
    by_line = {line.line_id: line for line in totals.lines}
    assert (by_line[served.line_ids["BR-CID"]].promotion, by_line[second].promotion) == (100, 100)
    assert [by_line[served.line_ids[s]].promotion for s in ("ST-BUR", "PA-RIS", "DS-CRB")] == [312, 475, 213]

    # each dish of the set is a line of its own course: it fires course by course like any other
    async with runtime.db.read() as session:
        courses = {
            line.course.value
            for line in (await check_money(session, await load_check(session, served.check_id))).lines
            if line.id in {served.line_ids[s] for s in ("ST-BUR", "PA-RIS", "DS-CRB")}
        }
    assert courses == {"starters", "mains", "dessert"}

    # the unsent second cider comes off: the first is at full price again
    async with runtime.db.write() as session:
        await voids.void_line(
            session, check_id=served.check_id, line_id=second, actor=served.server, expected_version=None
        )
    assert (await _totals(runtime, served.check_id)).promotions == 1000
    third = await _add(runtime, served.check_id, items["BR-CID"], served.server)
    assert (await _totals(runtime, served.check_id)).promotions == 1200
    # a void after send of one of the pair recomputes the same way
    async with runtime.db.write() as session:
        await firing.send(session, check_id=served.check_id, actor=served.server, expected_version=None)
    manager = await person(runtime, MANAGER)
    async with runtime.db.write() as session:
        await voids.void_line(
            session,
            check_id=served.check_id,
            line_id=third,
            actor=served.server,
            expected_version=None,
            reason="Spilled",
            approver=manager,
        )
    after = await _totals(runtime, served.check_id)
    assert after.promotions == 1000
    assert {line.line_id: line.promotion for line in after.lines}[served.line_ids["BR-CID"]] == 0
    assert pair.id is not None

    # A manager's discount on a promoted line still needs the discount permission, and is taken off what is left.
    with pytest.raises(ManagerApprovalRequired):
        async with runtime.db.write() as session:
            await adjustments.add_discount(
                session,
                check_id=served.check_id,
                actor=served.server,
                kind="percent",
                value="10",
                reason="Regular",
                line_id=served.line_ids["PA-RIS"],
            )
    async with runtime.db.write() as session:
        await adjustments.add_discount(
            session,
            check_id=served.check_id,
            actor=served.server,
            kind="percent",
            value="10",
            reason="Regular",
            line_id=served.line_ids["PA-RIS"],
            approver=manager,
        )
    risotto = {line.line_id: line for line in (await _totals(runtime, served.check_id)).lines}[
        served.line_ids["PA-RIS"]
    ]
    assert (risotto.promotion, risotto.discount) == (475, 143)  # 10 % of 19.00 - 4.75


BAD = [
    ({"kind": "percent", "percent": "0"}, "The percent off must be more than 0 and at most 100."),
    ({"kind": "percent", "percent": "101"}, "The percent off must be between 0 and 100 %."),
    ({"kind": "percent", "percent": "10", "start": "19:00", "end": "17:00"}, "must be after the start time"),
    ({"kind": "percent", "percent": "10", "start": "25:00"}, 'The start time must be a time between "00:00"'),
    ({"kind": "percent", "percent": "10", "first_day": "2026-12-24", "last_day": "2026-12-01"}, "is before"),
    ({"kind": "percent", "percent": "10", "weekdays": []}, "Choose at least one weekday"),
    ({"kind": "percent", "percent": "10", "item_ids": []}, "Choose a category or at least one item"),
    ({"kind": "quantity", "price": "10.00", "deal_size": "1"}, "A quantity deal is for 2 to 20 items"),
    ({"kind": "quantity", "price": "30.00", "deal_size": "2"}, "saves the guest nothing"),
    ({"kind": "set_menu", "price": "30.00", "item_ids": []}, "at least one dish to choose from for starters"),
    ({"kind": "free", "percent": "10"}, "Choose what the promotion does"),
    ({"kind": "percent", "percent": "10", "name": "  "}, "The name"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
async def test_a_bad_promotion_is_refused_with_its_reason_and_nothing_is_saved(
    runtime: Any, demo: None, change: dict[str, Any], message: str
) -> None:
    items, _ = await _ids(runtime)
    fields: dict[str, Any] = {"name": "Deal", "item_ids": [items["BR-CID"]], **change}
    with pytest.raises(InvalidInput) as refused:
        await _create(runtime, PromotionInput(**fields))
    assert message in str(refused.value)
    assert await rows(runtime, Promotion) == []


async def test_the_manager_page_creates_edits_and_archives_a_rule(manager: Any, runtime: Any) -> None:
    items, categories = await _ids(runtime)
    created = await manager.post(
        "/manage/promotions",
        {
            "name": "Happy hour",
            "kind": "percent",
            "percent": "30",
            "category_id": str(categories["Cocktails"]),
            "weekdays": ["0", "1", "2", "3", "4"],
            "start": "17:00",
            "end": "19:00",
        },
    )
    assert created.status_code == 200
    assert "Added Happy hour." in created.text
    assert "Mon-Fri, 17:00-19:00" in created.text
    [rule] = await rows(runtime, Promotion)
    assert (rule.percent_bp, rule.weekdays, rule.start_minute, rule.end_minute) == (3000, "01234", 1020, 1140)
    refused = await manager.post(
        f"/manage/promotions/{rule.id}",
        {"name": "Happy hour", "kind": "percent", "percent": "30", "start": "19:00", "end": "17:00", "weekdays": "0"},
    )
    assert refused.status_code == 422
    assert "must be after the start time" in refused.text
    assert (await rows(runtime, Promotion))[0].start_minute == 1020, "a refused edit changes nothing"
    archived = await manager.post(f"/manage/promotions/{rule.id}/archive", {})
    assert "Archived Happy hour" in archived.text
    assert (await rows(runtime, Promotion))[0].archived_at is not None
    page = await manager.get("/manage/promotions?archived=true")
    assert "Happy hour" in page.text

    # a set menu: one list of dishes per course, a dish in one course only
    form = {
        "name": "Menu du jour",
        "kind": "set_menu",
        "price": "29.50",
        "menu_starters": [str(items["ST-SOU"]), str(items["ST-BUR"])],
        "menu_mains": str(items["PA-RIS"]),
        "menu_dessert": str(items["DS-CRB"]),
        "weekdays": ["0", "1", "2", "3", "4", "5", "6"],
        "start": "12:00",
        "end": "15:00",
    }
    added = await manager.post("/manage/promotions", form)
    assert "Added Menu du jour." in added.text
    assert "menu at 29.50" in added.text
    twice = await manager.post("/manage/promotions", {**form, "name": "Twice", "menu_dessert": str(items["PA-RIS"])})
    assert twice.status_code == 422
    assert "A dish can be in one course of a set menu only." in twice.text
    async with runtime.db.read() as session:
        [set_menu] = (await session.exec(select(Promotion).where(Promotion.name == "Menu du jour"))).all()
        slots = sorted(await promotions.items_of(session, set_menu.id or 0), key=lambda pair: pair[0])
    assert (set_menu.deal_size, set_menu.price_cents) == (3, 2950)
    assert sorted(slot or "" for _, slot in slots) == ["dessert", "mains", "starters", "starters"]
    assert len(await rows(runtime, Promotion)) == 2, "the refused one was not saved"


async def test_a_rule_runs_only_on_its_days_and_hours_on_the_venue_clock(runtime: Any, demo: None) -> None:
    items, _ = await _ids(runtime)
    rule = await _create(
        runtime,
        PromotionInput(
            name="Weekday happy hour",
            kind="set_price",
            price="4.00",
            item_ids=[items["BR-CID"]],
            weekdays=[0, 1, 2, 3, 4],
            start="17:00",
            end="19:00",
        ),
    )
    friday_half_past_five = dt.datetime(2026, 12, 4, 16, 30, tzinfo=dt.UTC)  # 17:30 in Amsterdam
    saturday = friday_half_past_five + dt.timedelta(days=1)
    friday_seven = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
    async with runtime.db.read() as session:
        found = [
            await promotions.terms_for_item(
                session,
                menu_item_id=items["BR-CID"],
                category_id=0,
                unit_price=600,
                timezone="Europe/Amsterdam",
                at=moment,
            )
            for moment in (friday_half_past_five, saturday, friday_seven)
        ]
    assert [f.rule_id if f else None for f in found] == [rule.id, None, None]
    assert found[0] is not None
    assert found[0].unit_off == 200


async def _promotions_balance(runtime: Any) -> int:
    async with runtime.db.read() as session:
        cents = (
            await session.exec(
                select(JournalLine.amount_cents)
                .join(Account, col(Account.id) == col(JournalLine.account_id))
                .where(Account.code == "4520")
            )
        ).all()
    return sum(cents)


async def test_a_reopen_and_a_whole_check_refund_over_two_payments_take_back_every_cent_of_the_promotions(
    runtime: Any, demo: None, terminal: Any
) -> None:
    _, categories = await _ids(runtime)
    await _create(
        runtime, PromotionInput(name="Happy hour", kind="percent", percent="33.33", category_id=categories["Cocktails"])
    )
    served = await serve(runtime, ["CK-NEG", "CK-SPR", "CK-MOJ"])
    given = (await _totals(runtime, served.check_id)).promotions
    assert given == 383 + 350 + 367  # 33.33 % of 11.50, 10.50 and 11.00, each rounded half-up
    # paid in two parts
    due = (await _totals(runtime, served.check_id)).total
    tender = (await _tenders(runtime))["Card"]
    for amount in (due // 3, due - due // 3):
        outcome = await payments.take_payment(
            runtime.db,
            terminal,
            payments.PaymentRequest(
                check_id=served.check_id,
                tender_id=tender,
                actor=served.server,
                idempotency_key=key(),
                amount_cents=amount,
            ),
        )
    assert outcome.closed, outcome.message
    await deliver(runtime)
    assert await _promotions_balance(runtime) == given

    # Reopened: the closing's entry is reversed with its promotions; closed again, they post again.
    manager = await person(runtime, MANAGER)
    async with runtime.db.write() as session:
        await check_refunds.reopen_check(session, check_id=served.check_id, actor=manager, reason="Wrong table")
    await deliver(runtime)
    assert await _promotions_balance(runtime) == 0
    async with runtime.db.write() as session:
        await checks.close_check(session, check_id=served.check_id, actor=manager)
    await deliver(runtime)
    assert await _promotions_balance(runtime) == given

    # Refunded whole: one refund per payment, each takes its share by amount, together all of it.
    await check_refunds.refund(
        runtime.db,
        terminal,
        check_refunds.RefundRequest(
            check_id=served.check_id, actor=manager, reason="Guests left", idempotency_key=key(), full=True
        ),
    )
    await deliver(runtime)
    refunds = await rows(runtime, CheckPosting, CheckPosting.kind == PostingKind.REFUND)
    assert len(refunds) == 2
    shares = [sum(row["cents"] for row in r.breakdown["promotions"].values()) for r in refunds]
    assert all(share > 0 for share in shares)
    assert sum(shares) == given
    assert await _promotions_balance(runtime) == 0, "the refunds took back exactly what the check gave"
    day = refunds[0].business_day
    async with runtime.db.read() as session:
        [row] = await promotion_report(session, day, day)
    assert (row.checks, row.units, row.discount_cents) == (0, 0, 0)


async def _tenders(runtime: Any) -> dict[str, int]:
    from app.checks.models import Tender

    async with runtime.db.read() as session:
        return {t.name: t.id or 0 for t in (await session.exec(select(Tender))).all()}


async def test_a_promoted_bottle_shared_three_ways_keeps_its_promotion_to_the_cent(
    runtime: Any, demo: None, terminal: Any
) -> None:
    items, _ = await _ids(runtime)
    await _create(
        runtime, PromotionInput(name="Wine night", kind="percent", percent="33.33", item_ids=[items["WN-RBT"]])
    )
    served = await serve(runtime, ["WN-RBT"])
    before = await _totals(runtime, served.check_id)
    assert before.promotions == 1133  # 33.33 % of 34.00
    async with runtime.db.write() as session:
        shares = await splits.share_item(
            session, check_id=served.check_id, line_id=served.line_ids["WN-RBT"], actor=served.server, ways=3
        )
    assert len(shares) == 3
    after = await _totals(runtime, served.check_id)
    # each third alone would round 377.67 up to 378: the shares take 378 + 378 + 377, never a cent more
    assert sorted(line.promotion for line in after.lines if line.promotion) == [377, 378, 378]
    assert after.promotions == before.promotions
    assert after.total == before.total


async def test_the_promotions_report_page_lists_each_promotion_with_what_it_gave(
    runtime: Any, demo: None, terminal: Any, manager: Any
) -> None:
    _, categories = await _ids(runtime)
    await _create(
        runtime, PromotionInput(name="Happy hour", kind="percent", percent="50", category_id=categories["Cocktails"])
    )
    served = await serve(runtime, ["CK-SPR", "PA-CAR"])
    await pay(runtime, terminal, served)
    await deliver(runtime)
    [sale] = await rows(runtime, CheckPosting, CheckPosting.check_id == served.check_id)
    day = sale.business_day.isoformat()
    page = await manager.get(f"/reports/promotions?start={day}&end={day}")
    assert page.status_code == 200, page.text
    assert "Happy hour" in page.text
    assert "€5.25" in page.text, "half of the 10.50 Spritz"
    fragment = await manager.get(f"/reports/promotions?start={day}&end={day}", htmx=True)
    assert "<html" not in fragment.text
    z = await manager.get(f"/reports/z?day={day}")
    assert "Promotions (1 sold)" in z.text
    # the JSON API an ERP reads carries the promotion on the line and on the check
    from app.api.queries import check_out

    async with runtime.db.read() as session:
        out = await check_out(session, await load_check(session, served.check_id))
    assert out.promotions_cents == 525
    assert [(line.name, line.promotion, line.promotion_cents) for line in out.lines if line.promotion_cents] == [
        ("Aperol Spritz", "Happy hour", 525)
    ]
    assert out.gross_cents - out.promotions_cents - out.discounts_cents - out.comps_cents == out.net_sales_cents
