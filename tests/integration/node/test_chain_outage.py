"""The chain endpoint goes down and comes back: the node keeps serving, says so, and catches up."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import start_anvil
from node.harness.cluster import start_network
from node.harness.process import wait_until


def test_the_node_serves_through_an_rpc_outage(tmp_path: Path) -> None:
    state = tmp_path / "chain-state.json"
    chain = start_anvil(extra_args=("--state", str(state)))
    net = start_network(chain, tmp_path, size=2, nodes=1)
    node = net.nodes[0]
    try:
        before = net.post(0, "before the outage")

        chain.stop()  # SIGTERM: Anvil writes its state to the file
        wait_until(lambda: not net.status(0)["chain"]["healthy"], 30, "the node to notice the outage")
        assert "cannot reach the chain" in net.status(0)["chain"]["last_error"]
        # the feed and publishing keep working without the chain
        during = net.post(0, "during the outage")
        assert [item["id"] for item in node.api.get("/v1/feed")["items"]] == [during, before]

        chain = start_anvil(port=chain.port, extra_args=("--state", str(state)))
        wait_until(lambda: net.status(0)["chain"]["healthy"], 60, "the node to reconnect to the chain")
        net.wait_block(net.hide(before))  # a decision made after the outage reaches the node
        assert [item["id"] for item in node.api.get("/v1/feed")["items"]] == [during]
    finally:
        net.stop()
        chain.stop()
