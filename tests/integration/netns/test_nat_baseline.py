"""Members' nodes behind three home NATs and one on a public address (node/harness/natlab.py):
what works with no NAT traversal at all, because every home dials out to the public node.

- nobody on the internet can dial into a home (the routers drop what the home did not open);
- posts from every home reach every node through the public one;
- a home node that was down gets what it missed by sync once it is back;
- the same through the NFQUEUE delay and loss shaping the gossip benchmark uses.
"""

from __future__ import annotations

from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import NODE_P2P_PORT
from node.harness.netns import Shaping

HOMES = range(3)


def _home_node(k: int) -> int:
    return 1 + k  # node 0 is the public one


def test_the_internet_cannot_dial_into_a_home(nat_lab: NatLab, nat_net: Network) -> None:
    public = nat_lab.public(0)
    for k in HOMES:
        # the node listens (from inside its home it answers) ...
        assert nat_lab.can_connect(nat_lab.home(k), nat_lab.home_address(k), NODE_P2P_PORT)
        # ... but neither its home's public address nor its private one lets the internet in
        assert not nat_lab.can_connect(public, nat_lab.home_wan_address(k), NODE_P2P_PORT, timeout=1.0)
        assert not nat_lab.can_connect(public, nat_lab.home_address(k), NODE_P2P_PORT, timeout=1.0)
        other = nat_lab.home((k + 1) % 3)
        assert not nat_lab.can_connect(other, nat_lab.home_wan_address(k), NODE_P2P_PORT, timeout=1.0)
        # while a home reaches the public node
        assert nat_lab.can_connect(nat_lab.home(k), nat_lab.public_address(0), NODE_P2P_PORT)


def test_homes_exchange_posts_through_the_public_node(nat_net: Network) -> None:
    assert nat_net.status(0)["peers"] >= 3  # every home dialled out to it
    for k in HOMES:
        post = nat_net.post(_home_node(k), f"hello from home {k}")
        nat_net.wait_post(post)


def _gap_is_filled_by_sync(net: Network, text: str) -> None:
    """Home 0's node stops; home 1 posts; home 0's node starts again and gets the post by sync
    (gossip delivered it while the node was down, and never again)."""
    away = net.nodes[_home_node(0)]
    away.stop()
    post = net.post(_home_node(1), text)
    net.wait_post(post, nodes=[0, _home_node(1), _home_node(2)])
    away.start()
    net.wait_post(post)


def test_sync_fills_a_home_nodes_gap_after_a_restart(nat_net: Network) -> None:
    _gap_is_filled_by_sync(nat_net, "posted while home 0 was away")


def test_the_same_through_delay_and_loss(nat_lab: NatLab, nat_net: Network) -> None:
    nat_lab.shape(Shaping(delay_ms=25, jitter_ms=2.5, loss=0.01))
    try:
        for k in HOMES:
            nat_net.wait_post(nat_net.post(_home_node(k), f"home {k}, 25 ms away and lossy"))
        _gap_is_filled_by_sync(nat_net, "posted while home 0 was away, through loss")
    finally:
        stats = nat_lab.unshape()
    assert stats["packets"] > 0  # the traffic went through the delayer
