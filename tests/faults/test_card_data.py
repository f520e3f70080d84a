"""No card number is ever stored: a service with card payments leaves none in the database, the logs or the spool.

Cards are paid through the terminal (the app hears back only brand, last four and a reference), and test card
numbers are typed where a person might type them: a tab's name, a takeout's name, an item note, a void
reason, a discount reason, the amount field and the PIN pad. Afterwards every text and binary column of every
table, the server's output and every file in var/ are scanned for a run of 13 to 19 digits (spaces or dashes
between groups allowed) that passes the Luhn check.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.lib.cards import mask_card_numbers
from tests.faults.conftest_concurrency import ServedApp, Tablet, served_app
from tests.support.escpos_decoder import decode

# Test cards as processors publish them, typed the ways people type them.
VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"
AMEX = "378282246310005"
DISCOVER = "6011 0009 9013 9424"
TYPED = (VISA, MASTERCARD, AMEX, DISCOVER)
RUN = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ -]\d+)*(?![0-9A-Za-z])")
VERSION = re.compile(r'data-version="(\d+)"')
LINE = re.compile(r'data-line="(\d+)"')


def luhn(digits: str) -> bool:
    checksum = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        checksum += value - 9 if value > 9 else value
    return checksum % 10 == 0


def card_numbers(text: str) -> list[str]:
    """Every card-number-like sequence in `text`: whole digit groups adding up to 13-19 digits, Luhn-valid."""
    found = []
    for run in RUN.finditer(text):
        groups = re.findall(r"\d+", run.group(0))
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn(digits):
                    found.append(digits)
    return found


def test_the_detector_finds_the_typed_cards_and_not_everyday_numbers() -> None:
    for card in TYPED:
        assert card_numbers(f"pay with {card} please") == [re.sub(r"\D", "", card)]
    everyday = "table 12, 4 covers, 2025-05-01 19:30:00, check 1042, last four 4242, auth 123456, €1,234.50"
    assert card_numbers(everyday) == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"pay with {VISA} please", "pay with \u2022\u2022\u2022\u2022 1111 please"),
        (MASTERCARD, "\u2022\u2022\u2022\u2022 4444"),
        (f"amex{AMEX}!", "amex\u2022\u2022\u2022\u2022 0005!"),
        (f"{DISCOVER} 2 beers", "\u2022\u2022\u2022\u2022 9424 2 beers"),
        ("table 12, 4 covers, call 0612345678", "table 12, 4 covers, call 0612345678"),
        ("order 4111111111111112 (not a card)", "order 4111111111111112 (not a card)"),
    ],
)
def test_a_card_number_in_free_text_is_masked_to_its_last_four(typed: str, stored: str) -> None:
    assert mask_card_numbers(typed) == stored
    assert card_numbers(mask_card_numbers(typed)) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    """The demo restaurant on SQLite, served by a real server whose output is kept."""
    with served_app("sqlite", tmp_path) as app:
        yield app


async def _version(tablet: Tablet, check_id: int) -> str:
    panel = await tablet.get(f"/checks/{check_id}/panel", htmx=True)
    match = VERSION.search(panel.text)
    assert match, panel.text[:300]
    return match.group(1)


async def _open(tablet: Tablet, form: dict[str, str]) -> int:
    response = await tablet.post("/checks", {**form, "covers": "2", "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 200, response.text
    return int(response.headers["hx-redirect"].rsplit("/", 1)[1])


async def _post(tablet: Tablet, check_id: int, path: str, form: dict[str, str], status: int = 200) -> str:
    body = {**form, "version": await _version(tablet, check_id), "idempotency_key": uuid.uuid4().hex}
    response = await tablet.post(f"/checks/{check_id}/{path}", body)
    assert response.status_code == status, response.text[:500]
    return response.text


def _ids(app: ServedApp) -> dict[str, str]:
    """Ids of the demo's table 5, two dishes and a drink, and the card tender."""
    connection = sqlite3.connect(app.var_dir / "brigade.db")
    try:
        one = connection.execute
        return {
            "table": str(one("SELECT id FROM dining_table WHERE name = '5'").fetchone()[0]),
            "carbonara": str(one("SELECT id FROM menu_item WHERE sku = 'PA-CAR'").fetchone()[0]),
            "risotto": str(one("SELECT id FROM menu_item WHERE sku = 'PA-RIS'").fetchone()[0]),
            "cider": str(one("SELECT id FROM menu_item WHERE sku = 'BR-CID'").fetchone()[0]),
            "card": str(one("SELECT id FROM tender WHERE name = 'Card'").fetchone()[0]),
        }
    finally:
        connection.close()


