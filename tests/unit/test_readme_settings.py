"""The README's settings table lists every setting, under the name and with the default the code has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.lib.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<name>BRIGADE_[A-Z0-9_]+)` \| (?P<default>[^|]*) \| (?P<meaning>[^|]*) \|$")


def _settings_rows() -> dict[str, tuple[str, str]]:
    """The README's settings table: variable → (default cell, meaning cell)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            assert match["name"] not in rows, f"{match['name']} is listed twice"
            rows[match["name"]] = (match["default"].strip(), match["meaning"].strip())
    return rows


def _as_written(value: object) -> str:
    """A default as one writes it in the environment (lists as JSON, booleans in lower case)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def test_the_readme_lists_every_setting_and_nothing_else() -> None:
    expected = {f"BRIGADE_{name.upper()}" for name in Settings.model_fields}
    assert set(_settings_rows()) == expected


def test_each_setting_in_the_readme_has_the_default_the_code_has_and_says_what_it_means() -> None:
    rows = _settings_rows()
    for name, field in Settings.model_fields.items():
        default_cell, meaning = rows[f"BRIGADE_{name.upper()}"]
        assert meaning, f"BRIGADE_{name.upper()} says nothing about what it means"
        default = field.get_default(call_default_factory=True)
        if default in ("", None):
            assert default_cell.startswith("unset"), f"BRIGADE_{name.upper()} has no default; the README says so"
        else:
            written = re.match(r"`([^`]*)`", default_cell)
            assert written is not None, f"BRIGADE_{name.upper()}: the default goes first, in backticks"
            assert written.group(1) == _as_written(default), f"BRIGADE_{name.upper()}"
