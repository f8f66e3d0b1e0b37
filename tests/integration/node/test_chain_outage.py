"""The chain endpoint goes down and comes back: the node keeps serving, says so, and catches up."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import start_anvil
from governance.devchain import deploy_dev_community
from governance.types import Support
from node.cluster import NodeProcess, app_key_of, prepare_home, wait_until


def test_the_node_serves_through_an_rpc_outage(tmp_path: Path) -> None:
    state = tmp_path / "chain-state.json"
    chain = start_anvil(extra_args=("--state", str(state)))
    port = chain.port
    dev = deploy_dev_community(chain, founders=2)
    config = prepare_home(
        tmp_path / "alice", rpc_url=chain.rpc_url, community=dev.address, chain_id=dev.chain_id, name="alice"
    )
    dev.client(dev.founders[0]).add_key(app_key_of(config))
    node = NodeProcess(config).start()
    try:
        wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
        before = node.api.post("/v1/posts", {"text": "before the outage"})["id"]

        chain.stop()  # SIGTERM: Anvil writes its state to the file
        wait_until(lambda: not node.api.get("/v1/status")["chain"]["healthy"], 30, "the node to notice the outage")
        status = node.api.get("/v1/status")["chain"]
        assert "cannot reach the chain" in status["last_error"]
        # the feed and publishing keep working without the chain
        during = node.api.post("/v1/posts", {"text": "during the outage"})["id"]
        ids = [item["id"] for item in node.api.get("/v1/feed")["items"]]
        assert ids == [during, before]

        chain = start_anvil(port=port, extra_args=("--state", str(state)))
        wait_until(lambda: node.api.get("/v1/status")["chain"]["healthy"], 60, "the node to reconnect to the chain")
        a, b = dev.client(dev.founders[0]), dev.client(dev.founders[1])
        created, _ = a.propose_hide_post(bytes.fromhex(before), "caught up?")
        a.cast_vote(created.proposal_id, Support.FOR)
        b.cast_vote(created.proposal_id, Support.FOR)
        block = a.execute(created).block_number
        wait_until(lambda: (node.api.get("/v1/status")["chain"]["cursor"] or 0) >= block, 30, "the node to catch up")
        assert [item["id"] for item in node.api.get("/v1/feed")["items"]] == [during]
    finally:
        node.stop()
        chain.stop()
