"""Nodes whose stores already hold many posts when they start: the set-up of the benchmarks that
measure a node with a long history (``scripts/bench_sync.py``, ``scripts/bench_memory.py``).

Each node home belongs to one founder of a fresh community on a fresh Anvil chain, with its app
key authorised; posts are signed with the homes' app keys and stored through sync validation
before the node starts (``fill_store``), so a node starts with its history already in place.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from governance.anvil import start_anvil
from governance.devchain import DevCommunity, deploy_dev_community
from node.config import NodeConfig, read_secret
from node.core.signing import Signer
from node.core.types import Community
from node.harness.cluster import NodeProcess, app_key_of, fill_store, make_posts, peer_addr, prepare_home


@dataclass
class History:
    """Prepared node homes (by name) of one community; none of them runs until ``start``."""

    dev: DevCommunity
    homes: dict[str, NodeConfig]

    @property
    def community(self) -> Community:
        return Community(self.dev.chain_id, bytes.fromhex(self.dev.address[2:]))

    def posts(self, count: int, authors: list[str] | None = None) -> list[bytes]:
        """``count`` posts (``make_posts``) signed round-robin by the app keys of ``authors``
        (default: every home)."""
        names = list(self.homes) if authors is None else authors
        signers = [Signer(read_secret(self.homes[name].app_key_path, 32)) for name in names]
        return make_posts(signers, self.community, count)

    def fill(self, name: str, posts: list[bytes]) -> None:
        """Stores ``posts`` in the (stopped) node ``name``'s database, through sync validation."""
        fill_store(self.homes[name], self.dev.client(), posts)

    def start(self, name: str, peer: str | None = None) -> NodeProcess:
        """Starts node ``name``; with ``peer``, that node is the only one it dials."""
        config = self.homes[name]
        if peer is not None:
            config = config.with_changes(bootstrap=(peer_addr(self.homes[peer]),))
            config.save()
        return NodeProcess(config).start()


@contextmanager
def fresh_history(names: list[str], prefix: str) -> Iterator[History]:
    """A fresh Anvil and community with one founder per name, and one node home per founder in a
    temporary folder (``prefix``); both are gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, start_anvil() as anvil:
        dev = deploy_dev_community(anvil, founders=len(names))
        homes: dict[str, NodeConfig] = {}
        for index, name in enumerate(names):
            config = prepare_home(
                Path(tmp) / name, rpc_url=anvil.rpc_url, community=dev.address, chain_id=dev.chain_id, name=name
            )
            dev.client(dev.founders[index]).add_key(app_key_of(config))
            homes[name] = config
        yield History(dev, homes)
