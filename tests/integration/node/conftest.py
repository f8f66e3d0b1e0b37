"""Node tests get a chain of their own, one per test module.

Nodes judge messages by the time they claim, against block timestamps; the governance tests move
the shared session chain's clock forward by hours (evm_increaseTime), so node tests must not use
that chain: here ``anvil`` is a fresh chain whose clock is the machine's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from governance.anvil import Anvil, start_anvil
from governance.devchain import DevCommunity, deploy_dev_community


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with start_anvil() as chain:
        yield chain


@pytest.fixture
def community(anvil: Anvil) -> DevCommunity:
    return deploy_dev_community(anvil, founders=3)
