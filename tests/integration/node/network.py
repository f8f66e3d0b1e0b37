"""The attacker of node tests: a raw libp2p peer that publishes any bytes on a community's topic.

The network itself (node processes on a real Anvil) comes from ``node.cluster``, as in the devnet.
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

from node.cluster import Network, peer_addr

ROOT = Path(__file__).resolve().parents[3]


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
