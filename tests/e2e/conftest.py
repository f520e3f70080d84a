"""A real Brigade server on a free loopback port, and headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.checks.services import business_day
from app.lib.clock import utcnow
from app.lib.settings import Settings
from tests.support.servers import free_port
from tests.support.services import in_ci

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
TABLET = {"width": 1024, "height": 768}
KDS = {"width": 1920, "height": 1080}


def _chromium() -> str:
    path = os.environ.get("BRIGADE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Debian's chromium is not installed (make test installs it)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


class LiveServer(str):
    """A live server's base URL; `var_dir` is the folder holding its database and spools."""

    var_dir: Path


def server_env(var: Path) -> dict[str, str]:
    """The environment of a `brigade` command or server keeping everything in `var` (SQLite, no Redis)."""
    env = {
        **os.environ,
        "BRIGADE_VAR_DIR": str(var),
        "BRIGADE_DATABASE_URL": f"sqlite+aiosqlite:///{var / 'brigade.db'}",
        # PINs hashed with real argon2id at its cheap end: the strong default costs seconds per login here
        "BRIGADE_PIN_HASH_PROFILE": "fast",
    }
    env.pop("BRIGADE_REDIS_URL", None)
    return env


def _demo_day() -> tuple[date, date]:
    """The dates demo rows are stamped with: the UTC date and the venue's business day."""
    now = utcnow()
    return now.date(), business_day(Settings(), now)


class DemoFolder:
    """`brigade db upgrade` and `brigade demo` run once into a folder; each module's server starts from a copy.

    The copy is the demo restaurant as those two commands leave it, with the template folder's path replaced by
    the module's own wherever the database names it (printer spools). Demo rows are dated from the clock, so the
    template is made again when the date or the business day changes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[tuple[date, date], Path] = {}

    def copy_to(self, var: Path) -> None:
        day = _demo_day()
        source = self.made.get(day)
        if source is None:
            source = self.root / f"demo-{day[0]}-{day[1]}"
            env = server_env(source)
            brigade = [sys.executable, "-m", "app"]
            subprocess.run([*brigade, "db", "upgrade"], env=env, check=True, capture_output=True)
            subprocess.run([*brigade, "demo"], env=env, check=True, capture_output=True)
            self.made = {day: source}
        shutil.copytree(source, var, dirs_exist_ok=True)
        old, new = str(source.resolve()), str(var.resolve())
        with contextlib.closing(sqlite3.connect(var / "brigade.db")) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for column in [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]:
                    db.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) WHERE instr("{column}", ?) > 0',
                        (old, new, old),
                    )
            db.commit()


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> DemoFolder:
    return DemoFolder(tmp_path_factory.mktemp("e2e-demo"))


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, demo_folder: DemoFolder) -> Iterator[LiveServer]:
    """`brigade db upgrade`, `brigade demo` (made once, copied: see DemoFolder), `brigade serve` in a folder of
    their own, one per test module."""
    var = tmp_path_factory.mktemp("e2e-var")
    port = free_port()
    env = server_env(var)
    demo_folder.copy_to(var)
    brigade = [sys.executable, "-m", "app"]
    log = (var / "server.log").open("w")
    process = subprocess.Popen([*brigade, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"server did not start: {(var / 'server.log').read_text()}") from None
            time.sleep(0.2)
    server = LiveServer(url)
    server.var_dir = var
    yield server
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """A tablet-sized browser tab with its own cookies."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def kds_screen(browser: Browser) -> Iterator[Page]:
    """A 1920 x 1080 kitchen screen."""
    context = browser.new_context(viewport=KDS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


MANAGER_PIN = "9999"


def tap_pin(page: Page, pin: str) -> None:
    """Tap each digit of `pin` on the pad."""
    for digit in pin:
        page.locator(f'button[data-key="{digit}"]').click()


def enrol(page: Page, url: str, *, name: str = "Tablet", manager_pin: str = MANAGER_PIN) -> None:
    """Open the login page; where the device is not enrolled yet, the manager names it and enrols it with a PIN."""
    page.goto(f"{url}/login")
    device_name = page.get_by_label("Device name")
    if device_name.count() == 0:
        return
    device_name.fill(name)
    tap_pin(page, manager_pin)
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_load_state("networkidle")


def log_in(page: Page, url: str, pin: str) -> None:
    """Tap a PIN on the pad and enter (on a device the manager enrolled first)."""
    enrol(page, url)
    page.goto(f"{url}/login")
    tap_pin(page, pin)
    page.locator("button.key-go").click()
    page.wait_for_load_state("networkidle")
