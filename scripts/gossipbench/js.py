"""The js-libp2p reference network: gossipsub nodes, one Node.js process each, driven through
their stdin and read back from their receipt files."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from gossipbench.common import MESSAGE_BYTES, ROOT, say
from gossipbench.swarm import Swarm
from node.errors import NodeError
from node.harness.cluster import Bootstrap
from node.p2p.config import GossipConfig

JS_NODE = ROOT / "scripts" / "js" / "gossip-node.mjs"


def mesh_args(config: GossipConfig | None = None) -> list[str]:
    """gossip-node.mjs's options for kiez's mesh and gossip parameters, so both networks do the
    same work per message."""
    c = config or GossipConfig()
    return [
        *("--D", str(c.mesh_degree), "--Dlo", str(c.mesh_degree_low), "--Dhi", str(c.mesh_degree_high)),
        *("--mcache-gossip", str(c.gossip_window), "--mcache-length", str(c.gossip_history)),
    ]


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
                cmd += ["--size", str(MESSAGE_BYTES), "--receipts", str(self.receipt_paths[i]), *mesh_args()]
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
