"""Browser tests drive Debian's Chromium, headless, through its chromium-driver (Selenium): a
real browser against real nodes. Every test here is marked ``browser`` (tests/conftest.py skips
or fails it, with a sentence, where Chromium is missing).

Like the node tests, each module gets a chain of its own whose clock is the machine's: the
governance tests move the shared session chain's clock forward, and a node refuses posts signed
"before" a key authorised in that chain's future."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service

from governance.anvil import Anvil, start_anvil
from node.harness.process import NodeProcess, wait_until


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with start_anvil() as chain:
        yield chain


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


def open_chromium(downloads: Path) -> webdriver.Chrome:
    """Headless Chromium with a phone's 390×844 viewport that saves downloads to ``downloads``."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    # --disable-dev-shm-usage: containers often give /dev/shm only 64 MB, which Chromium outgrows
    flags = ("--headless=new", "--window-size=390,844", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage")
    for flag in flags:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    # a phone's viewport (headless windows are never narrower than 500 px, so emulate it)
    phone = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", phone)
    return driver


@pytest.fixture(scope="module")
def chromium(downloads: Path) -> Iterator[webdriver.Chrome]:
    driver = open_chromium(downloads)
    try:
        yield driver
    finally:
        driver.quit()


def kiez_open(node: NodeProcess) -> str:
    """The one-time login URL ``kiez open`` prints for ``node`` (no desktop: it opens nothing)."""
    shown = subprocess.run(
        [sys.executable, "-m", "node.cli", "open", "--no-browser", "--home", str(node.config.home)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
    ).stdout
    assert "it works once" in shown
    return shown.strip().splitlines()[-1]


AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_problems(driver: webdriver.Chrome) -> tuple[list[tuple[str, str, str]], list[int]]:
    """axe-core (pinned in package.json, loaded only by the tests) on the page as it is now: its
    serious or critical violations, and [the page's scroll width, the phone's screen width] (not
    the window's: a phone browser widens its layout viewport to fit wide content, zoomed out)."""
    driver.execute_script(AXE.read_text())
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(found, list), found
    serious = [(v["id"], v["impact"], v["help"]) for v in found if v["impact"] in ("serious", "critical")]
    width: list[int] = driver.execute_script("return [document.documentElement.scrollWidth, screen.width]")
    return serious, width


@contextmanager
def logged_in_pages(nodes: list[NodeProcess], downloads: Path) -> Iterator[list[webdriver.Chrome]]:
    """One Chromium per node, each logged in to its node's page with a ``kiez open`` link."""
    drivers = [open_chromium(downloads) for _ in nodes]
    try:
        for driver, node in zip(drivers, nodes, strict=True):
            driver.get(kiez_open(node))
            wait_until(lambda d=driver: d.current_url.endswith("/app/"), 60, "the app after logging in")
        yield drivers
    finally:
        for driver in drivers:
            driver.quit()


def settled(what: str, check: Callable[[], object], timeout: float = 60) -> None:
    """Waits until ``check`` holds (a truthy answer), retrying when the page redrew an element
    that ``check`` had found (a stale element)."""

    def attempt() -> bool:
        try:
            return bool(check())
        except StaleElementReferenceException:
            return False

    wait_until(attempt, timeout, what)
