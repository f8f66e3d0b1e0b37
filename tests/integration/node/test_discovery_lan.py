"""Two node processes with no bootstrap at all find each other by mDNS (on by default; the
harness turns it off, so this test turns it back on), exchange their peer records and gossip.
That a LAN peer without a member's record is dropped is tests/integration/node/p2p/test_mdns.py."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import Anvil
from node.harness.cluster import start_network
from node.harness.process import wait_until


def test_nodes_with_no_bootstrap_meet_on_the_lan(anvil: Anvil, tmp_path: Path) -> None:
    net = start_network(
        anvil, tmp_path / "lan", size=2, bootstrap=lambda i, a: (), configure=lambda c: c.with_changes(mdns=True)
    )
    try:
        assert all(net.status(i)["discovery"]["mdns"] for i in range(2))
        wait_until(
            lambda: all(len(net.nodes[i].api.get("/v1/peers/known")["records"]) == 2 for i in range(2)), 60, "records"
        )
        post_id = net.post(0, "found you on the LAN")
        net.wait_post(post_id)
    finally:
        net.stop()
