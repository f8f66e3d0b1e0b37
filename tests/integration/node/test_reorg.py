"""A chain reorganisation undoes the effects of the dropped blocks on a running node."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import start_anvil
from governance.devchain import deploy_dev_community
from governance.types import Support
from node.cluster import NodeProcess, app_key_of, prepare_home, wait_until


def test_a_reorganisation_undoes_a_hide(tmp_path: Path) -> None:
    with start_anvil() as chain:
        dev = deploy_dev_community(chain, founders=2)
        config = prepare_home(
            tmp_path / "alice", rpc_url=chain.rpc_url, community=dev.address, chain_id=dev.chain_id, name="alice"
        )
        dev.client(dev.founders[0]).add_key(app_key_of(config))
        node = NodeProcess(config).start()
        try:
            wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 30, "the app key to be active")
            post = node.api.post("/v1/posts", {"text": "hidden, then not"})["id"]
            fork_point = chain.snapshot()
            a, b = dev.client(dev.founders[0]), dev.client(dev.founders[1])
            created, _ = a.propose_hide_post(bytes.fromhex(post), "spam")
            a.cast_vote(created.proposal_id, Support.FOR)
            b.cast_vote(created.proposal_id, Support.FOR)
            hidden_in = a.execute(created).block_number
            wait_until(lambda: (node.api.get("/v1/status")["chain"]["cursor"] or 0) >= hidden_in, 30, "the hide")
            assert node.api.get("/v1/feed")["items"] == []

            chain.revert(fork_point)  # the four blocks of the vote are gone
            for _ in range(6):  # the other branch grows past them, without the hide
                chain.rpc("evm_mine", [])
            wait_until(lambda: node.api.get("/v1/status")["chain"]["reorgs"] >= 1, 30, "the node to see the reorg")
            wait_until(lambda: len(node.api.get("/v1/feed")["items"]) == 1, 30, "the post to come back")
            assert node.api.get("/v1/status")["store"]["hidden"] == 0
            # the rest of the view is rebuilt from the deployment block
            wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 30, "the view to be rebuilt")
            again = node.api.post("/v1/posts", {"text": "after the reorganisation"})["id"]
            assert len(again) == 64
        finally:
            node.stop()
