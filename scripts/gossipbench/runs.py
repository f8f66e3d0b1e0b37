"""The runs: kiez nodes on loopback, js-libp2p nodes, and both again in a lab of network
namespaces (``scripts/netns_lab.py``)."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from netns_lab import CHAIN, CHAIN_ADDRESS, Lab, leaf_address

from gossipbench.common import say
from gossipbench.figures import Run, Step
from gossipbench.js import JsSwarm
from gossipbench.swarm import Direct, KiezSwarm, Submitter
from gossipbench.sweep import Plan, neighbours, sweep, wait_for_topology
from governance.anvil import Anvil, start_anvil
from node.config import NodeConfig
from node.harness.cluster import Bootstrap, start_network
from node.harness.placement import Placement
from node.harness.process import NodeProcess

LAB_P2P_PORT = 4101
LAB_API_PORT = 8601
# The chain watcher's poll period: a node's default (NodeConfig), not start_network's 0.2 s for
# quick tests, which alone costs 10 nodes ~0.3 cores of web3 polling.
POLL_INTERVAL_S = NodeConfig.poll_interval

T = TypeVar("T")


def kiez_status(swarm: KiezSwarm) -> Callable[[int], dict[str, Any]]:
    def status(i: int) -> dict[str, Any]:
        raw = swarm.status(i)
        return {"peers": raw["peers"], "mesh": raw["mesh_peers"]}

    return status


def sweep_kiez(
    label: str,
    anvil: Anvil,
    root: Path,
    args: argparse.Namespace,
    plan: Plan,
    topology: Bootstrap,
    text_length: int,
    callers: list[Submitter],
    started: float,
    placement: Placement | None = None,
) -> list[Step]:
    """Starts ``args.nodes`` kiez nodes on ``anvil`` (``start_network``, placed by ``placement``),
    waits until they form the topology, sweeps and stops them. ``callers[i]`` makes node ``i``'s API
    calls while publishing; ``started`` is when the run began (for the time it took to come up)."""
    net = start_network(
        anvil,
        root,
        size=args.nodes,
        bootstrap=topology,
        configure=lambda c: c.with_changes(sync_interval=args.sync_interval, poll_interval=POLL_INTERVAL_S),
        placement=placement,
    )
    swarm = KiezSwarm(net.nodes, callers, text_length)
    try:
        wait_for_topology(kiez_status(swarm), neighbours(topology, swarm.size), "the kiez nodes' topology")
        say(f"{label}: {swarm.size} nodes up and meshed in {time.monotonic() - started:.0f} s")
        return sweep(swarm, label, plan)
    finally:
        swarm.stop()


def run_kiez_loopback(args: argparse.Namespace, plan: Plan, topology: Bootstrap, text_length: int) -> Run:
    run = Run("py")
    with tempfile.TemporaryDirectory(prefix="kiez-bench-gossip-") as tmp, start_anvil() as anvil:
        say(f"py: starting Anvil and {args.nodes} kiez nodes on loopback …")
        started = time.monotonic()
        callers = [Direct() for _ in range(args.nodes)]
        try:
            run.steps = sweep_kiez("py", anvil, Path(tmp), args, plan, topology, text_length, list(callers), started)
        finally:
            for caller in callers:
                caller.close()
    return run


def run_js(
    label: str,
    args: argparse.Namespace,
    plan: Plan,
    topology: Bootstrap,
    hosts: list[str],
    prefixes: list[tuple[str, ...]],
) -> Run:
    run = Run(label)
    with tempfile.TemporaryDirectory(prefix="kiez-bench-js-") as tmp:
        say(f"{label}: starting {args.nodes} js-libp2p nodes …")
        started = time.monotonic()
        port = LAB_P2P_PORT if prefixes[0] else 0
        swarm = JsSwarm(args.nodes, Path(tmp), hosts, prefixes, port)
        try:
            swarm.connect(topology)
            wait_for_topology(swarm.stats, neighbours(topology, args.nodes), "the js nodes' topology")
            say(f"{label}: {args.nodes} nodes up and meshed in {time.monotonic() - started:.0f} s")
            run.steps = sweep(swarm, label, plan)
        finally:
            swarm.stop()
    return run


class LabPlacement(Placement):
    """Kiez nodes in the lab: the chain is called from inside its namespace, node ``i`` runs in
    namespace ``i`` on the lab's fixed ports and its API is called from inside that namespace;
    the nodes start all at once."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def chain(self, call: Callable[[], T]) -> T:
        return self.lab.thread(CHAIN).call(call)

    def api(self, index: int, call: Callable[[], T]) -> T:
        return self.lab.thread(Lab.node_ns(index)).call(call)

    def configure(self, index: int, config: NodeConfig) -> NodeConfig:
        return config.with_changes(p2p_host=leaf_address(index), p2p_port=LAB_P2P_PORT, api_port=LAB_API_PORT)

    def command_prefix(self, index: int) -> tuple[str, ...]:
        return ("ip", "netns", "exec", Lab.node_ns(index))

    def start(self, nodes: list[NodeProcess]) -> None:
        with ThreadPoolExecutor(max_workers=len(nodes)) as starter:
            for future in [starter.submit(node.start) for node in nodes]:
                future.result()


def run_netns(
    args: argparse.Namespace, plan: Plan, topology: Bootstrap, text_length: int
) -> tuple[list[Run], str, dict[str, Any]]:
    runs: list[Run] = []
    with Lab(args.nodes, impairment=args.impairment) as lab:
        say(f"netns: {args.nodes} node namespaces + chain + hub; impairment: {lab.note}")
        py = Run("netns_py")
        runs.append(py)
        with tempfile.TemporaryDirectory(prefix="kiez-bench-netns-") as tmp:
            started = time.monotonic()
            chain = lab.thread(CHAIN)
            anvil = chain.call(lambda: start_anvil(host=CHAIN_ADDRESS, port=8545))
            try:
                threads: list[Submitter] = [lab.thread(Lab.node_ns(i)) for i in range(args.nodes)]
                placement = LabPlacement(lab)
                py.steps = sweep_kiez(
                    "netns_py", anvil, Path(tmp), args, plan, topology, text_length, threads, started, placement
                )
            finally:
                anvil.stop()
        if not args.skip_js:
            hosts = [leaf_address(i) for i in range(args.nodes)]
            prefixes: list[tuple[str, ...]] = [("ip", "netns", "exec", Lab.node_ns(i)) for i in range(args.nodes)]
            runs.append(run_js("netns_js", args, plan, topology, hosts, prefixes))
        note = lab.note
    if lab.delayer_stats:
        stats = lab.delayer_stats
        say(
            f"netns: NFQUEUE delayer: {stats.get('packets')} packets, {stats.get('dropped')} dropped, verdicts late "
            f"by {stats.get('late_mean_ms')} ms on average, {stats.get('late_max_ms')} ms at most; it used "
            f"{stats.get('cores')} cores on average (CPU the nodes did not have)"
        )
    return runs, note, lab.delayer_stats
