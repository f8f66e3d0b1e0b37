"""A running node behind a chain endpoint that misbehaves: it stays up and serving, applies
nothing of what it cannot verify, says what is wrong in its status, and recovers once the
endpoint behaves again.

The node is a real process; its endpoint is ``HostileRpc``, a proxy in front of a real Anvil that
the test switches between honest forwarding and one kind of mischief at a time. Each case makes
a decision on the chain while the endpoint misbehaves (a new app key), so a node that believed
the endpoint, or skipped past what it could not read, would show it in its view or its cursor.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from governance.anvil import Anvil
from node.harness.cluster import Network, start_network
from node.harness.process import NodeProcess, wait_until
from node.store import Store
from tests.integration.node.chain.hostile_rpc import HostileRpc, hostile_rpc

FIFTY_MB = b'{"jsonrpc": "2.0", "id": 1, "result": "0x' + b"00" * 25_000_000 + b'"}'
OTHER_HASH = "0x" + "ee" * 32


@pytest.fixture(scope="module")
def proxied(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Network, HostileRpc]]:
    """One node whose chain endpoint is the proxy; founder 1 has no node and makes decisions."""
    with hostile_rpc(anvil.rpc_url) as proxy:
        root = tmp_path_factory.mktemp("hostile")
        net = start_network(anvil, root, size=2, nodes=1, configure=lambda c: c.with_changes(rpc_url=proxy.url))
        try:
            yield net, proxy
        finally:
            net.stop()


@pytest.fixture
def hostile(proxied: tuple[Network, HostileRpc]) -> Iterator[tuple[Network, HostileRpc]]:
    net, proxy = proxied
    proxy.behave()
    if not net.nodes[0].running:  # a case before killed it: each case starts with a live node
        net.nodes[0].start()
    wait_until(lambda: net.status(0)["chain"]["healthy"], 60, "the node to follow the chain")
    yield net, proxy
    proxy.behave()


def view_of(node: NodeProcess) -> tuple[Any, ...]:
    """The node's view of the chain as its database holds it: members, keys, hides, cursor."""
    store = Store.open(node.config.db_path)
    try:
        view = store.chain.load_view()
        members = sorted((m, tuple(r.intervals)) for m, r in view.members.items())
        keys = sorted((k.hex(), r.owner, r.revoked_ms) for k, r in view.keys.items())
        cursor = store.chain.cursor()
        # the cursor's block, not its clock: an empty poll that lands before the endpoint turns
        # hostile may move complete_until_ms within the same block, which is no reply's doing
        return members, keys, sorted(view.hidden), cursor and (cursor.block_number, cursor.block_hash)
    finally:
        store.close()


def each_log(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[str, list[Any], Any], Any]:
    return lambda method, params, result: [change(log) for log in result] if isinstance(result, list) else result


def blocks_but_latest_unknown(method: str, params: list[Any], result: Any) -> Any:
    """An endpoint behind: it knows its latest block, and no block before it."""
    return result if params and params[0] == "latest" else None


Mischief = Callable[[HostileRpc], None]
CASES: list[tuple[str, Mischief, str]] = [
    ("deep nesting", lambda p: p.reply_with(b"[" * 100_000), "sent a reply that is not valid JSON"),
    ("50 MB of logs", lambda p: p.reply_with(FIFTY_MB, {"eth_getLogs"}), "reply too large"),
    ("not JSON", lambda p: p.reply_with(b"<html>502 Bad Gateway</html>"), "not valid JSON"),
    (
        "another chain id",
        lambda p: p.rewrite_results(lambda m, a, r: "0x5", {"eth_chainId"}),
        "the chain endpoint reports chain id 5, but this community lives on 31337",
    ),
    (
        "a block number that is not hex",
        lambda p: p.rewrite_results(lambda m, a, r: {**r, "number": "seven"} if r else r, {"eth_getBlockByNumber"}),
        "is 'seven', not a hex quantity",
    ),
    (
        "a log field of the wrong type",
        lambda p: p.rewrite_results(each_log(lambda log: {**log, "logIndex": 12}), {"eth_getLogs"}),
        "is 12, not a hex quantity",
    ),
    (
        "logs naming another block hash",
        lambda p: p.rewrite_results(each_log(lambda log: {**log, "blockHash": OTHER_HASH}), {"eth_getLogs"}),
        "the logs do not match the blocks",
    ),
    (
        "logs naming another block number",
        lambda p: p.rewrite_results(
            each_log(lambda log: {**log, "blockNumber": hex(int(log["blockNumber"], 16) - 1)}), {"eth_getLogs"}
        ),
        "lies outside the blocks",
    ),
    (
        "an endpoint that lost the applied blocks",
        lambda p: p.rewrite_results(blocks_but_latest_unknown, {"eth_getBlockByNumber"}),
        "has no block",
    ),
]


@pytest.mark.parametrize(("mischief", "says"), [(m, s) for _, m, s in CASES], ids=[n for n, _, _ in CASES])
def test_the_node_survives_refuses_and_recovers(
    hostile: tuple[Network, HostileRpc], mischief: Mischief, says: str
) -> None:
    net, proxy = hostile
    node = net.nodes[0]
    before = view_of(node)
    mischief(proxy)
    key = secrets.token_bytes(32)
    decided = net.client(1).add_key(key).block_number

    wait_until(lambda: says in (net.status(0)["chain"]["last_error"] or ""), 30, f"the status to say {says!r}")
    assert node.running, f"the node died ({node.process and node.process.returncode}):\n{node.log_tail()}"
    assert len(net.post(0, "while the chain endpoint misbehaves")) == 64  # the API keeps serving
    chain = net.status(0)["chain"]
    assert not chain["healthy"]
    assert (chain["cursor"] or 0) < decided
    assert view_of(node) == before  # nothing of it reached the view

    proxy.behave()
    wait_until(lambda: (net.status(0)["chain"]["cursor"] or 0) >= decided, 60, "the node to catch up")
    assert net.status(0)["chain"]["healthy"]
    assert key.hex() in {k for k, _, _ in view_of(node)[1]}
    assert net.status(0)["chain"]["reorgs"] == 0


def test_kiez_status_names_the_wrong_chain(hostile: tuple[Network, HostileRpc]) -> None:
    net, proxy = hostile
    proxy.rewrite_results(lambda m, a, r: "0x5", {"eth_chainId"})
    wait_until(lambda: not net.status(0)["chain"]["healthy"], 30, "the node to refuse the endpoint")
    shown = subprocess.run(
        [sys.executable, "-m", "node.cli", "status", "--home", str(net.nodes[0].config.home)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[4],
    ).stdout
    assert "NOT FOLLOWING: the chain endpoint reports chain id 5, but this community lives on 31337" in shown
