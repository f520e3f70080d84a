"""The import-linter contract that keeps kds and printers out of the app covers every module the app has."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIRING = {"main", "cli", "__main__", "__init__", "migrations"}


def test_every_app_module_but_the_wiring_is_forbidden_kds_and_printers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if set(c.get("forbidden_modules", ())) == {"kds", "printers"}
    ]
    listed = set(contract["source_modules"])
    modules = {
        f"app.{path.stem}"
        for path in (ROOT / "app").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
    }
    expected = {m for m in modules if m.removeprefix("app.") not in WIRING}
    assert listed == expected
