"""Shared fixtures: one real Anvil chain per test session, a fresh community per test.

A fresh contract per test (deploying takes milliseconds) keeps tests independent even though
they share the chain; tests that move the chain's clock only ever look at their own proposals,
whose deadlines are relative to the time they were created.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.anvil import Anvil, start_anvil
from governance.devchain import DevCommunity, deploy_dev_community
from node.harness.netns import netns_unavailable

_NETNS_REASON = pytest.StashKey[str | None]()
#: Directories whose every test needs something not every machine has, and the marker that says so.
DIRECTORY_MARKERS = {
    Path(__file__).parent / "integration" / "netns": "netns",
    Path(__file__).parent / "integration" / "browser": "browser",
}
#: The programs the browser tests drive (Debian's chromium and chromium-driver).
BROWSER_PROGRAMS = ("chromium", "chromedriver")


def netns_sentence(reason: str) -> str:
    """Why a namespace test does not run, and how to run it."""
    return (
        f"network-namespace test not run: {reason}; run the tests as root on Linux with iproute2 and "
        "iptables (./scripts/test.sh as root runs them and sets KIEZ_REQUIRE_NETNS=1)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for directory, marker in DIRECTORY_MARKERS.items():
            if directory in Path(item.path).parents:
                item.add_marker(marker)


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here (one sentence), or None where they can."""
    missing = [program for program in BROWSER_PROGRAMS if shutil.which(program) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


def browser_verdict(reason: str | None, required: bool) -> tuple[str, str] | None:
    """What becomes of a browser test: runs (None), or ("skip" | "fail", the sentence why)."""
    if reason is None:
        return None
    sentence = (
        f"browser test not run: {reason}; install Debian's chromium and chromium-driver "
        "(scripts/bootstrap.sh does, as root or with sudo)"
    )
    if required:
        return "fail", sentence + " — KIEZ_REQUIRE_BROWSER=1 forbids skipping them"
    return "skip", sentence


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``netns`` need root and ``ip netns``, tests marked ``browser`` need Chromium:
    elsewhere they are skipped with one sentence saying why, except under ``KIEZ_REQUIRE_NETNS=1``
    or ``KIEZ_REQUIRE_BROWSER=1`` (CI as root sets both), where they fail."""
    verdict = None
    if item.get_closest_marker("browser") is not None:
        verdict = browser_verdict(browser_unavailable(), os.environ.get("KIEZ_REQUIRE_BROWSER") == "1")
    if verdict is None and item.get_closest_marker("netns") is not None:
        stash = item.config.stash
        if _NETNS_REASON not in stash:
            stash[_NETNS_REASON] = netns_unavailable()
        verdict = netns_verdict(stash[_NETNS_REASON], os.environ.get("KIEZ_REQUIRE_NETNS") == "1")
    if verdict is None:
        return
    action, sentence = verdict
    if action == "fail":
        pytest.fail(sentence, pytrace=False)
    pytest.skip(sentence)


def netns_verdict(reason: str | None, required: bool) -> tuple[str, str] | None:
    """What becomes of a namespace test: runs (None), or ("skip" | "fail", the sentence why)."""
    if reason is None:
        return None
    if required:
        return "fail", netns_sentence(reason) + " — KIEZ_REQUIRE_NETNS=1 forbids skipping them"
    return "skip", netns_sentence(reason)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with start_anvil() as chain:
        yield chain


@pytest.fixture
def community(anvil: Anvil) -> DevCommunity:
    """A community founded by dev accounts 0, 1 and 2 (quorum 50 %, threshold 50 %, 60 s)."""
    return deploy_dev_community(anvil, founders=3)
