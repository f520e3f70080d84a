"""The simulated card terminal: approve, decline, time out, and remember every request across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.checks.terminal import SimulatedTerminal, TerminalOutcome, TerminalResult


async def test_an_approved_charge_reports_only_brand_last_four_and_auth_code(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path)
    result = await terminal.charge(reference="BRG-1", amount_cents=2500, tip_cents=300, currency="EUR")
    assert result.outcome is TerminalOutcome.APPROVED
    assert (result.card_brand, result.card_last4) == ("VISA", "4242")
    assert result.auth_code is not None
    assert len(result.auth_code) == 6
    assert result.processor_reference == "SIM-BRG-1"
    assert terminal.requests == [("charge", "BRG-1", 2800)]


async def test_the_same_reference_twice_is_one_charge(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path)
    first = await terminal.charge(reference="BRG-2", amount_cents=1000, tip_cents=0, currency="EUR")
    second = await terminal.charge(reference="BRG-2", amount_cents=1000, tip_cents=0, currency="EUR")
    assert first == second
    assert len(terminal.requests) == 1


async def test_test_amounts_decline_or_time_out_like_a_processors_test_cards(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path)
    declined = await terminal.charge(reference="BRG-3", amount_cents=1051, tip_cents=0, currency="EUR")
    assert declined.outcome is TerminalOutcome.DECLINED
    assert declined.card_last4 is None
    timed_out = await terminal.charge(reference="BRG-4", amount_cents=1052, tip_cents=0, currency="EUR")
    assert timed_out.outcome is TerminalOutcome.TIMED_OUT


async def test_a_timed_out_charge_is_found_approved_by_a_terminal_started_after_a_restart(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path).then(TerminalOutcome.TIMED_OUT)
    await terminal.charge(reference="BRG-5", amount_cents=1000, tip_cents=100, currency="EUR")
    restarted = SimulatedTerminal(tmp_path)
    found = await restarted.lookup("BRG-5")
    assert found.outcome is TerminalOutcome.APPROVED
    assert found.card_last4 == "4242"
    never = await restarted.lookup("BRG-6")
    assert never.outcome is TerminalOutcome.NOT_FOUND


async def test_refunds_and_tip_adjusts_need_an_approved_charge(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path)
    unknown = await terminal.refund(reference="BRG-R1", original_reference="BRG-X", amount_cents=500, currency="EUR")
    assert unknown.outcome is TerminalOutcome.DECLINED
    await terminal.charge(reference="BRG-7", amount_cents=1000, tip_cents=0, currency="EUR")
    refunded = await terminal.refund(reference="BRG-R2", original_reference="BRG-7", amount_cents=500, currency="EUR")
    assert refunded.outcome is TerminalOutcome.APPROVED
    adjusted = await terminal.adjust_tip(original_reference="BRG-7", tip_cents=250)
    assert adjusted.outcome is TerminalOutcome.APPROVED


def test_a_terminal_result_refuses_anything_more_than_the_last_four_digits() -> None:
    with pytest.raises(ValueError, match="last four"):
        TerminalResult(TerminalOutcome.APPROVED, "BRG-8", card_last4="4111111111111111")


async def test_a_reference_that_is_not_a_plain_token_is_refused(tmp_path: Path) -> None:
    terminal = SimulatedTerminal(tmp_path)
    with pytest.raises(ValueError, match="bad terminal reference"):
        await terminal.charge(reference="../etc/passwd", amount_cents=1, tip_cents=0, currency="EUR")
