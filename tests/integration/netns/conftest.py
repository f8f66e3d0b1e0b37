"""Namespace tests share one NAT lab, one chain and one network per module (building a lab takes
a second, starting four nodes about twenty): a module says how many homes and public hosts it
wants with ``LAB_HOMES`` (default 3) and ``LAB_PUBLICS`` (default 1), and which homes sit behind
a hard NAT with ``LAB_HARD_NAT`` (default none). Every test here is marked
``netns`` (tests/conftest.py skips or fails it, with a sentence, where namespaces are unavailable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from governance.anvil import Anvil
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import start_lab_chain, start_nat_network

#: Sync often, so a gap is filled within a test's patience (a node's default is 30 s).
SYNC_INTERVAL_S = 2.0


@pytest.fixture(scope="module")
def nat_lab(request: pytest.FixtureRequest) -> Iterator[NatLab]:
    homes, publics = getattr(request.module, "LAB_HOMES", 3), getattr(request.module, "LAB_PUBLICS", 1)
    hard_nat = getattr(request.module, "LAB_HARD_NAT", ())
    with NatLab(homes=homes, publics=publics, hard_nat=hard_nat) as lab:
        yield lab


@pytest.fixture(scope="module")
def lab_anvil(nat_lab: NatLab) -> Iterator[Anvil]:
    """Anvil in the lab's chain namespace (its clock is the machine's: node tests need that)."""
    anvil = start_lab_chain(nat_lab)
    try:
        yield anvil
    finally:
        anvil.stop()


@pytest.fixture(scope="module")
def nat_net(nat_lab: NatLab, lab_anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A member's node on each public host and one behind each home's NAT, all dialling only the
    first public one; the public hosts' nodes come first, then the homes'."""
    net = start_nat_network(
        nat_lab,
        lab_anvil,
        tmp_path_factory.mktemp("nat"),
        configure=lambda c: c.with_changes(sync_interval=SYNC_INTERVAL_S),
    )
    try:
        yield net
    finally:
        net.stop()
