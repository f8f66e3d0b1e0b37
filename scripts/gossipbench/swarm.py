"""What a network offers the benchmark (``Swarm``), and the kiez one: node processes published into
through their local APIs and read back from their own SQLite files."""

from __future__ import annotations

import signal
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from gossipbench.common import now_ms, say
from gossipbench.poster import KeptAlivePoster
from node.api.client import ApiClient
from node.core.signing import Signer
from node.core.types import Community, Kind, PostBody
from node.errors import ApiError
from node.harness.process import NodeProcess

T = TypeVar("T")


class Submitter(Protocol):
    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]: ...


class Swarm(ABC):
    """A running network the benchmark publishes into and reads deliveries from."""

    size: int

    @abstractmethod
    def publish(self, author: int, seq: int) -> None:
        """Start publishing message ``seq`` from node ``author``; must not block the pacing."""

    @abstractmethod
    def finish_publishing(self) -> tuple[dict[str, int], int, list[float]]:
        """Waits for outstanding publishes; returns (message key -> author, errors, API latencies in
        ms) of everything published since the last call."""

    @abstractmethod
    def sent_ms(self, key: str) -> int | None:
        """When the author created message ``key`` (None if unknown)."""

    @abstractmethod
    def received(self, node: int, since_ms: int) -> dict[str, int]:
        """Message key -> the node's receive time, for messages created since ``since_ms``."""

    @abstractmethod
    def pids(self) -> list[int]: ...

    @abstractmethod
    def stop(self) -> None: ...


def post_text(seq: int, author: int, length: int) -> str:
    head = f"bench post {seq} from node {author} "
    return head + "." * (length - len(head))


def text_length_for(envelope_bytes: int) -> int:
    """The post text length (ASCII) that makes a signed post envelope exactly ``envelope_bytes``."""
    signer = Signer(bytes(32))
    community = Community(31337, bytes(20))

    def size(length: int) -> int:
        return len(signer.envelope(community, Kind.POST, PostBody("x" * length), now_ms()))

    length = envelope_bytes - (size(500) - 500)
    if size(length) != envelope_bytes:
        raise RuntimeError(f"cannot pad a post envelope to exactly {envelope_bytes} bytes")
    return length


class Direct:
    """A Submitter running calls on one plain thread (loopback)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class KiezSwarm(Swarm):
    def __init__(self, nodes: list[NodeProcess], callers: list[Submitter], text_length: int) -> None:
        self.nodes = nodes
        self.size = len(nodes)
        self.callers = callers
        self.apis = [ApiClient.for_node(node.config) for node in nodes]
        self.posters = [KeptAlivePoster(node.config) for node in nodes]
        self.text_length = text_length
        self._pending: list[tuple[int, Future[tuple[str, int, float]]]] = []
        self._sent: dict[str, int] = {}
        self._connections: dict[int, sqlite3.Connection] = {}

    def _post(self, author: int, text: str) -> tuple[str, int, float]:
        start = time.monotonic()
        item = self.posters[author].post("/v1/posts", {"text": text})
        return str(item["id"]), int(item["timestamp_ms"]), 1000 * (time.monotonic() - start)

    def publish(self, author: int, seq: int) -> None:
        text = post_text(seq, author, self.text_length)
        self._pending.append((author, self.callers[author].submit(self._post, author, text)))

    def finish_publishing(self) -> tuple[dict[str, int], int, list[float]]:
        published: dict[str, int] = {}
        errors = 0
        api_ms: list[float] = []
        for author, future in self._pending:
            try:
                key, stamp, took = future.result(timeout=60)
            except (ApiError, TimeoutError) as exc:
                errors += 1
                say(f"  publish from node {author} failed: {exc}")
                continue
            published[key] = author
            self._sent[key] = stamp
            api_ms.append(took)
        self._pending = []
        return published, errors, api_ms

    def sent_ms(self, key: str) -> int | None:
        return self._sent.get(key)

    def received(self, node: int, since_ms: int) -> dict[str, int]:
        conn = self._connections.get(node)
        if conn is None:
            db = self.nodes[node].config.db_path
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
            self._connections[node] = conn
        rows = conn.execute("SELECT id, received_ms FROM messages WHERE kind = 1 AND timestamp_ms >= ?", (since_ms,))
        return {bytes(ident).hex(): int(at) for ident, at in rows}

    def status(self, node: int) -> dict[str, Any]:
        result: dict[str, Any] = self.callers[node].submit(self.apis[node].get, "/v1/status").result(timeout=30)
        return result

    def pids(self) -> list[int]:
        return [node.process.pid for node in self.nodes if node.process is not None]

    def stop(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        for poster in self.posters:
            poster.close()
        for node in self.nodes:  # all at once, then wait: a node takes ~1 s to stop
            if node.running and node.process is not None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()
