"""Shared fixtures: one real Anvil chain per test session, a fresh community per test.

A fresh contract per test (deploying takes milliseconds) keeps tests independent even though
they share the chain; tests that move the chain's clock only ever look at their own proposals,
whose deadlines are relative to the time they were created.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from governance.anvil import Anvil, start_anvil
from governance.devchain import DevCommunity, deploy_dev_community


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with start_anvil() as chain:
        yield chain


@pytest.fixture
def community(anvil: Anvil) -> DevCommunity:
    """A community founded by dev accounts 0, 1 and 2 (quorum 50 %, threshold 50 %, 60 s)."""
    return deploy_dev_community(anvil, founders=3)
