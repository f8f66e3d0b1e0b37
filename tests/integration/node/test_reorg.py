"""A chain reorganisation undoes the effects of the dropped blocks on a running node."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import start_anvil
from node.harness.cluster import start_network
from node.harness.process import wait_until


def test_a_reorganisation_undoes_a_hide(tmp_path: Path) -> None:
    with start_anvil() as chain:
        net = start_network(chain, tmp_path, size=2, nodes=1)
        node = net.nodes[0]
        try:
            post = net.post(0, "hidden, then not")
            fork_point = chain.snapshot()
            net.wait_block(net.hide(post))  # proposal, two votes, execution: four blocks
            assert node.api.get("/v1/feed")["items"] == []

            chain.revert(fork_point)  # the four blocks of the vote are gone
            for _ in range(6):  # the other branch grows past them, without the hide
                chain.rpc("evm_mine", [])
            wait_until(lambda: net.status(0)["chain"]["reorgs"] >= 1, 30, "the node to see the reorg")
            wait_until(lambda: len(node.api.get("/v1/feed")["items"]) == 1, 30, "the post to come back")
            assert net.status(0)["store"]["hidden"] == 0
            # the rest of the view is rebuilt from the deployment block
            wait_until(lambda: net.status(0)["app_key_active"], 30, "the view to be rebuilt")
            assert len(net.post(0, "after the reorganisation")) == 64
        finally:
            net.stop()