async def a_service_with_cards_typed_everywhere(app: ServedApp) -> None:
    ids = _ids(app)
    lena = await app.tablet("1111")
    tab = await _open(lena, {"kind": "tab", "tab_name": f"Sam {VISA}"})
    takeout = await _open(lena, {"kind": "takeout", "tab_name": f"Card {DISCOVER}"})
    table = await _open(lena, {"kind": "table", "table_id": ids["table"]})
    note = f"guest card {MASTERCARD} for later"
    panel = await _post(lena, table, "lines", {"menu_item_id": ids["carbonara"], "note": note})
    await _post(lena, table, "lines", {"menu_item_id": ids["risotto"], "note": f"amex {AMEX}"})
    await _post(lena, tab, "lines", {"menu_item_id": ids["cider"], "note": f"tab card {VISA}"})
    await _post(lena, takeout, "lines", {"menu_item_id": ids["risotto"]})
    for check_id in (table, tab, takeout):
        await _post(lena, check_id, "send", {})
    line_id = LINE.findall(panel)[0]
    await _post(lena, table, f"lines/{line_id}/void", {"reason": f"wrong card {AMEX}", "manager_pin": "9999"})
    await _post(
        lena,
        table,
        "settle/discount",
        {"kind": "percent", "value": "10", "reason": "other", "reason_other": f"loyalty {VISA}", "manager_pin": "9999"},
    )
    # A card number typed into the amount field is refused, and nothing is charged.
    await _post(lena, table, "pay", {"tender_id": ids["card"], "amount": VISA.replace(" ", "")}, status=422)
    for check_id in (table, tab, takeout):
        settle = await lena.get(f"/checks/{check_id}/settle")
        due = int(re.search(r'data-due="(-?\d+)"', settle.text).group(1))  # type: ignore[union-attr]
        first = due // 2
        await _post(lena, check_id, "pay", {"tender_id": ids["card"], "amount": f"{first / 100:.2f}", "tip": "1.00"})
        closed = await _post(lena, check_id, "pay", {"tender_id": ids["card"], "amount": f"{(due - first) / 100:.2f}"})
        assert "Check closed" in closed, closed[:500]
    stranger = await app.tablet("9999")
    refused = await stranger.client.post("/login", data={"pin": VISA, "_csrf_token": stranger.csrf})
    assert refused.status_code == 401, refused.text[:300]
    await app.close_tablets()


def _database_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(table.column, value) for every text and binary value in the database."""
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert len(tables) > 30, "the whole schema is there"
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        yield f"{table}.{column}", value.decode("latin-1")
                        if table == "print_job":
                            yield f"{table}.{column} (printed)", " ".join(decode(value).text.split())
                    elif isinstance(value, str):
                        yield f"{table}.{column}", value
    finally:
        connection.close()


async def test_a_service_with_card_payments_stores_no_card_number_anywhere(served: ServedApp) -> None:
    try:
        await a_service_with_cards_typed_everywhere(served)
    finally:
        await served.close_tablets()
    spool = served.var_dir / "spool"
    for _ in range(200):
        if (spool / "kitchen.bin").exists() and (spool / "bar.bin").exists():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # the print worker's last jobs and the access log reach disk

    found: list[str] = []
    database = served.var_dir / "brigade.db"
    scanned = 0
    for where, text in _database_texts(database):
        scanned += 1
        found.extend(f"{where}: {number}" for number in card_numbers(text))
    assert scanned > 100
    raw = b"".join(p.read_bytes() for p in served.var_dir.glob("brigade.db*"))
    for card in TYPED:
        for form in (card, re.sub(r"\D", "", card)):
            if form.encode() in raw:
                found.append(f"database file: {form} (free pages or journal)")
    log = served.log_text()
    assert "POST /checks" in log, "the server's output is captured"
    found.extend(f"server output: {number}" for number in card_numbers(log))
    files = [p for p in served.var_dir.rglob("*") if p.is_file() and not p.name.startswith("brigade.db")]
    assert any(p.parent == spool for p in files), "the tickets were printed to the spool"
    for path in files:
        data = path.read_bytes()
        text = " ".join(decode(data).text.split()) if path.suffix == ".bin" else ""
        found.extend(f"{path.name}: {n}" for n in card_numbers(data.decode("latin-1")) + card_numbers(text))
    assert found == [], "\n".join(found)

    # What the terminal told the app is all the app keeps of a card.
    connection = sqlite3.connect(database)
    try:
        kept = connection.execute("SELECT DISTINCT card_brand, card_last4 FROM payment").fetchall()
        notes = [row[0] for row in connection.execute("SELECT note FROM check_line WHERE note IS NOT NULL")]
        tabs = [row[0] for row in connection.execute("SELECT tab_name FROM guest_check WHERE tab_name IS NOT NULL")]
    finally:
        connection.close()
    assert kept == [("VISA", "4242")]
    assert "guest card \u2022\u2022\u2022\u2022 4444 for later" in notes, notes
    assert sorted(tabs) == ["Card \u2022\u2022\u2022\u2022 9424", "Sam \u2022\u2022\u2022\u2022 1111"]
