#!/usr/bin/env python3
"""Gossip throughput and latency of kiez nodes, beside a js-libp2p reference network.

What runs. Ten (``--nodes``) real kiez node processes (``kiez node run``: py-libp2p gossipsub,
Noise, yamux, validation, SQLite), each a founder of one community on a dedicated Anvil chain,
in a random mesh: every node dials 3 (``--dials``) others picked with a fixed seed (the same
graph every run; connections go both ways, so nodes have 3-6 peers). Then the same topology with
js-libp2p nodes (``scripts/js/gossip-node.mjs``: libp2p 2.10, @chainsafe/libp2p-gossipsub 14.1.2,
StrictSign, content-addressed ids, kiez's mesh parameters D=4/3/6, 1 s heartbeat, no flood publish,
/meshsub/1.1.0), one process each, carrying messages of the same size.

What is published. Posts go round-robin over the members at a fixed network-wide rate: through each
kiez node's local API (``POST /v1/posts``, one worker thread per node so a slow node never holds up
the pacing of the others), and through a ``pub`` line on each js node's stdin. Every kiez post's
text is padded so that its signed envelope (the gossiped bytes) is exactly 1024 bytes; every js
message's data is 1024 bytes too. The per-member rate limit (burst 60, then 10/s) caps a rate at
10/s per node; the rates swept stay below it. A 10 s warm-up at 10 posts/s precedes the
measurements (cold starts on 2 cores distort the first seconds, DESIGN section 9). Each rate
step publishes for 15 s (``--sweep-duration``), the headline rate (50/s) for 30 s
(``--duration``); then the script waits up to ``--drain`` seconds for the last deliveries.

What is measured, at every node. For each (message, node other than its author): delivered or not,
and its latency = the time the node stored it (kiez: ``messages.received_ms`` in the node's own
SQLite, read through a read-only connection; js: the node's clock when gossipsub delivered it)
minus the time its author created it (kiez: the envelope's signed ``timestamp_ms``; js: the
author's clock, carried in the message). All processes share this machine's clock. Delivery ratio =
delivered pairs / (messages × (nodes - 1)); p50/p99 over all delivered pairs. A rate is lossless
when every pair was delivered and every publish succeeded; the sweep goes up in rate and stops
after the first lossy one (``--keep-going`` runs all); ``max_lossless_rate`` is the highest rate
below the first loss. CPU is the node processes' user+system time over the publishing window,
in cores ("machine" is every process on the machine, so a busy neighbour shows). Sync
(reconciliation every 30 s) is set to once an hour for the benchmark, so the figures are
gossip's alone; the chain watcher polls every second (a node's default).

``--profile DIR`` also records every kiez node with py-spy during the loopback headline step and
prints where their CPU goes (py-libp2p layers, kiez's validation and storage, trio's scheduler).

Network namespaces (``--skip-netns`` to skip). The same benchmark again with each node (kiez, then
js) in its own network namespace and the chain in another, linked through a router namespace
(see scripts/netns_lab.py), with 25 ms ± 10 % delay and 1 % loss on every packet between two
namespaces: ``tc netem delay 25ms 2.5ms loss 1%``, or, on a kernel built without sch_netem, the
same delay, jitter and loss applied by scripts/nfq_delay.py through an NFQUEUE rule. The script
creates and always deletes the namespaces (``kiez-bench-*``); it needs root.

Usage: .venv/bin/python scripts/bench_gossip.py [--nodes 10] [--rates 10,20,30,50,70,100]
       [--duration 30] [--sweep-duration 15] [--netns-rates 20,50,100] [--skip-js] [--skip-netns]
The last line printed is one JSON object with every figure: the headline ones (``delivery_ratio``,
``p50_ms``, ``p99_ms``, ``max_lossless_rate``, ``js_*``, ``p99_vs_js_ratio`` and ``netns_*`` for
the namespaces), one list of per-rate steps per network (``sweep``, ``js_sweep``, ``netns_sweep``,
``netns_js_sweep``: rate, delivery, p50, p99, ...) and latency histograms of the loopback headline
runs (``histogram``, ``js_histogram``: counts per 5 ms up to 500 ms, then one overflow bucket).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netns_lab import CHAIN, CHAIN_ADDRESS, Lab, LabError, leaf_address  # noqa: E402

from governance.anvil import Anvil, start_anvil  # noqa: E402
from governance.devchain import deploy_dev_community  # noqa: E402
from node.api.client import ApiClient  # noqa: E402
from node.config import NodeConfig  # noqa: E402
from node.core.limits import RATE_PER_SECOND  # noqa: E402
from node.core.signing import Signer  # noqa: E402
from node.core.types import Community, Kind, PostBody  # noqa: E402
from node.errors import ApiError, NodeError  # noqa: E402
from node.harness.cluster import (  # noqa: E402
    Bootstrap,
    NodeProcess,
    app_key_of,
    peer_addr,
    prepare_home,
    random_mesh,
    start_network,
    wait_until,
)

MESSAGE_BYTES = 1024
HIST_BUCKET_MS = 5
HIST_LIMIT_MS = 500
P99_TARGET_MS = 250.0  # the latency target at the headline rate
JS_NODE = ROOT / "scripts" / "js" / "gossip-node.mjs"
LAB_P2P_PORT = 4101
LAB_API_PORT = 8601
WARMUP_RATE = 10.0
# The chain watcher's poll period: a node's default (NodeConfig), not start_network's 0.2 s for
# quick tests, which alone costs 10 nodes ~0.3 cores of web3 polling.
POLL_INTERVAL_S = NodeConfig.poll_interval

T = TypeVar("T")


def now_ms() -> int:
    return int(time.time() * 1000)


def say(line: str) -> None:
    print(line, flush=True)


# -- figures ------------------------------------------------------------------------------------
def percentile(ordered: list[int], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not ordered:
        return None
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def histogram(latencies: list[int]) -> list[int]:
    """Counts per HIST_BUCKET_MS bucket from 0 to HIST_LIMIT_MS, then one overflow bucket."""
    buckets = HIST_LIMIT_MS // HIST_BUCKET_MS
    counts = [0] * (buckets + 1)
    for value in latencies:
        counts[min(max(value, 0) // HIST_BUCKET_MS, buckets)] += 1
    return counts


@dataclass
class Step:
    """One rate step of one network."""

    rate: float
    duration_s: float
    published: int = 0
    publish_errors: int = 0
    achieved_rate: float = 0.0
    delivered_pairs: int = 0
    expected_pairs: int = 0
    min_node_delivery: float = 0.0
    cores: float = 0.0
    machine_cores: float = 0.0
    api_p99_ms: float | None = None
    latencies: list[int] = field(default_factory=list, repr=False)
    profile: dict[str, float] = field(default_factory=dict)

    @property
    def delivery(self) -> float:
        return self.delivered_pairs / self.expected_pairs if self.expected_pairs else 0.0

    @property
    def lossless(self) -> bool:
        return self.expected_pairs > 0 and self.delivered_pairs == self.expected_pairs and self.publish_errors == 0

    def p(self, q: float) -> float | None:
        return percentile(self.latencies, q)

    def line(self, label: str) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f} ms"

        api = "" if self.api_p99_ms is None else f", API p99 {ms(self.api_p99_ms)}"
        errors = f", {self.publish_errors} publish errors" if self.publish_errors else ""
        return (
            f"{label:<9} {self.rate:>5g}/s {self.duration_s:>4g} s: {self.published} msgs "
            f"(at {self.achieved_rate:.1f}/s){errors}, delivery {self.delivery:.4f} "
            f"(worst node {self.min_node_delivery:.4f}), p50 {ms(self.p(0.5))}, p99 {ms(self.p(0.99))}, "
            f"max {ms(self.p(1.0))}, {self.cores:.2f} cores (machine {self.machine_cores:.2f}){api}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "published": self.published,
            "publish_errors": self.publish_errors,
            "achieved_rate": round(self.achieved_rate, 2),
            "delivery": round(self.delivery, 6),
            "min_node_delivery": round(self.min_node_delivery, 6),
            "p50": self.p(0.5),
            "p90": self.p(0.9),
            "p99": self.p(0.99),
            "max": self.p(1.0),
            "cores": round(self.cores, 3),
            "machine_cores": round(self.machine_cores, 3),
            "api_p99": self.api_p99_ms,
            "lossless": self.lossless,
            **({"profile": self.profile} if self.profile else {}),
        }


def machine_busy_seconds() -> float:
    """CPU seconds all cores of this machine spent busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes so far (0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15)
    return total


