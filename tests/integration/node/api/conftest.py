"""API tests run against a real node process: one member of a community of one on a fresh chain."""

from __future__ import annotations

from pathlib import Path

from governance.anvil import Anvil
from governance.devchain import deploy_dev_community
from node.harness.process import NodeProcess, app_key_of, prepare_home, wait_until


def start_member_node(anvil: Anvil, home: Path, command_prefix: tuple[str, ...] = ()) -> NodeProcess:
    """A running node whose app key is active, so what its member publishes is accepted."""
    dev = deploy_dev_community(anvil, founders=1)
    config = prepare_home(home, rpc_url=anvil.rpc_url, community=dev.address, chain_id=dev.chain_id, name="member")
    dev.client(dev.founders[0]).add_key(app_key_of(config))
    node = NodeProcess(config, command_prefix=command_prefix).start()
    try:
        wait_until(lambda: node.api.get("/v1/status")["app_key_active"], 60, "the node's app key to be active")
    except BaseException:
        node.stop()
        raise
    return node
