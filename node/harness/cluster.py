"""Several nodes on one machine, each its own process (``node.harness.process``), joined into a
network: what ``kiez devnet``, the integration tests and the benchmarks start, through the same
code. Nodes never share an interpreter, because py-libp2p saturates when many hosts share one
process (ARCHITECTURE.md, "py-libp2p facts"); ``start_network`` founds a community on a chain,
prepares the homes, authorises the app keys and starts the nodes in a chosen topology.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.anvil import Anvil
from governance.client import CommunityClient
from governance.devchain import DevCommunity, deploy_dev_community
from governance.types import Support
from node.config import NodeConfig, read_secret
from node.core.signing import Signer
from node.core.types import Community, Kind, PostBody
from node.harness.placement import Placement
from node.harness.process import NodeProcess, app_key_of, peer_addr, prepare_home, wait_until


@dataclass
class Network:
    dev: DevCommunity
    nodes: list[NodeProcess]
    root: Path
    placement: Placement = field(default_factory=Placement)
    #: Nodes of non-members (``start_guest``): no account, no key on-chain, dialling the members.
    guests: list[NodeProcess] = field(default_factory=list)

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

    def start_guest(self, name: str) -> NodeProcess:
        """A non-member's node (as ``kiez init --guest`` makes it) dialling every member's node;
        returns once it is connected. Its app key writes nothing until a member invites it."""
        dev = self.dev
        config = prepare_home(
            self.root / name,
            rpc_url=self.nodes[0].config.rpc_url,
            community=dev.address,
            chain_id=dev.chain_id,
            name=name,
            bootstrap=tuple(peer_addr(n.config) for n in self.nodes),
            poll_interval=0.2,
        ).with_changes(sync_interval=self.nodes[0].config.sync_interval)
        config.save()
        node = NodeProcess(config)
        self.guests.append(node)
        node.start()
        wait_until(lambda: node.api.get("/v1/status")["mesh_peers"] >= 1, 60, f"{name} to join the mesh")
        return node

    def stop(self) -> None:
        for node in [*self.guests, *self.nodes]:
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
    sparse: bool | None = None,
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
    all_dials = [topology(index, addrs) for index in range(len(configs))]
    degrees = _degrees(all_dials, addrs)
    processes = []
    for index, config in enumerate(configs):
        dials = all_dials[index]
        # a chosen topology stays that sparse: the keeper would otherwise fill up to target_peers
        # from the address book (every member's node). The target is the node's degree in the
        # chosen graph, not the count of its own dials: with the latter, a node that others dialed
        # first stops dialing its own list, and the graph comes out sparser than chosen.
        # (``sparse``, by default when a topology is given; a NAT lab's homes want the keeper's
        # full target: they dial one public node, and the keeper finds the rest in the book)
        stay_sparse = bootstrap is not None if sparse is None else sparse
        keep = max(1, degrees[index]) if stay_sparse else config.target_peers
        connected = config.with_changes(bootstrap=dials, target_peers=keep)
        connected.save()
        processes.append(
            NodeProcess(connected, command_prefix=where.command_prefix(index), namespace=where.namespace(index))
        )
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


def _degrees(all_dials: list[tuple[str, ...]], addrs: list[str]) -> list[int]:
    """Each node's number of distinct neighbours once every node dialed its list."""
    index_of = {addr: i for i, addr in enumerate(addrs)}
    links: list[set[int]] = [set() for _ in addrs]
    for i, dials in enumerate(all_dials):
        for addr in dials:
            j = index_of.get(addr)
            if j is not None and j != i:
                links[i].add(j)
                links[j].add(i)
    return [len(s) for s in links]
