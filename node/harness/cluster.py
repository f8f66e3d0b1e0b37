"""Several nodes on one machine, each its own process: what ``kiez devnet``, the integration
tests and the benchmarks start, through the same code.

A node home is prepared like ``kiez init`` does (config, app key, libp2p key, token, all 0600)
but without an encrypted keystore: the devnet signs its governance transactions with Anvil's dev
accounts directly, and a node never needs the member's Ethereum key to run. Each node runs as
``python -m node.cli node run`` so that nodes never share an interpreter (py-libp2p saturates
when many hosts share one process: ARCHITECTURE.md, "py-libp2p facts").
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import trio

from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import Support
from node.api.client import ApiClient
from node.chain import ChainWatcher
from node.config import NodeConfig, create_secrets, read_secret
from node.core.signing import Signer
from node.core.types import AppKey, Community, Kind, PostBody
from node.core.validation import Via
from node.daemon.service import NodeService
from node.errors import ApiError, NodeError
from node.harness.placement import Placement
from node.store import Store


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_home(
    home: Path,
    *,
    rpc_url: str,
    community: str,
    chain_id: int,
    name: str,
    bootstrap: tuple[str, ...] = (),
    poll_interval: float = 0.5,
) -> NodeConfig:
    """A node home with fresh keys on free ports; returns its configuration."""
    config = NodeConfig(
        home=home,
        rpc_url=rpc_url,
        community=community,
        chain_id=chain_id,
        p2p_port=free_port(),
        api_port=free_port(),
        bootstrap=bootstrap,
        poll_interval=poll_interval,
        name=name,
    )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    create_secrets(config)
    config.save()
    return config


def app_key_of(config: NodeConfig) -> AppKey:
    return Signer(read_secret(config.app_key_path, 32)).public_key


def peer_addr(config: NodeConfig) -> str:
    """The multiaddr other nodes dial to reach this one (known before it starts)."""
    from node.p2p.identity import peer_id_from_seed  # noqa: PLC0415 - libp2p only where needed

    peer = peer_id_from_seed(read_secret(config.p2p_key_path, 32))
    return f"/ip4/{config.p2p_host}/tcp/{config.p2p_port}/p2p/{peer}"


@dataclass
class NodeProcess:
    """One running node. ``start`` returns once it printed its ready line."""

    config: NodeConfig
    process: subprocess.Popen[bytes] | None = None
    ready: dict[str, Any] = field(default_factory=dict)
    log_path: Path | None = None
    #: Run the node through this command, e.g. ``("ip", "netns", "exec", NAME)`` (it must exec it,
    #: so that signals reach the node itself).
    command_prefix: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def api(self) -> ApiClient:
        return ApiClient.for_node(self.config)

    def find(self, path: str) -> dict[str, Any] | None:
        """``GET path`` on the node's API, or None where it answers 404 (not there, or not yet)."""
        try:
            found: dict[str, Any] = self.api.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def has_post(self, post_id: str) -> bool:
        return self.find(f"/v1/posts/{post_id}") is not None

    def start(self, timeout: float = 60.0, log_level: str = "info") -> NodeProcess:
        self.log_path = self.config.home / "node.log"
        log: IO[bytes] = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.command_prefix,
                sys.executable,
                "-m",
                "node.cli",
                "node",
                "run",
                "--home",
                str(self.config.home),
                "--log-level",
                log_level,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches the devnet, which stops us in order
        )
        log.close()
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith(b'{"ready"'):
                self.ready = json.loads(line)["ready"]
                return self
        self.kill()
        raise NodeError(f"node {self.name} did not start:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, the way a member's Ctrl-C stops it; SIGKILL if it does not stop in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def kill(self) -> None:
        """SIGKILL: a crash, for durability tests."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    """Polls ``predicate()`` until it is true; raises ``NodeError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except NodeError:
            pass
        if time.monotonic() > deadline:
            raise NodeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def until_accepted(call: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Retries an API request the node refuses for now (422: e.g. an X25519 key or a room key it
    has not seen yet) until it is accepted; returns its answer. Other errors are raised at once."""
    result: list[Any] = []

    def attempt() -> bool:
        try:
            result.append(call())
        except ApiError as exc:
            if exc.status != 422:
                raise
            return False
        return True

    wait_until(attempt, timeout, what, 0.5)
    return result[0]


@dataclass
class Network:
    dev: DevCommunity
    nodes: list[NodeProcess]
    root: Path
    placement: Placement = field(default_factory=Placement)

    @property
    def community(self) -> Community:
        return Community(self.dev.chain_id, bytes.fromhex(self.dev.address[2:]))

    def client(self, index: int) -> CommunityClient:
        return self.dev.client(self.dev.founders[index])

    def signer(self, index: int) -> Signer:
        return Signer(read_secret(self.nodes[index].config.app_key_path, 32))

    def envelope(self, index: int, text: str, age_ms: int = 0) -> bytes:
        """A post signed with node ``index``'s app key, as a raw peer would send it."""
        now = int(time.time() * 1000) - age_ms
        return self.signer(index).envelope(self.community, Kind.POST, PostBody(text), now)

    def post(self, index: int, text: str) -> str:
        return str(self.nodes[index].api.post("/v1/posts", {"text": text})["id"])

    def status(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = self.placement.api(index, lambda: self.nodes[index].api.get("/v1/status"))
        return result

    def has_post(self, index: int, post_id: str) -> bool:
        return self.nodes[index].has_post(post_id)

    def wait_post(self, post_id: str, present: bool = True, nodes: list[int] | None = None) -> None:
        which = range(len(self.nodes)) if nodes is None else nodes
        wait_until(
            lambda: all(self.has_post(i, post_id) == present for i in which),
            60,
            f"post {post_id[:12]} {'on' if present else 'gone from'} nodes {list(which)}",
        )

    def wait_block(self, block: int) -> None:
        wait_until(
            lambda: all((self.status(i)["chain"]["cursor"] or 0) >= block for i in range(len(self.nodes))),
            60,
            f"every node to apply block {block}",
        )

    def wait_applied(self, block: int) -> None:
        """Waits until every node applied ``block`` and the clock has left that block's second
        (an ending counts at the end of its second, node/spec/wire-format.md section 4)."""
        self.wait_block(block)
        stamp = int(self.client(0).w3.eth.get_block(block)["timestamp"])
        wait_until(lambda: time.time() >= stamp + 1, 5, f"the second of block {block} to pass")

    def refused(self, index: int) -> dict[str, int]:
        result: dict[str, int] = self.status(index)["messages"]["refused"]
        return result

    def hide(self, post_id: str) -> int:
        a, b = self.client(0), self.client(1)
        created, _ = a.propose_hide_post(bytes.fromhex(post_id), "spam")
        a.cast_vote(created.proposal_id, Support.FOR)
        b.cast_vote(created.proposal_id, Support.FOR)
        return a.execute(created).block_number

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


#: Which peers node ``index`` dials, given every node's multiaddr (its own included): a topology.
Bootstrap = Callable[[int, list[str]], tuple[str, ...]]


def everyone(index: int, addrs: list[str]) -> tuple[str, ...]:
    """The default topology: every node dials every other (a full mesh of connections)."""
    return tuple(addrs)


def random_mesh(degree: int = 3, seed: int = 0) -> Bootstrap:
    """A topology in which each node dials ``degree`` others picked at random (reproducible by
    ``seed``); connections go both ways, so a node ends up with ``degree`` or more peers. Draws
    again (still deterministically) until the graph is connected."""

    def pick(count: int) -> list[list[int]]:
        rng = random.Random(seed)  # noqa: S311 - a benchmark topology, not cryptography
        for _ in range(1000):
            chosen = [rng.sample([j for j in range(count) if j != i], min(degree, count - 1)) for i in range(count)]
            if _connected(count, chosen):
                return chosen
        raise ValueError(f"no connected random mesh of {count} nodes with degree {degree}")

    cache: dict[int, list[list[int]]] = {}

    def bootstrap(index: int, addrs: list[str]) -> tuple[str, ...]:
        if len(addrs) not in cache:
            cache[len(addrs)] = pick(len(addrs))
        return tuple(addrs[j] for j in cache[len(addrs)][index])

    return bootstrap


def _connected(count: int, dials: list[list[int]]) -> bool:
    links: list[set[int]] = [set() for _ in range(count)]
    for i, targets in enumerate(dials):
        for j in targets:
            links[i].add(j)
            links[j].add(i)
    reached, todo = {0}, [0]
    while todo:
        for j in links[todo.pop()] - reached:
            reached.add(j)
            todo.append(j)
    return len(reached) == count


def start_network(
    anvil: Anvil,
    root: Path,
    size: int = 3,
    nodes: int | None = None,
    *,
    bootstrap: Bootstrap | None = None,
    configure: Callable[[NodeConfig], NodeConfig] | None = None,
    placement: Placement | None = None,
) -> Network:
    """A community of ``size`` founders on ``anvil``; the first ``nodes`` of them (default: all)
    run a node. ``bootstrap`` says whom each node dials (default: everyone, see ``random_mesh``
    for a sparse topology); ``configure`` may change each node's configuration (its ``p2p_host``,
    ``sync_interval`` ...) before it is saved; ``placement`` says where the nodes run and the calls
    are made (default: this machine's loopback). Returns once they form a mesh and see their keys."""
    running = size if nodes is None else nodes
    topology = everyone if bootstrap is None else bootstrap
    where = Placement() if placement is None else placement
    dev = where.chain(lambda: deploy_dev_community(anvil, founders=size))
    configs: list[NodeConfig] = []
    for index, founder in enumerate(dev.founders[:running]):
        config = prepare_home(
            root / f"node{index}",
            rpc_url=anvil.rpc_url,
            community=dev.address,
            chain_id=dev.chain_id,
            name=f"node{index}",
            poll_interval=0.2,
        )
        config = where.configure(index, config)  # the placement's changes first, then the caller's
        if configure is not None:
            config = configure(config)
        config.save()
        key = app_key_of(config)
        where.chain(lambda: dev.client(founder).add_key(key))  # noqa: B023 - called right here
        configs.append(config)
    addrs = [peer_addr(c) for c in configs]
    processes = []
    for index, config in enumerate(configs):
        connected = config.with_changes(bootstrap=topology(index, addrs))
        connected.save()
        processes.append(NodeProcess(connected, command_prefix=where.command_prefix(index)))
    network = Network(dev, processes, root, where)
    try:
        where.start(processes)
        if running > 1:
            wait_until(lambda: all(network.status(i)["mesh_peers"] >= 1 for i in range(running)), 60, "a mesh")
        wait_until(lambda: all(network.status(i)["app_key_active"] for i in range(running)), 60, "active app keys")
    except BaseException:
        network.stop()
        raise
    return network


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
