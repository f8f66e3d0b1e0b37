"""Discovery without a server: three node processes on loopback and a real Anvil.

Peer records spread by gossip and reach a node that was offline by sync; a node restarted with an
empty bootstrap list (on a port nobody knows) reconnects from its stored address book; a removed
member's record leaves every address book. The tests share one network and run in order.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import multiaddr
import pytest

from governance.anvil import Anvil
from governance.types import Support
from node.config import read_secret
from node.core import peers
from node.core.signing import Signer
from node.core.types import Kind, PeerBody
from node.harness.cluster import Network, start_network
from node.harness.process import free_port, peer_addr, wait_until

from .network import raw_peer

MARKER = "/ip4/192.0.2.1/tcp/9"  # TEST-NET-1: an address no node would advertise by itself


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    # no periodic sync: what arrives while nodes stay connected comes by gossip
    network = start_network(
        anvil, tmp_path_factory.mktemp("discovery"), configure=lambda c: c.with_changes(sync_interval=3600.0)
    )
    yield network
    network.stop()


def known(net: Network, index: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = net.nodes[index].api.get("/v1/peers/known")["records"]
    return records


def record_of(net: Network, index: int, member: str) -> dict[str, Any] | None:
    return next((r for r in known(net, index) if r["member"] == member), None)


def test_every_node_learns_every_members_node(net: Network) -> None:
    members = {f.address for f in net.dev.founders}
    wait_until(lambda: all({r["member"] for r in known(net, i)} == members for i in range(3)), 60, "3 records each")
    for i in range(3):
        for r in known(net, i):
            owner = next(n for n in net.nodes if n.ready["peer_id"] == r["peer_id"])
            assert r["addrs"] == [peer_addr(owner.config)]
            assert "0.0.0.0" not in " ".join(r["addrs"])


def test_members_nodes_dial_each_other_back_and_public_ones_relay(net: Network) -> None:
    """On loopback every node is reachable: a member's node dials it back, on a new connection,
    so it is public, and with ``relay_hop = "auto"`` it serves the members-only relay hop."""

    def connectivity(index: int) -> dict[str, Any]:
        found: dict[str, Any] = net.nodes[index].api.get("/v1/status")["connectivity"]
        return found

    wait_until(lambda: all(connectivity(i)["reachability"] == "public" for i in range(3)), 60, "dial-backs")
    for i in range(3):
        seen = connectivity(i)
        assert seen["observed"] == ["127.0.0.1"]
        assert seen["checked_by"]
        assert seen["relay_hop"]["serving"] is True
        assert seen["relay_client"]["relays"] == []  # a public node reserves nothing
        assert seen["relayed_peers"] == []
        punching = {"running": True, "direct_peers": [], "relay_legs_open": [], "punches": 0, "punched": 0}
        assert seen["hole_punching"] == punching
    shown = subprocess.run(
        [sys.executable, "-m", "node.cli", "status", "--home", str(net.nodes[0].config.home)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "network   public (seen at 127.0.0.1); relaying for members (0 reservations, 0 circuits)" in shown


def _record_envelope(net: Network, index: int, extra: str) -> bytes:
    """A fresh record of node ``index``'s own key and libp2p identity, with one more address."""
    config = net.nodes[index].config
    signer = Signer(read_secret(config.app_key_path, 32))
    seed = read_secret(config.p2p_key_path, 32)
    now = int(time.time() * 1000)
    peer_id, binding = peers.sign_binding(seed, net.community, signer.public_key, now + 3_600_000)
    own = peer_addr(config).rsplit("/p2p/", 1)[0]
    addrs = tuple(bytes(multiaddr.Multiaddr(a).to_bytes()) for a in (own, extra))
    return signer.envelope(net.community, Kind.PEER, PeerBody(peer_id, addrs, now + 3_600_000, binding), now)


