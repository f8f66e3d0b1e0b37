"""The chain watcher, in process, behind a misbehaving endpoint (``HostileRpc`` before a real
Anvil): what it does where a running node's status alone cannot show it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from web3 import Web3

from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import DevCommunity
from governance.errors import BadReply, GovernanceError
from governance.rpc import EndpointProvider
from node.chain import ChainWatcher, WatcherConfig
from node.store import Store
from tests.integration.node.chain.hostile_rpc import HostileRpc, hostile_rpc


@pytest.fixture
def proxy(community: DevCommunity) -> Iterator[HostileRpc]:
    with hostile_rpc(community.rpc_url) as running:
        yield running


def watcher_through(proxy: HostileRpc, community: DevCommunity, store: Store, **config: Any) -> ChainWatcher:
    w3 = Web3(EndpointProvider(proxy.url, timeout=5.0, max_reply_bytes=1 << 20))
    client = CommunityClient(w3, community.address)
    return ChainWatcher(client, store, store.chain.load_view(), WatcherConfig(**config))


def poll(watcher: ChainWatcher) -> bool:
    async def main() -> bool:
        with trio.fail_after(30):
            return await watcher.poll_once()

    return trio.run(main)


def test_a_range_whose_logs_are_too_large_is_asked_for_in_halves(
    proxy: HostileRpc, anvil: Anvil, community: DevCommunity, tmp_path: Path
) -> None:
    for index in range(3):
        community.client(community.founders[index]).add_key(bytes([index + 1]) * 32)
    for _ in range(8):  # more blocks than the first range asks for
        anvil.rpc("evm_mine", [])
    asked: list[int] = []

    def bloated(method: str, params: list[Any], result: Any) -> Any:
        size = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
        asked.append(size)
        return result if size <= 2 else [*result, "x" * (2 << 20)]  # more than the 1 MiB read

    proxy.rewrite_results(bloated, {"eth_getLogs"})
    store = Store.open(tmp_path / "node.db")
    watcher = watcher_through(proxy, community, store, max_range=8)
    with pytest.raises(BadReply, match=r"reply too large: .* asking for 4 blocks at a time from now on"):
        poll(watcher)
    with pytest.raises(BadReply, match="asking for 2 blocks at a time"):
        poll(watcher)
    while poll(watcher):
        pass
    assert asked[:2] == [8, 4]
    assert max(asked[2:]) == 2
    assert len(watcher.view.keys) == 3
    store.close()


def test_an_unreadable_contract_answer_is_reported_not_raised(
    proxy: HostileRpc, community: DevCommunity, tmp_path: Path
) -> None:
    proxy.rewrite_results(lambda method, params, result: "0xzz", {"eth_call"})
    store = Store.open(tmp_path / "node.db")
    watcher = watcher_through(proxy, community, store, poll_interval=0.01, max_backoff=0.05)
    with pytest.raises(GovernanceError, match="answered deploymentBlock"):
        poll(watcher)  # a fresh node asks the contract where to start

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher.run)
            with trio.fail_after(10):
                while watcher.status.last_error is None:
                    await trio.sleep(0.01)
            proxy.behave()
            with trio.fail_after(10):
                await watcher.caught_up.wait()
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert watcher.status.healthy
    assert len(watcher.view.members) == 3
    store.close()
