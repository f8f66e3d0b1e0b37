"""Where ``start_network`` puts a network's nodes and makes its calls.

By default (``Placement`` itself) everything is on this machine's loopback: the chain and every
node's API are called directly, and each node is a plain child process. A benchmark lab of network
namespaces (``scripts/netns_lab.py``) subclasses it so that chain calls are made from inside the
chain's namespace, each node's API from inside its node's namespace (its API listens on that
namespace's own 127.0.0.1), and each node process is started there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from node.config import NodeConfig

if TYPE_CHECKING:
    from node.harness.netns import NamespaceThread
    from node.harness.process import NodeProcess

T = TypeVar("T")


class Placement:
    """This machine's loopback: every call made directly, every node a local child process."""

    def chain(self, call: Callable[[], T]) -> T:
        """Makes a chain call (deploying the community, authorising an app key)."""
        return call()

    def api(self, index: int, call: Callable[[], T]) -> T:
        """Makes a call to node ``index``'s local API."""
        return call()

    def configure(self, index: int, config: NodeConfig) -> NodeConfig:
        """Node ``index``'s configuration as this placement needs it (its addresses and ports)."""
        return config

    def command_prefix(self, index: int) -> tuple[str, ...]:
        """What node ``index``'s command runs through (``NodeProcess.command_prefix``)."""
        return ()

    def namespace(self, index: int) -> NamespaceThread | None:
        """The network namespace node ``index`` runs in and its API is called from
        (``NodeProcess.namespace``); None: where this process is."""
        return None

    def start(self, nodes: list[NodeProcess]) -> None:
        """Starts the nodes (one after another: on a machine of few cores, parallel start-ups
        slow each other down)."""
        for node in nodes:
            node.start()
