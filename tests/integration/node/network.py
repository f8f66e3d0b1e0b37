"""A small community of real node processes on a real Anvil, and a raw attacker peer, for tests.

Built with the same code as ``kiez devnet`` (node.cluster): homes prepared like ``kiez init``,
app keys registered on-chain, one ``kiez node run`` process per member.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import Support
from node.cluster import NodeProcess, app_key_of, peer_addr, prepare_home, wait_until
from node.config import NodeConfig, read_secret
from node.core.signing import Signer
from node.core.types import Community, Kind, PostBody
from node.errors import ApiError

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Network:
    dev: DevCommunity
    nodes: list[NodeProcess]
    root: Path

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
        result: dict[str, Any] = self.nodes[index].api.get("/v1/status")
        return result

    def has_post(self, index: int, post_id: str) -> bool:
        try:
            self.nodes[index].api.get(f"/v1/posts/{post_id}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

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


def start_network(anvil: Anvil, root: Path, size: int = 3) -> Network:
    dev = deploy_dev_community(anvil, founders=size)
    configs: list[NodeConfig] = []
    for index, founder in enumerate(dev.founders):
        config = prepare_home(
            root / f"node{index}",
            rpc_url=anvil.rpc_url,
            community=dev.address,
            chain_id=dev.chain_id,
            name=f"node{index}",
            poll_interval=0.2,
        )
        dev.client(founder).add_key(app_key_of(config))
        configs.append(config)
    everyone = tuple(peer_addr(c) for c in configs)
    nodes = []
    for config in configs:
        connected = config.with_changes(bootstrap=everyone)
        connected.save()
        nodes.append(NodeProcess(connected))
    network = Network(dev, nodes, root)
    try:
        for node in nodes:
            node.start()
        wait_until(lambda: all(network.status(i)["mesh_peers"] >= 1 for i in range(size)), 60, "a mesh")
        wait_until(lambda: all(network.status(i)["app_key_active"] for i in range(size)), 60, "active app keys")
    except BaseException:
        network.stop()
        raise
    return network


@dataclass
class RawPeer:
    """The attacker: a libp2p peer that publishes any bytes on the community's topic."""

    process: subprocess.Popen[bytes]
    events: list[dict[str, Any]] = field(default_factory=list)

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the raw peer exited")
        event: dict[str, Any] = json.loads(line)
        self.events.append(event)
        return event

    def wait_for(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._read()
            if predicate(event):
                return event
        raise TimeoutError("the raw peer did not report the expected event")

    def publish(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data.hex().encode() + b"\n")
        self.process.stdin.flush()
        self.wait_for(lambda e: e["event"] == "published")


@contextmanager
def raw_peer(network: Network, connect_to: int = 0) -> Iterator[RawPeer]:
    topic = network.nodes[connect_to].config.topic
    log: IO[bytes] = (network.root / "raw_peer.log").open("ab")
    target = peer_addr(network.nodes[connect_to].config)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.node.raw_peer", "--topic", topic, "--bootstrap", target],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    log.close()
    peer = RawPeer(process)
    try:
        peer.wait_for(lambda e: e["event"] == "ready")
        peer.wait_for(lambda e: e["event"] == "mesh" and e["peers"])
        yield peer
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
