"""A newcomer behind a home NAT joins with nothing but an invite, and never holds ether.

Alice's node is on a public host and sponsors; Bob's node is behind one home's NAT; Carol votes
from the chain only. Dana, behind another home's NAT, gets Alice's invite text, runs
`kiez join` at home, is voted in, runs `kiez join` again to finish, starts her node there and
posts: every node accepts the post. Her account's balance is 0 before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from governance.anvil import Anvil
from governance.client import checksum
from node.config import NodeConfig
from node.harness import onboarding
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import NODE_API_PORT, NODE_P2P_PORT, kiez_in, lab_node, start_nat_network
from node.harness.process import NodeProcess, until_accepted

LAB_HOMES = 2
LAB_PUBLICS = 1


@pytest.fixture(scope="module")
def net(nat_lab: NatLab, lab_anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    spots = [nat_lab.public(0), nat_lab.home(0)]
    root = tmp_path_factory.mktemp("invite")
    network = start_nat_network(
        nat_lab, lab_anvil, root, spots, size=3, configure=lambda c: c.with_changes(sync_interval=2.0)
    )
    try:
        onboarding.make_sponsor(network, lab_anvil, 0, nat_lab.public(0), partial(kiez_in, nat_lab), nat_lab.on_chain)
        yield network
    finally:
        network.stop()


def _balance(nat_lab: NatLab, net: Network, account: str) -> int:
    return int(nat_lab.on_chain(lambda: net.client(0).w3.eth.get_balance(checksum(account))))


def test_a_newcomer_behind_a_nat_joins_by_invite_and_posts_to_every_node(
    nat_lab: NatLab, net: Network, tmp_path: Path
) -> None:
    run = partial(kiez_in, nat_lab)
    text = onboarding.invite(net, 0, nat_lab.public(0), run)
    home, ns = tmp_path / "dana", nat_lab.home(1)
    where = ["--p2p-host", nat_lab.home_address(1), "--p2p-port", str(NODE_P2P_PORT), "--api-port", str(NODE_API_PORT)]
    filed = onboarding.join(run, ns, home, text, "--no-wait", *where)
    assert "your request is proposal #" in filed
    dana = onboarding.newcomer(home)
    assert _balance(nat_lab, net, dana) == 0
    again = onboarding.join(run, ns, home, text, "--no-wait")
    assert "asking a member's node to file" not in again  # filed once, whatever the re-runs

    nat_lab.on_chain(lambda: onboarding.vote_in(net, dana, (1, 2)))
    finished = onboarding.join(run, ns, home, text)
    assert "you are a member" in finished
    assert "authorised" in finished
    assert _balance(nat_lab, net, dana) == 0

    node: NodeProcess = lab_node(nat_lab, ns, NodeConfig.load(home)).start()
    try:
        answer = until_accepted(lambda: node.api.post("/v1/posts", {"text": "hello from behind my router"}), "a post")
        net.wait_post(answer["id"])  # Alice's public node and Bob's, behind the other NAT
    finally:
        node.stop()
    assert net.status(0)["sponsor"]["today_tx"] == 3