def test_records_spread_by_gossip_and_reach_an_offline_node_by_sync(net: Network) -> None:
    alice = net.dev.founders[0].address
    net.nodes[2].stop()
    # a peer that speaks gossip only, connected to node 1 alone, gossips a new record of node 0
    with raw_peer(net, connect_to=1) as gossiper:
        gossiper.publish(_record_envelope(net, 0, MARKER))
        for i in (1, 0):  # node 0 has it only if node 1 forwarded it: gossip between the nodes
            wait_until(lambda: f"{MARKER}/p2p/" in " ".join((record_of(net, i, alice) or {})["addrs"]), 30, "gossip")  # noqa: B023
    net.nodes[2].start()
    wait_until(lambda: f"{MARKER}/p2p/" in " ".join((record_of(net, 2, alice) or {})["addrs"]), 60, "sync to node 2")
    assert (record_of(net, 2, alice) or {})["envelope"] == (record_of(net, 1, alice) or {})["envelope"]


def test_a_bad_binding_is_rejected_and_stored_nowhere(net: Network) -> None:
    """bob's app key signs a record of alice's node: alice's node never bound itself to bob."""
    config0, config1 = net.nodes[0].config, net.nodes[1].config
    bob = Signer(read_secret(config1.app_key_path, 32))
    now = int(time.time() * 1000)
    alice = Signer(read_secret(config0.app_key_path, 32)).public_key
    peer_id, binding = peers.sign_binding(read_secret(config0.p2p_key_path, 32), net.community, alice, now + 60_000)
    forged = bob.envelope(net.community, Kind.PEER, PeerBody(peer_id, (bytes(4),), now + 60_000, binding), now)
    before = net.refused(2).get("bad_binding", 0)
    with raw_peer(net, connect_to=2) as attacker:
        attacker.publish(forged)
        wait_until(lambda: net.refused(2).get("bad_binding", 0) > before, 30, "node 2 to refuse the forged record")
    assert (record_of(net, 2, net.dev.founders[1].address) or {})["peer_id"] == net.nodes[1].ready["peer_id"]


def test_a_node_restarted_with_no_bootstrap_reconnects_from_its_address_book(net: Network) -> None:
    node = net.nodes[2]
    node.stop()
    # a new port: the others' records and bootstrap lists point at the old one, so only node 2
    # can make the connection, from the records in its own store
    node.config = node.config.with_changes(bootstrap=(), p2p_port=free_port())
    node.config.save()
    node.start()
    wait_until(lambda: len(node.api.get("/v1/peers")["peers"]) == 2, 60, "node 2 to reconnect to both")
    status = net.status(2)["discovery"]
    assert status["keeper"]["dials"] >= 2
    # and its new address reaches the others (its new record, by gossip or the sync on connecting)
    carol = net.dev.founders[2].address
    wait_until(lambda: (record_of(net, 0, carol) or {}).get("addrs") == [peer_addr(node.config)], 30, "new record")


def test_a_removed_members_record_is_no_longer_used(net: Network) -> None:
    gone = net.dev.founders[2].address
    a, b = net.client(0), net.client(1)
    wait_until(lambda: peer_messages_of(net, 0, gone) >= 1, 30, "node 0 to hold the member's PEER message")
    created, _ = a.propose_remove_member(gone, "moved away")
    a.cast_vote(created.proposal_id, Support.FOR)
    b.cast_vote(created.proposal_id, Support.FOR)
    net.wait_applied(a.execute(created).block_number)
    for i in (0, 1):
        wait_until(lambda: record_of(net, i, gone) is None, 30, "the removed member's record to go")  # noqa: B023
    # its PEER messages leave the store as well: with the chain's effects, a moment after the
    # address book's filter stops using it (asked of the store itself: the status's count of PEER
    # messages also moves when the others re-issue theirs)
    for i in (0, 1):
        wait_until(lambda: peer_messages_of(net, i, gone) == 0, 30, "the removed member's PEER messages to go")  # noqa: B023


def peer_messages_of(net: Network, index: int, member: str) -> int:
    """How many PEER messages by ``member`` node ``index`` stores (read-only, beside the node)."""
    db = net.nodes[index].config.db_path
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE kind = ? AND author = ?", (int(Kind.PEER), member)
        ).fetchone()
    return int(row[0])
