"""Members' nodes behind three home NATs and two on public addresses (node/harness/natlab.py):
what works before any NAT traversal is needed, because every home dials out to a public node
(the relay and hole punching run too; test_nat_relay.py tests them).

- nobody on the internet can dial into a home (the routers drop what the home did not open);
- posts from every home reach every node through the public ones;
- a home node that was down gets what it missed by sync once it is back;
- the same through the NFQUEUE delay and loss shaping the gossip benchmark uses;
- a home node restarted with an empty bootstrap list reconnects from its address book (the
  public nodes' signed peer records, which it got by sync);
- once a member is removed, their node's record leaves every address book and is not dialled.
"""

from __future__ import annotations

from typing import Any

from governance.types import Support
from node.harness.cluster import Network
from node.harness.natlab import NatLab
from node.harness.natnet import NODE_P2P_PORT, restart
from node.harness.netns import Shaping
from node.harness.process import wait_until

LAB_PUBLICS = 2
HOMES = range(3)
REMOVED = 1  # the member whose node is on the second public host
RECONNECT_S = 120.0


def _home_node(k: int) -> int:
    return LAB_PUBLICS + k  # the public hosts' nodes come first


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
    away = _home_node(0)
    others = [i for i in range(len(net.nodes)) if i != away]
    net.nodes[away].stop()
    post = net.post(_home_node(1), text)
    net.wait_post(post, nodes=others)
    net.nodes[away].start()
    _wait_for_a_peer(net, away)
    net.wait_post(post)


def _wait_for_a_peer(net: Network, index: int) -> None:
    """Waits (generously) until node ``index`` has a peer again: its connection keeper dials the
    records it knows a few at a time and waits for a round's slowest dial, and dials to other
    homes' private addresses only fail after the dial timeout."""
    wait_until(lambda: bool(_connected(net, index)), RECONNECT_S, f"node {index} to have a peer again")


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


def _known(net: Network, index: int) -> dict[str, dict[str, Any]]:
    """Node ``index``'s address book: peer id -> record."""
    return {r["peer_id"]: r for r in net.nodes[index].api.get("/v1/peers/known")["records"]}


def _connected(net: Network, index: int) -> set[str]:
    return set(net.nodes[index].api.get("/v1/peers")["peers"])


def _peer_id(net: Network, index: int) -> str:
    return str(net.nodes[index].ready["peer_id"])


def test_a_home_node_restarted_without_bootstrap_reconnects_from_its_address_book(nat_net: Network) -> None:
    home = _home_node(0)
    public = _peer_id(nat_net, 0)
    wait_until(lambda: public in _known(nat_net, home), 60, "the public node's record at home 0")
    assert any("/198.18.1.2/" in a for a in _known(nat_net, home)[public]["addrs"])
    restart(nat_net.nodes[home], bootstrap=())
    wait_until(lambda: public in _connected(nat_net, home), RECONNECT_S, "home 0 to dial the public node from its book")
    nat_net.wait_post(nat_net.post(home, "back, with nobody to bootstrap from"))


def test_a_removed_members_record_leaves_every_address_book(nat_lab: NatLab, nat_net: Network) -> None:
    removed = _peer_id(nat_net, REMOVED)
    staying = [i for i in range(len(nat_net.nodes)) if i != REMOVED]
    wait_until(lambda: all(removed in _known(nat_net, i) for i in staying), 60, "its record in every address book")

    def remove() -> int:
        a = nat_net.client(0)
        created, _ = a.propose_remove_member(nat_net.dev.founders[REMOVED].address, "moved away")
        for voter in (0, 2, 3):
            nat_net.client(voter).cast_vote(created.proposal_id, Support.FOR)
        return a.execute(created).block_number

    nat_net.wait_block(nat_lab.on_chain(remove))
    wait_until(lambda: all(removed not in _known(nat_net, i) for i in staying), 60, "its record to be dropped")
    # a home node that has only its address book to go by dials the remaining public node, not it
    home = _home_node(1)
    restart(nat_net.nodes[home], bootstrap=())
    wait_until(lambda: _peer_id(nat_net, 0) in _connected(nat_net, home), RECONNECT_S, "home 1 to dial the public node")
    nat_net.wait_post(nat_net.post(home, "still here"), nodes=staying)
    assert removed not in _connected(nat_net, home)