# -- the two kinds of network -------------------------------------------------------------------
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


class _Direct:
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
        self.text_length = text_length
        self._pending: list[tuple[int, Future[tuple[str, int, float]]]] = []
        self._sent: dict[str, int] = {}
        self._connections: dict[int, sqlite3.Connection] = {}

    def _post(self, author: int, text: str) -> tuple[str, int, float]:
        start = time.monotonic()
        item = self.apis[author].post("/v1/posts", {"text": text})
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
        for node in self.nodes:  # all at once, then wait: a node takes ~1 s to stop
            if node.running and node.process is not None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()


class JsSwarm(Swarm):
    """js-libp2p gossipsub nodes, one process each (scripts/js/gossip-node.mjs)."""

    def __init__(
        self,
        size: int,
        work: Path,
        hosts: list[str],
        prefixes: list[tuple[str, ...]],
        port: int = 0,
    ) -> None:
        node = shutil.which("node")
        if node is None:
            raise NodeError("node (Node.js) is not installed")
        if not (ROOT / "node_modules" / "@chainsafe" / "libp2p-gossipsub").is_dir():
            raise NodeError("js-libp2p is not installed: run scripts/bootstrap.sh (npm ci)")
        self.size = size
        self.receipt_paths = [work / f"js{i}.receipts" for i in range(size)]
        self.procs: list[subprocess.Popen[str]] = []
        self.lines: list[queue.Queue[dict[str, Any]]] = []
        self.errors: list[dict[str, Any]] = []
        self._errors_lock = threading.Lock()
        self._seen: list[dict[str, int]] = [{} for _ in range(size)]
        self._offsets = [0] * size
        self._sent: dict[str, int] = {}
        self._published: dict[str, int] = {}
        self._logs: list[IO[bytes]] = []
        try:
            for i in range(size):
                log = (work / f"js{i}.log").open("wb")
                self._logs.append(log)
                cmd = [*prefixes[i], node, str(JS_NODE), "--host", hosts[i], "--port", str(port)]
                cmd += ["--size", str(MESSAGE_BYTES), "--receipts", str(self.receipt_paths[i])]
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    bufsize=1,
                    cwd=ROOT,
                    start_new_session=True,
                )
                self.procs.append(proc)
                lines: queue.Queue[dict[str, Any]] = queue.Queue()
                self.lines.append(lines)
                threading.Thread(target=self._read, args=(proc, lines), daemon=True).start()
            self.ready = [self._expect(i, "ready", 30)["ready"] for i in range(size)]
        except BaseException:
            self.stop()
            raise
        self.addrs = [str(r["addrs"][0]) for r in self.ready]

    def _read(self, proc: subprocess.Popen[str], lines: queue.Queue[dict[str, Any]]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                item = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if "pub_error" in item:
                with self._errors_lock:
                    self.errors.append(item)
            else:
                lines.put(item)

    def _expect(self, node: int, key: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.lines[node].get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise NodeError(f"js node {node} did not answer {key!r} within {timeout:.0f} s") from None
            if key in item:
                return item
            if "dial_error" in item:
                say(f"  js node {node}: dial failed: {item['dial_error']}")

    def command(self, node: int, line: str) -> None:
        stdin = self.procs[node].stdin
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()

    def connect(self, topology: Bootstrap) -> None:
        for i in range(self.size):
            for addr in topology(i, self.addrs):
                if addr != self.addrs[i]:
                    self.command(i, f"dial {addr}")
        for i in range(self.size):
            for addr in topology(i, self.addrs):
                if addr != self.addrs[i]:
                    self._expect(i, "dialed", 30)

    def stats(self, node: int) -> dict[str, Any]:
        self.command(node, "stats")
        result: dict[str, Any] = self._expect(node, "stats", 30)["stats"]
        return result

    def publish(self, author: int, seq: int) -> None:
        self.command(author, f"pub {seq} {author}")
        self._published[str(seq)] = author

    def finish_publishing(self) -> tuple[dict[str, int], int, list[float]]:
        published, self._published = self._published, {}
        with self._errors_lock:
            failed = {str(e.get("n")) for e in self.errors}
            self.errors = []
        return {k: a for k, a in published.items() if k not in failed}, len(failed & set(published)), []

    def sent_ms(self, key: str) -> int | None:
        return self._sent.get(key)

    def received(self, node: int, since_ms: int) -> dict[str, int]:
        with self.receipt_paths[node].open("rb") as handle:
            handle.seek(self._offsets[node])
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1
        self._offsets[node] += end
        seen = self._seen[node]
        for line in chunk[:end].decode().splitlines():
            seq, _author, sent, got = line.split()
            seen[seq] = int(got)
            self._sent[seq] = int(sent)
        return {k: v for k, v in seen.items() if self._sent[k] >= since_ms}

    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None and proc.stdin is not None:
                try:
                    proc.stdin.write("quit\n")
                    proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()


# -- measuring ----------------------------------------------------------------------------------
class Clock:
    """Publishing sequence numbers, unique over a whole run."""

    def __init__(self) -> None:
        self.seq = 0

    def next(self) -> int:
        self.seq += 1
        return self.seq


def publish_at(swarm: Swarm, clock: Clock, rate: float, seconds: float) -> float:
    """Publishes round-robin at ``rate`` for ``seconds``; returns the achieved rate."""
    count = max(1, round(rate * seconds))
    start = time.monotonic()
    for k in range(count):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        swarm.publish(k % swarm.size, clock.next())
    elapsed = time.monotonic() - start
    return count / max(elapsed, count / rate)


def measure(swarm: Swarm, clock: Clock, rate: float, seconds: float, drain: float) -> Step:
    step = Step(rate=rate, duration_s=seconds)
    since = now_ms() - 1000
    pids = swarm.pids()
    cpu0, busy0, wall0 = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    step.achieved_rate = publish_at(swarm, clock, rate, seconds)
    cpu1, busy1, wall1 = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    step.cores = (cpu1 - cpu0) / (wall1 - wall0)
    step.machine_cores = (busy1 - busy0) / (wall1 - wall0)
    published, step.publish_errors, api_ms = swarm.finish_publishing()
    step.published = len(published) + step.publish_errors
    if api_ms:
        step.api_p99_ms = percentile(sorted(round(x) for x in api_ms), 0.99)
    deadline = time.monotonic() + drain
    while True:
        seen = [swarm.received(j, since) for j in range(swarm.size)]
        missing = sum(1 for key, a in published.items() for j in range(swarm.size) if j != a and key not in seen[j])
        if missing == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    step.expected_pairs = (len(published) + step.publish_errors) * (swarm.size - 1)
    latencies = []
    per_node = []
    for j in range(swarm.size):
        mine = [key for key, a in published.items() if a != j]
        got = [key for key in mine if key in seen[j]]
        per_node.append(len(got) / len(mine) if mine else 1.0)
        for key in got:
            sent = swarm.sent_ms(key)
            if sent is not None:
                latencies.append(seen[j][key] - sent)
    step.delivered_pairs = sum(
        1 for key, a in published.items() for j in range(swarm.size) if j != a and key in seen[j]
    )
    step.min_node_delivery = min(per_node) if per_node else 0.0
    step.latencies = sorted(latencies)
    return step


@dataclass
class Plan:
    rates: list[float]
    headline: float
    duration: float
    sweep_duration: float
    drain: float
    warmup: float
    keep_going: bool
    profile_dir: Path | None = None


# Where a kiez node's CPU goes, by the first matching frame of a py-spy stack (in this order).
PROFILE_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("kiez validation + SQLite store", ("NodeService.ingest", "node/store/", "node/core/")),
    ("kiez local API (HTTP, publish)", ("node/api/",)),
    ("chain watcher (web3 polling)", ("node/chain/", "governance/")),
    ("py-libp2p: signed peer record checked on every RPC", ("maybe_consume_signed_record",)),
    ("py-libp2p: yamux window update after every read", ("_auto_tune_and_send_window_update", "send_window_update")),
    ("py-libp2p: message signature check (StrictSign)", ("signature_validator", "Pubsub.validate_msg")),
    (
        "gossipsub heartbeat and control",
        ("GossipSub.heartbeat", "emit_control_message", "handle_ihave", "handle_iwant"),
    ),
    ("py-libp2p outbound: queue, protobuf, yamux, noise, send", ("handle_sending_messages", "Pubsub.write_msg")),
    ("py-libp2p inbound: recv, noise, yamux, protobuf, pubsub", ("continuously_read_stream", "Yamux.handle_incoming")),
]


def start_profilers(pids: list[int], out: Path, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy on every process (50 Hz, samples holding the GIL, raw collapsed stacks)."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise NodeError(f"{spy} is missing: pip install py-spy into the venv")
    out.mkdir(parents=True, exist_ok=True)
    command = [str(spy), "record", "--gil", "--nonblocking", "-r", "50", "-f", "raw", "-d", str(math.ceil(seconds))]
    return [
        subprocess.Popen(
            [*command, "-o", str(out / f"node{i}.txt"), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, pid in enumerate(pids)
    ]


def profile_summary(out: Path) -> dict[str, float]:
    """Share of samples per PROFILE_CATEGORIES entry (the rest: trio's scheduler and the like)."""
    counts: dict[str, int] = {}
    total = 0
    for path in sorted(out.glob("node*.txt")):
        for line in path.read_text().splitlines():
            stack, _, number = line.rpartition(" ")
            samples = int(number)
            total += samples
            name = next((n for n, keys in PROFILE_CATEGORIES if any(k in stack for k in keys)), "trio scheduler, other")
            counts[name] = counts.get(name, 0) + samples
    return {name: round(n / total, 3) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])} if total else {}


def sweep(swarm: Swarm, label: str, plan: Plan) -> list[Step]:
    clock = Clock()
    if plan.warmup > 0:
        say(f"{label}: warm-up, {plan.warmup:g} s at {WARMUP_RATE:g}/s")
        publish_at(swarm, clock, WARMUP_RATE, plan.warmup)
        swarm.finish_publishing()
        time.sleep(2)
    steps: list[Step] = []
    lossy = False
    for rate in plan.rates:
        if lossy and rate != plan.headline:
            say(f"{label:<9} {rate:>5g}/s: skipped (a lower rate already lost messages)")
            continue
        seconds = plan.duration if rate == plan.headline else plan.sweep_duration
        spies = []
        if plan.profile_dir is not None and rate == plan.headline:
            spies = start_profilers(swarm.pids(), plan.profile_dir, seconds)
        step = measure(swarm, clock, rate, seconds, plan.drain)
        say(step.line(label))
        if spies:
            for spy in spies:
                spy.wait()
            assert plan.profile_dir is not None
            step.profile = profile_summary(plan.profile_dir)
            say(f"{label}: py-spy over all nodes at {rate:g}/s (raw stacks in {plan.profile_dir}):")
            for name, share in step.profile.items():
                say(f"  {100 * share:5.1f} %  {name}")
        steps.append(step)
        if not step.lossless and not plan.keep_going:
            lossy = True
        time.sleep(1)
    return steps


def neighbours(topology: Bootstrap, size: int) -> list[int]:
    """How many distinct peers each node has once everyone dialed its bootstrap list."""
    names = [str(i) for i in range(size)]
    links: list[set[int]] = [set() for _ in range(size)]
    for i in range(size):
        for j in (int(n) for n in topology(i, names)):
            if j != i:
                links[i].add(j)
                links[j].add(i)
    return [len(s) for s in links]


# -- the four runs ------------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    note: str = ""

    def at(self, rate: float) -> Step | None:
        return next((s for s in self.steps if s.rate == rate), None)

    def max_lossless(self, p99_limit_ms: float | None = None) -> float | None:
        """The highest rate below the first lossy one (or, with ``p99_limit_ms``, the first one
        that was lossy or slower than that at p99): "lossless" alone counts a message delivered
        seconds late, as a saturated network does, as delivered."""
        best = None
        for step in sorted(self.steps, key=lambda s: s.rate):
            p99 = step.p(0.99)
            if not step.lossless or (p99_limit_ms is not None and (p99 is None or p99 > p99_limit_ms)):
                break
            best = step.rate
        return best

    def sweep(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]


def wait_for_topology(status: Callable[[int], dict[str, Any]], expected: list[int], what: str) -> None:
    """Waits until every node is connected to the peers the topology gives it and has a gossip
    mesh (not necessarily of D_low peers: a peer that pruned us over D_high refuses our GRAFT
    for its backoff of a minute); names the nodes that lag if it times out."""
    last: list[dict[str, Any]] = []

    def ready() -> bool:
        last[:] = [status(i) for i in range(len(expected))]
        return all(s["peers"] >= expected[i] and s["mesh"] >= 1 for i, s in enumerate(last))

    try:
        wait_until(ready, 90, what, interval=0.5)
    except NodeError as exc:
        lagging = [
            f"node {i}: {s} (expected {expected[i]} peers)" for i, s in enumerate(last) if s["peers"] < expected[i]
        ]
        raise NodeError(f"{exc}; " + "; ".join(lagging or [f"node {i}: {s}" for i, s in enumerate(last)])) from None


def kiez_status(swarm: KiezSwarm) -> Callable[[int], dict[str, Any]]:
    def status(i: int) -> dict[str, Any]:
        raw = swarm.status(i)
        return {"peers": raw["peers"], "mesh": raw["mesh_peers"]}

    return status


def sweep_kiez(swarm: KiezSwarm, label: str, plan: Plan, topology: Bootstrap, started: float) -> list[Step]:
    """Waits until the kiez nodes (started at ``started``) form the topology, then sweeps."""
    wait_for_topology(kiez_status(swarm), neighbours(topology, swarm.size), "the kiez nodes' topology")
    say(f"{label}: {swarm.size} nodes up and meshed in {time.monotonic() - started:.0f} s")
    return sweep(swarm, label, plan)


def run_kiez_loopback(args: argparse.Namespace, plan: Plan, topology: Bootstrap, text_length: int) -> Run:
    run = Run("py")
    with tempfile.TemporaryDirectory(prefix="kiez-bench-gossip-") as tmp, start_anvil() as anvil:
        say(f"py: starting Anvil and {args.nodes} kiez nodes on loopback …")
        started = time.monotonic()
        net = start_network(
            anvil,
            Path(tmp),
            size=args.nodes,
            bootstrap=topology,
            configure=lambda c: c.with_changes(sync_interval=args.sync_interval, poll_interval=POLL_INTERVAL_S),
        )
        callers = [_Direct() for _ in net.nodes]
        swarm = KiezSwarm(net.nodes, list(callers), text_length)
        try:
            run.steps = sweep_kiez(swarm, "py", plan, topology, started)
        finally:
            swarm.stop()
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


def start_lab_network(
    lab: Lab, root: Path, args: argparse.Namespace, topology: Bootstrap, text_length: int
) -> tuple[Anvil, KiezSwarm]:
    """Anvil in the chain namespace, one kiez node per node namespace (the same steps as
    node.cluster.start_network, with every chain call and API call made from inside a namespace)."""
    chain = lab.thread(CHAIN)
    anvil = chain.call(lambda: start_anvil(host=CHAIN_ADDRESS, port=8545))
    try:
        dev = chain.call(lambda: deploy_dev_community(anvil, founders=args.nodes))
        configs: list[NodeConfig] = []
        for i in range(args.nodes):
            config = prepare_home(
                root / f"node{i}",
                rpc_url=anvil.rpc_url,
                community=dev.address,
                chain_id=dev.chain_id,
                name=f"node{i}",
                poll_interval=POLL_INTERVAL_S,
            ).with_changes(
                p2p_host=leaf_address(i),
                p2p_port=LAB_P2P_PORT,
                api_port=LAB_API_PORT,
                sync_interval=args.sync_interval,
            )
            key = app_key_of(config)
            founder = dev.founders[i]
            chain.call(lambda f=founder, k=key: dev.client(f).add_key(k))
            configs.append(config)
        addrs = [peer_addr(c) for c in configs]
        nodes = []
        for i, config in enumerate(configs):
            connected = config.with_changes(bootstrap=topology(i, addrs))
            connected.save()
            nodes.append(NodeProcess(connected, command_prefix=("ip", "netns", "exec", Lab.node_ns(i))))
        swarm = KiezSwarm(nodes, [lab.thread(Lab.node_ns(i)) for i in range(args.nodes)], text_length)
        try:
            with ThreadPoolExecutor(max_workers=args.nodes) as starter:  # start in parallel
                for future in [starter.submit(node.start) for node in nodes]:
                    future.result()
            wait_until(lambda: all(swarm.status(i)["app_key_active"] for i in range(args.nodes)), 60, "active app keys")
        except BaseException:
            swarm.stop()
            raise
    except BaseException:
        anvil.stop()
        raise
    return anvil, swarm


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
            anvil, swarm = start_lab_network(lab, Path(tmp), args, topology, text_length)
            try:
                py.steps = sweep_kiez(swarm, "netns_py", plan, topology, started)
            finally:
                swarm.stop()
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


# -- main ---------------------------------------------------------------------------------------
def parse_rates(text: str) -> list[float]:
    return sorted({float(part) for part in text.split(",") if part.strip()})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--dials", type=int, default=3, help="peers each node dials (random, seeded)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random topology")
    parser.add_argument("--rates", default="10,20,30,50,70,100", help="posts/s network-wide, loopback sweep")
    parser.add_argument("--netns-rates", default="10,20,50,100", help="posts/s network-wide, namespace sweep")
    parser.add_argument("--headline-rate", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of publishing at the headline rate")
    parser.add_argument("--sweep-duration", type=float, default=15.0, help="seconds of publishing at other rates")
    parser.add_argument("--drain", type=float, default=8.0, help="seconds to wait for late deliveries")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of warm-up publishing (10/s)")
    parser.add_argument("--keep-going", action="store_true", help="sweep every rate, even after a lossy one")
    parser.add_argument("--sync-interval", type=float, default=3600.0, help="kiez sync period (gossip alone)")
    parser.add_argument("--skip-py", action="store_true", help="no kiez networks (js only)")
    parser.add_argument("--skip-js", action="store_true", help="no js-libp2p networks")
    parser.add_argument("--skip-loopback", action="store_true", help="only the namespace runs")
    parser.add_argument("--skip-netns", action="store_true", help="only the loopback runs")
    parser.add_argument("--impairment", choices=("auto", "netem", "nfqueue", "none"), default="auto")
    parser.add_argument("--quick", action="store_true", help="a shrunk run to try the script (not for figures)")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="py-spy every kiez node during the loopback headline step"
    )
    args = parser.parse_args()
    if args.quick:
        args.rates, args.netns_rates = "20", ""
        args.duration, args.sweep_duration, args.warmup, args.drain = 10.0, 5.0, 3.0, 5.0
    limit = args.nodes * RATE_PER_SECOND
    args.rate_list = sorted(set(parse_rates(args.rates)) | {args.headline_rate})
    args.netns_rate_list = sorted(set(parse_rates(args.netns_rates)) | {args.headline_rate})
    planned = ([] if args.skip_loopback else args.rate_list) + ([] if args.skip_netns else args.netns_rate_list)
    too_fast = sorted({r for r in planned if r > limit})
    if too_fast:
        parser.error(f"rates {too_fast} exceed the per-member rate limit: {args.nodes} nodes × {RATE_PER_SECOND:g}/s")
    return args


def main() -> None:
    args = parse_args()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through every finally: nodes stopped, namespaces deleted

    # Ctrl-C and SIGTERM alike (also when started from a shell that ignores SIGINT in background jobs).
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        run_all(args)
    except KeyboardInterrupt:
        say("interrupted: every node stopped, every namespace deleted")
        sys.exit(130)


def run_all(args: argparse.Namespace) -> None:
    started = time.monotonic()
    busy0 = machine_busy_seconds()
    time.sleep(2)
    idle_load = (machine_busy_seconds() - busy0) / (time.monotonic() - started)
    load_start = os.getloadavg()
    say(
        f"machine: {os.cpu_count()} cores, {idle_load:.2f} of them busy before the benchmark started "
        f"(load average {' '.join(f'{x:.2f}' for x in load_start)})"
    )
    if idle_load > 0.3:
        say("WARNING: other processes are using this machine; the figures below share its CPU with them")
    text_length = text_length_for(MESSAGE_BYTES)
    topology = random_mesh(args.dials, args.seed)
    degrees = neighbours(topology, args.nodes)
    say(
        f"gossip benchmark: {args.nodes} nodes, each dials {args.dials} random others (seed {args.seed}; "
        f"peers per node {min(degrees)}-{max(degrees)}), messages of {MESSAGE_BYTES} bytes "
        f"(kiez: post text of {text_length} characters, whole signed envelope {MESSAGE_BYTES} B)"
    )
    say(
        f"rates {', '.join(f'{r:g}' for r in args.rate_list)} posts/s, {args.sweep_duration:g} s each, "
        f"{args.headline_rate:g}/s for {args.duration:g} s; warm-up {args.warmup:g} s; drain ≤ {args.drain:g} s"
    )
    plan = Plan(
        args.rate_list, args.headline_rate, args.duration, args.sweep_duration, args.drain, args.warmup, args.keep_going
    )
    runs: dict[str, Run] = {}
    netns_note = ""
    delayer: dict[str, Any] = {}
    if not args.skip_loopback:
        if not args.skip_py:
            runs["py"] = run_kiez_loopback(args, replace(plan, profile_dir=args.profile), topology, text_length)
        if not args.skip_js:
            hosts = ["127.0.0.1"] * args.nodes
            runs["js"] = run_js("js", args, plan, topology, hosts, [()] * args.nodes)
    if not args.skip_netns:
        try:
            lab_runs, netns_note, delayer = run_netns(
                args, replace(plan, rates=args.netns_rate_list), topology, text_length
            )
            runs.update({r.label: r for r in lab_runs})
        except LabError as exc:
            netns_note = f"not run: {exc}"
            say(f"netns: {netns_note}")
    figures = report(runs, args, text_length, degrees, netns_note, time.monotonic() - started)
    figures["netns_delayer"] = delayer or None
    figures["machine_busy_cores_before"] = round(idle_load, 3)
    # uptime's 1/5/15-minute load averages at the start and the end: a shared machine shows here.
    figures["load_average_start"] = [round(x, 2) for x in load_start]
    figures["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures))


def report(
    runs: dict[str, Run],
    args: argparse.Namespace,
    text_length: int,
    degrees: list[int],
    netns_note: str,
    runtime: float,
) -> dict[str, Any]:
    head = args.headline_rate
    figures: dict[str, Any] = {
        "nodes": args.nodes,
        "dials_per_node": args.dials,
        "topology_seed": args.seed,
        "peers_per_node": degrees,
        "message_bytes": MESSAGE_BYTES,
        "post_text_chars": text_length,
        "headline_rate": head,
        "headline_duration_s": args.duration,
        "sweep_duration_s": args.sweep_duration,
        "warmup_s": args.warmup,
    }
    for prefix, py_label, js_label in (("", "py", "js"), ("netns_", "netns_py", "netns_js")):
        py, js = runs.get(py_label), runs.get(js_label)
        py_step = py.at(head) if py else None
        js_step = js.at(head) if js else None
        figures[f"{prefix}delivery_ratio"] = round(py_step.delivery, 6) if py_step else None
        figures[f"{prefix}p50_ms"] = py_step.p(0.5) if py_step else None
        figures[f"{prefix}p99_ms"] = py_step.p(0.99) if py_step else None
        figures[f"{prefix}cores"] = round(py_step.cores, 3) if py_step else None
        figures[f"{prefix}max_lossless_rate"] = py.max_lossless() if py else None
        figures[f"{prefix}max_rate_p99_le_250ms"] = py.max_lossless(P99_TARGET_MS) if py else None
        figures[f"{prefix}js_delivery_ratio"] = round(js_step.delivery, 6) if js_step else None
        figures[f"{prefix}js_p50_ms"] = js_step.p(0.5) if js_step else None
        figures[f"{prefix}js_p99_ms"] = js_step.p(0.99) if js_step else None
        figures[f"{prefix}js_cores"] = round(js_step.cores, 3) if js_step else None
        figures[f"{prefix}js_max_lossless_rate"] = js.max_lossless() if js else None
        figures[f"{prefix}js_max_rate_p99_le_250ms"] = js.max_lossless(P99_TARGET_MS) if js else None
        py99 = py_step.p(0.99) if py_step else None
        js99 = js_step.p(0.99) if js_step else None
        figures[f"{prefix}p99_vs_js_ratio"] = round(py99 / js99, 3) if py99 is not None and js99 else None
        figures[f"{prefix}sweep"] = py.sweep() if py else None
        figures[f"{prefix}js_sweep"] = js.sweep() if js else None
    figures["netns_impairment"] = netns_note
    py_head = runs["py"].at(head) if "py" in runs else None
    js_head = runs["js"].at(head) if "js" in runs else None
    for key, step in (("histogram", py_head), ("js_histogram", js_head)):
        figures[key] = (
            {"bucket_ms": HIST_BUCKET_MS, "limit_ms": HIST_LIMIT_MS, "counts": histogram(step.latencies)}
            if step
            else None
        )
    delivery_ok = figures["delivery_ratio"] == 1.0
    p99 = figures["p99_ms"]
    ratio = figures["p99_vs_js_ratio"]
    figures["targets"] = {
        "delivery_1_at_50": delivery_ok,
        "p99_le_250ms": p99 is not None and p99 <= P99_TARGET_MS,
        "p99_vs_js_le_2": ratio is not None and ratio <= 2,
    }
    figures["runtime_s"] = round(runtime, 1)

    say("")
    say(f"summary at {head:g} posts/s ({MESSAGE_BYTES} B messages, {args.nodes} nodes):")
    for prefix, name in (("", "loopback"), ("netns_", "namespaces, 25 ms ± 10 %, 1 % loss")):
        if figures[f"{prefix}delivery_ratio"] is None and figures[f"{prefix}js_delivery_ratio"] is None:
            continue
        f = {key.removeprefix(prefix): value for key, value in figures.items() if key.startswith(prefix)}
        say(
            f"  {name}: kiez delivery {f['delivery_ratio']}, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"max lossless {f['max_lossless_rate']}/s (with p99 ≤ 250 ms {f['max_rate_p99_le_250ms']}/s) | "
            f"js delivery {f['js_delivery_ratio']}, p50 {f['js_p50_ms']} ms, p99 {f['js_p99_ms']} ms, "
            f"max lossless {f['js_max_lossless_rate']}/s (with p99 ≤ 250 ms {f['js_max_rate_p99_le_250ms']}/s) | "
            f"p99 kiez/js {f['p99_vs_js_ratio']}"
        )
    targets = figures["targets"]
    say(
        "  targets: delivery 1.0 at 50/s {}, p99 ≤ 250 ms {}, p99 ≤ 2 × js {}".format(
            *("met" if targets[k] else "NOT met" for k in ("delivery_1_at_50", "p99_le_250ms", "p99_vs_js_le_2"))
        )
    )
    say(f"  total runtime {runtime:.0f} s")
    return figures


if __name__ == "__main__":
    main()
