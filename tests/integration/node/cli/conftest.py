"""A member's node started from a home that ``kiez init`` and ``kiez keys register`` made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.anvil import Anvil
from governance.devchain import DevCommunity
from node.config import NodeConfig
from node.harness.process import NodeProcess
from tests.integration.node.cli.kiez import init, kiez


@pytest.fixture
def running(anvil: Anvil, community: DevCommunity, tmp_path: Path) -> Iterator[NodeProcess]:
    home = tmp_path / "alice"
    init(home, community, "--dev-account", "0")
    kiez("keys", "register", "--home", str(home))
    node = NodeProcess(NodeConfig.load(home)).start()
    yield node
    node.stop()
