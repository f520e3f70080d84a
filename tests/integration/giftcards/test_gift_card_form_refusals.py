"""The gift-card page's forms refuse a malformed field in one message format, naming it, and sell nothing."""

from __future__ import annotations

import html
from typing import Any

from app.giftcards.models import GiftCard
from tests.integration.checks.arrange import post, ring_in, rows
from tests.integration.giftcards.arrange import SOUP, sell


async def test_a_malformed_check_version_or_amount_sells_and_cancels_nothing(server: Any, runtime: Any) -> None:
    arranged = await ring_in(runtime, items=SOUP)
    for form, message in (
        ({"amount": "40.00", "version": "latest"}, "The check version must be a whole number."),
        ({"amount": "40.00", "version": "0"}, "The check version must be at least 1."),
        ({"amount": ""}, "Tap an amount or type one for the card. Nothing was sold."),
        ({"preset": "fifty"}, "Choose one of the amounts shown."),
    ):
        refused = await post(server, runtime, arranged.check_id, "gift-cards", form)
        assert refused.status_code == 422, refused.text
        assert message in html.unescape(refused.text)
    assert await rows(runtime, GiftCard) == []
    sold = await sell(server, runtime, arranged.check_id, preset=5000)
    assert sold.status_code == 200, sold.text
    [card] = await rows(runtime, GiftCard)
    cancel = await post(server, runtime, arranged.check_id, f"gift-cards/{card.id}/cancel", {"version": "x"})
    assert cancel.status_code == 422
    assert "The check version must be a whole number." in html.unescape(cancel.text)
    [still] = await rows(runtime, GiftCard)
    assert still.status is card.status
