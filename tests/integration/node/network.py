"""The attacker of node tests: a raw libp2p peer process (raw_peer.py) driven from the test.

The network itself (node processes on a real Anvil) comes from ``node.harness.cluster``, as in the devnet.
The raw peer reports what it sees as JSON lines; a thread reads them into a queue, so every wait
here is bounded even when the peer has nothing to say.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from node.harness.cluster import Network
from node.harness.process import peer_addr

ROOT = Path(__file__).resolve().parents[3]

Event = dict[str, Any]


@dataclass
class RawPeer:
    """The attacker: a libp2p peer that publishes any bytes on the community's topic, or floods
    subscriptions, or never reads (see raw_peer.py)."""

    process: subprocess.Popen[bytes]
    target: str  # the peer id of the node it attacks
    events: list[Event] = field(default_factory=list)  # everything read so far, in order
    _queue: queue.Queue[Event | None] = field(default_factory=queue.Queue)
    _reader: threading.Thread | None = None

    @classmethod
    def spawn(cls, network: Network, module: str, target: str, args: list[str]) -> RawPeer:
        """Starts ``python -m module *args``, an attacker of the node at multiaddr ``target``,
        its stderr appended to ``<network root>/<module's last name>.log``, and reads its output."""
        log: IO[bytes] = (network.root / f"{module.rsplit('.', 1)[-1]}.log").open("ab")
        pipe = subprocess.PIPE
        process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdin=pipe, stdout=pipe, stderr=log)
        log.close()
        peer = cls(process, target.rsplit("/", 1)[-1])
        peer.start_reading()
        return peer

    def stop(self) -> None:
        """Closes its stdin (which tells it to stop), waits for it, and reads its output to the end."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stop_reading()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def start_reading(self) -> None:
        self._reader = threading.Thread(target=self._read_all, daemon=True)
        self._reader.start()

    def stop_reading(self) -> None:
        """After the process ended: the reader has read to the end of its output."""
        if self._reader is not None:
            self._reader.join(timeout=10)

    def _read_all(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)  # the process ended

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 30) -> Event:
        """The next event (not yet seen) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                raise RuntimeError("the raw peer exited")
            self.events.append(event)
            if predicate(event):
                return event
        raise TimeoutError(f"the raw peer did not report the expected event within {timeout:.0f} s")

    def seen(self, predicate: Callable[[Event], bool]) -> bool:
        """Whether an event read so far satisfies ``predicate`` (reads what is waiting first)."""
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                break
            if event is not None:
                self.events.append(event)
        return any(predicate(event) for event in self.events)

    @property
    def peer_id(self) -> str:
        return str(next(e for e in self.events if e["event"] == "ready")["peer_id"])

    def send_lines(self, payloads: list[bytes]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"".join(data.hex().encode() + b"\n" for data in payloads))
        self.process.stdin.flush()

    def publish(self, data: bytes) -> None:
        self.publish_many([data])

    def publish_many(self, payloads: list[bytes], timeout: float = 60) -> None:
        """Publishes each payload; returns once the peer has published them all (delivered or not:
        a peer that was cut off publishes into the void)."""
        self.send_lines(payloads)
        deadline = time.monotonic() + timeout
        for _ in payloads:
            self.wait_for(lambda e: e["event"] == "published", timeout=max(deadline - time.monotonic(), 0.1))

    def was_disconnected(self) -> bool:
        """Whether the peer saw its connection to the target close after it had one."""
        self.seen(lambda _: False)  # take in what is waiting
        connected = False
        for event in self.events:
            if event["event"] != "peers":
                continue
            if self.target in event["peers"]:
                connected = True
            elif connected:
                return True
        return False


@contextmanager
def raw_peer(network: Network, connect_to: int = 0, mode: str = "publish", room: str = "") -> Iterator[RawPeer]:
    """A raw peer connected to node ``connect_to``, on the topic of ``room`` (the general room's
    by default); in the gossip modes, once it is in its mesh."""
    config = network.nodes[connect_to].config
    target = peer_addr(config)
    topic = f"{config.topic}/{room}" if room else config.topic
    args = ["--topic", topic, "--bootstrap", target, "--mode", mode]
    peer = RawPeer.spawn(network, "tests.integration.node.raw_peer", target, args)
    try:
        peer.wait_for(lambda e: e["event"] == "ready")
        if mode == "slow":
            peer.wait_for(lambda e: e["event"] == "subscribed")
        else:
            peer.wait_for(lambda e: e["event"] == "mesh" and bool(e["peers"]))
        yield peer
    finally:
        peer.stop()
