"""Nodes whose stores already hold many posts when they start: the set-up of the benchmarks that
measure a node with a long history (``scripts/bench_sync.py``, ``scripts/bench_memory.py``).

Each node home belongs to one founder of a fresh community on a fresh Anvil chain, with its app
key authorised; posts are signed with the homes' app keys and stored through sync validation
before the node starts (``fill_store``), so a node starts with its history already in place.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from governance.anvil import Anvil, start_anvil
from governance.client import CommunityClient
from governance.devchain import DevCommunity, deploy_dev_community
from node.chain import ChainWatcher
from node.config import NodeConfig, read_secret
from node.core.signing import Signer
from node.core.types import Community, Kind, PostBody
from node.core.validation import Via
from node.daemon.service import NodeService
from node.errors import NodeError
from node.harness.process import NodeProcess, app_key_of, peer_addr, prepare_home
from node.store import Store

WORDS = [
    "repair",
    "café",
    "ladder",
    "garden",
    "bread",
    "canal",
    "bike",
    "lamp",
    "radio",
    "meeting",
    "sunday",
    "neighbours",
    "tools",
    "share",
]


def make_posts(signers: list[Signer], community: Community, count: int) -> list[bytes]:
    """``count`` posts, oldest first, spread over the last eight minutes (inside every validity
    window: the keys were authorised just before)."""
    now = int(time.time() * 1000)
    start = now - 8 * 60 * 1000
    posts = []
    for n in range(count):
        text = f"#{n}: " + " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(12))
        posts.append(signers[n % len(signers)].envelope(community, Kind.POST, PostBody(text), start + n * 4))
    return posts


def fill_store(config: NodeConfig, client: CommunityClient, envelopes: list[bytes]) -> None:
    """Stores posts in a node's database (before it starts), through sync validation."""
    store = Store.open(config.db_path)
    view = store.chain.load_view()
    watcher = ChainWatcher(client, store, view)

    async def catch_up() -> None:
        while await watcher.poll_once():
            pass

    trio.run(catch_up)
    community = Community(config.chain_id, bytes.fromhex(config.community[2:]))
    service = NodeService(store, view, Signer(read_secret(config.app_key_path, 32)), community)
    for start in range(0, len(envelopes), 5000):
        service.ingest_batch(envelopes[start : start + 5000], Via.SYNC)
    stored = store.messages.counts()["post"]
    store.close()
    if stored != len(envelopes):
        raise NodeError(f"filling {config.name}: {stored} of {len(envelopes)} posts stored")


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
        yield found_history(anvil, Path(tmp), names)


def found_history(anvil: Anvil, root: Path, names: list[str], poll_interval: float = 0.5) -> History:
    """A community on ``anvil`` with one founder per name, and one node home per founder under
    ``root``, its app key authorised."""
    dev = deploy_dev_community(anvil, founders=len(names))
    homes: dict[str, NodeConfig] = {}
    for index, name in enumerate(names):
        config = prepare_home(
            root / name,
            rpc_url=anvil.rpc_url,
            community=dev.address,
            chain_id=dev.chain_id,
            name=name,
            poll_interval=poll_interval,
        )
        dev.client(dev.founders[index]).add_key(app_key_of(config))
        homes[name] = config
    return History(dev, homes)
