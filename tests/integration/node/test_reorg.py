"""Chain reorganisations on a running node: without confirmations the view follows the chain's new
history; deeper than the confirmations, the node keeps its view until the endpoint serves the
applied history again, or until a restart accepts the new one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from governance.anvil import Anvil, start_anvil
from governance.humanize import short_hex
from node.harness.cluster import Network, start_network
from node.harness.process import wait_until
from tests.integration.node.chain.hostile_rpc import HostileRpc, hostile_rpc


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


@pytest.fixture(scope="module")
def confirmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Anvil, Network, HostileRpc]]:
    """A node that waits for 2 confirmations, on a chain mining a block every 0.2 s, through a
    proxy that can fake the chain's history."""
    with start_anvil(block_time=0.2) as chain, hostile_rpc(chain.rpc_url) as proxy:
        root = tmp_path_factory.mktemp("confirmed")
        net = start_network(
            chain, root, size=2, nodes=1, configure=lambda c: c.with_changes(rpc_url=proxy.url, confirmations=2)
        )
        try:
            yield chain, net, proxy
        finally:
            net.stop()


def _stopped_at(net: Network) -> str:
    """Waits until the node stops following after a deep reorganisation; returns what it says."""
    says = "reorg deeper than the 2 confirmations at block"
    wait_until(lambda: says in (net.status(0)["chain"]["last_error"] or ""), 30, "the node to report the reorg")
    return str(net.status(0)["chain"]["last_error"])


def _polls_pass(net: Network, blocks: int) -> None:
    """Waits until the node has seen the chain grow by ``blocks`` (so it polled meanwhile)."""
    head = net.status(0)["chain"]["head"]
    wait_until(lambda: net.status(0)["chain"]["head"] >= head + blocks, 30, "the chain to grow")


def test_a_faked_history_deeper_than_the_confirmations_changes_nothing(
    confirmed: tuple[Anvil, Network, HostileRpc],
) -> None:
    _, net, proxy = confirmed
    node = net.nodes[0]
    post = net.post(0, "hidden, and it stays hidden")
    net.wait_block(net.hide(post))
    applied = net.status(0)["chain"]["cursor"]
    fake = "0x" + "ee" * 32

    def faked(method: str, params: list[Any], result: Any) -> Any:
        old = params[0] != "latest" and int(params[0], 16) <= applied
        return {**result, "hash": fake} if result and old else result

    proxy.rewrite_results(faked, {"eth_getBlockByNumber"})
    said = _stopped_at(net)
    assert f"now reports {short_hex(fake)} there" in said
    key = secrets.token_bytes(32)
    decided = net.client(1).add_key(key).block_number
    _polls_pass(net, 5)
    chain = net.status(0)["chain"]
    assert node.running
    assert chain["reorgs"] == 0  # the view was not rebuilt on the endpoint's word
    assert chain["cursor"] < decided  # nor followed further
    assert node.api.get("/v1/feed")["items"] == []  # the post stays hidden
    assert net.status(0)["store"]["hidden"] == 1
    assert net.status(0)["app_key_active"]

    proxy.behave()  # the endpoint serves the applied history again: the node follows on
    wait_until(lambda: net.status(0)["chain"]["cursor"] >= decided, 30, "the node to follow on")
    assert net.status(0)["chain"]["healthy"]
    assert net.status(0)["chain"]["reorgs"] == 0


def test_a_real_reorganisation_deeper_than_the_confirmations_waits_for_a_restart(
    confirmed: tuple[Anvil, Network, HostileRpc],
) -> None:
    chain, net, proxy = confirmed
    node = net.nodes[0]
    proxy.behave()

    def shown(post_id: str) -> bool:
        return post_id in {item["id"] for item in node.api.get("/v1/feed")["items"]}

    post = net.post(0, "hidden, then not")
    fork_point = net.client(0).head()
    net.wait_block(net.hide(post))
    hidden = net.status(0)["store"]["hidden"]
    assert not shown(post)

    chain.rpc("anvil_reorg", [net.client(0).head() - fork_point, []])  # the vote's blocks are replaced
    assert not net.client(0).is_hidden(bytes.fromhex(post))
    _stopped_at(net)
    _polls_pass(net, 5)
    assert node.running
    assert not shown(post)  # the view is kept as it was
    assert net.status(0)["store"]["hidden"] == hidden

    node.stop()  # the operator looked, and accepts the chain as it is now
    node.start()
    wait_until(lambda: shown(post), 30, "the post to come back")
    wait_until(lambda: net.status(0)["chain"]["healthy"], 30, "the node to follow the chain")
    assert net.status(0)["chain"]["reorgs"] == 1  # since the restart: the one it accepted
    assert net.status(0)["store"]["hidden"] == hidden - 1
