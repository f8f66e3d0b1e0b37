"""Kiez nodes in a NAT lab (``node.harness.natlab``): the chain in its namespace, each node in a
host namespace of the lab, its API called from a thread in that namespace.

``start_nat_network`` is ``start_network`` with a ``NatPlacement``: node ``i`` runs in
``spots[i]`` (a public host or a home), listens on that namespace's address on fixed ports (each
namespace has ports of its own), and by default dials only the first node, the public one, as a
newcomer dials the nodes its invite names: homes cannot dial each other through their NATs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from governance.anvil import Anvil, start_anvil
from node.config import NodeConfig
from node.harness.cluster import Bootstrap, Network, start_network
from node.harness.natlab import CHAIN_PORT, NatLab
from node.harness.netns import LabError, NamespaceThread, exec_prefix
from node.harness.placement import Placement
from node.harness.process import NodeProcess

NODE_P2P_PORT = 4001
NODE_API_PORT = 8601

T = TypeVar("T")


def start_lab_chain(lab: NatLab) -> Anvil:
    """Anvil in the lab's chain namespace, on the address every namespace reaches."""
    return lab.on_chain(lambda: start_anvil(host=lab.chain_address, port=CHAIN_PORT))


def via_first(index: int, addrs: list[str]) -> tuple[str, ...]:
    """The topology of a NATed community: every node dials node 0 (the public one) only."""
    return () if index == 0 else (addrs[0],)


class NatPlacement(Placement):
    """Node ``i`` in lab namespace ``spots[i]``; chain calls from the chain's namespace."""

    def __init__(self, lab: NatLab, spots: list[str]) -> None:
        self.lab = lab
        self.spots = spots

    def chain(self, call: Callable[[], T]) -> T:
        return self.lab.on_chain(call)

    def configure(self, index: int, config: NodeConfig) -> NodeConfig:
        return lab_config(self.lab, self.spots[index], config)

    def namespace(self, index: int) -> NamespaceThread:
        return self.lab.thread(self.spots[index])


def lab_config(lab: NatLab, ns: str, config: NodeConfig) -> NodeConfig:
    """``config`` for a node in lab namespace ``ns``: its address there and the lab's ports."""
    return config.with_changes(p2p_host=lab.address_of(ns), p2p_port=NODE_P2P_PORT, api_port=NODE_API_PORT)


def lab_node(lab: NatLab, ns: str, config: NodeConfig) -> NodeProcess:
    """A node process (not started) for an existing home, to run in lab namespace ``ns``."""
    return NodeProcess(config, namespace=lab.thread(ns))


def start_nat_network(
    lab: NatLab,
    anvil: Anvil,
    root: Path,
    spots: list[str] | None = None,
    *,
    size: int | None = None,
    bootstrap: Bootstrap | None = None,
    configure: Callable[[NodeConfig], NodeConfig] | None = None,
) -> Network:
    """A community of ``size`` founders (default: one per spot) whose first ``len(spots)`` run a
    node in the lab (default spots: the public hosts, then every home). Returns once they mesh."""
    where = lab.hosts if spots is None else spots
    return start_network(
        anvil,
        root,
        size=len(where) if size is None else size,
        nodes=len(where),
        bootstrap=via_first if bootstrap is None else bootstrap,
        configure=configure,
        placement=NatPlacement(lab, where),
        sparse=False,
    )


def kiez_in(
    lab: NatLab, ns: str, *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Runs the CLI (``kiez ARGS``, e.g. ``join INVITE``) inside lab namespace ``ns``, as a member
    at home would; returns its exit code and output."""
    if ns not in lab.created:
        raise LabError(f"{ns} is not a namespace of this lab")
    return subprocess.run(
        [*exec_prefix(ns), sys.executable, "-m", "node.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def restart(node: NodeProcess, **changes: Any) -> NodeProcess:
    """Stops ``node``, changes its configuration (e.g. ``bootstrap=()``), and starts it again."""
    node.stop()
    node.config = node.config.with_changes(**changes)
    node.config.save()
    return node.start()
