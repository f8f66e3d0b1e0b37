"""A small lab network of Linux network namespaces for benchmarks (root only).

Layout (point-to-point links through one router namespace; nothing is added to the machine's
own namespace, so these addresses exist only inside the lab and no packet can leave the machine)::

    kiez-bench-0  eth0 10.77.1.2/24 ──veth── n0  10.77.1.1/24 ┐
    kiez-bench-1  eth0 10.77.2.2/24 ──veth── n1  10.77.2.1/24 ├─ kiez-bench-hub (forwards)
    ...                                                       │
    kiez-bench-chain eth0 10.77.100.2/24 ──veth── nc 10.77.100.1/24 ┘

Every leaf namespace routes 10.77.0.0/16 through the hub and has its own loopback (so each node's
API on 127.0.0.1 is private to its namespace). Links carry one MTU-sized packet per skb
(``gso_max_segs 1``), so loss hits single packets as on a real wire.

Impairment: ``netem delay 25ms 2.5ms loss 1%`` on every leaf's ``eth0`` (its egress), so each
packet between two namespaces is delayed once, ~25 ms, and dropped with 1 % probability. Where
the kernel has no ``sch_netem`` (this machine's kernel is built without it), the same delay,
jitter and loss are applied to every packet the hub forwards, by ``scripts/nfq_delay.py`` over an
iptables NFQUEUE rule: each packet is still delayed once and dropped with the same probability.

The machine's own namespace reaches into the lab only through threads that joined a namespace
(``NamespaceThread``, from ``node.harness.netns``, which the NAT lab of the namespace tests,
``node.harness.natlab``, shares; its namespaces are named ``kn<pid>…`` so both labs can run at
once): a thread's sockets and the processes it starts live in that namespace.
``Lab`` is a context manager that always deletes its namespaces and stops its helpers, also on
Ctrl-C or failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from procstat import cpu_seconds

from node.harness.netns import LabError, NamespaceThread, in_ns
from node.harness.netns import run as _run

__all__ = ["CHAIN", "CHAIN_ADDRESS", "HUB", "Lab", "LabError", "NamespaceThread", "leaf_address"]

PREFIX = "kiez-bench-"
HUB = PREFIX + "hub"
CHAIN = PREFIX + "chain"
CHAIN_INDEX = 100  # the chain's namespace takes 10.77.100.0/24


def leaf_address(index: int) -> str:
    return f"10.77.{index + 1}.2"


CHAIN_ADDRESS = f"10.77.{CHAIN_INDEX}.2"


def netem_args(delay_ms: float, jitter_ms: float, loss: float) -> list[str]:
    return ["netem", "delay", f"{delay_ms:g}ms", f"{jitter_ms:g}ms", "loss", f"{100 * loss:g}%"]


def _ensure_tools(impairment: str) -> None:
    missing = [tool for tool in ("ip", "tc") if shutil.which(tool) is None]
    if impairment == "nfqueue" and shutil.which("iptables") is None:
        missing.append("iptables")
    if not missing:
        return
    packages = sorted({"iproute2" if tool in ("ip", "tc") else tool for tool in missing})
    if shutil.which("apt-get") is None:
        raise LabError(f"missing {', '.join(missing)}: install {' '.join(packages)}")
    print(f"installing Debian packages: {' '.join(packages)}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = shutil.which("apt-get") or "apt-get"
    install = [apt, "install", "-y", "-q", *packages]
    if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, check=False)
        if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
            raise LabError(f"could not install {' '.join(packages)} with apt-get")


def stale_namespaces() -> list[str]:
    listed = _run("ip", "netns", "list", check=False).stdout.split()
    return [name for name in listed if name.startswith(PREFIX)]


@dataclass
class Lab:
    """``size`` node namespaces and one for the chain, joined by a router namespace, impaired."""

    size: int
    delay_ms: float = 25.0
    jitter_ms: float = 2.5
    loss: float = 0.01
    impairment: str = "auto"  # auto | netem | nfqueue | none
    created: list[str] = field(default_factory=list)
    threads: dict[str, NamespaceThread] = field(default_factory=dict)
    method: str = ""
    note: str = ""
    delayer: subprocess.Popen[str] | None = None
    delayer_stats: dict[str, Any] = field(default_factory=dict)
    delayer_started: float = 0.0

    @staticmethod
    def node_ns(index: int) -> str:
        return f"{PREFIX}{index}"

    # -- building -----------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        if os.geteuid() != 0:
            raise LabError("network namespaces need root (run the benchmark as root, or pass --skip-netns)")
        _ensure_tools(self.impairment)  # iptables only when netem turns out to be missing
        self._clear_stale()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _clear_stale(self) -> None:
        for name in stale_namespaces():
            pids = _run("ip", "netns", "pids", name, check=False).stdout.split()
            if pids:
                raise LabError(
                    f"namespace {name} exists and processes {', '.join(pids)} run in it: another benchmark "
                    "is running? (stop it, or delete the namespace with `ip netns del`)"
                )
            _run("ip", "netns", "del", name, check=False)

    def _add_ns(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self.created.append(name)
        in_ns(name, "ip", "link", "set", "lo", "up")

    def _build(self) -> None:
        self._add_ns(HUB)
        in_ns(HUB, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        leaves = [(self.node_ns(i), i, f"n{i}") for i in range(self.size)]
        leaves.append((CHAIN, CHAIN_INDEX - 1, "nc"))
        for ns, index, hub_side in leaves:
            self._add_ns(ns)
            _run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", hub_side, "netns", HUB)
            in_ns(ns, "ip", "addr", "add", f"10.77.{index + 1}.2/24", "dev", "eth0")
            in_ns(ns, "ip", "link", "set", "eth0", "up", "gso_max_segs", "1")
            in_ns(HUB, "ip", "addr", "add", f"10.77.{index + 1}.1/24", "dev", hub_side)
            in_ns(HUB, "ip", "link", "set", hub_side, "up", "gso_max_segs", "1")
            in_ns(ns, "ip", "route", "add", "10.77.0.0/16", "via", f"10.77.{index + 1}.1")
        self._impair([ns for ns, _, _ in leaves])

    def _impair(self, leaves: list[str]) -> None:
        if self.impairment == "none":
            self.method = "none"
            return
        if self.impairment in ("auto", "netem"):
            probe = in_ns(leaves[0], "tc", "qdisc", "add", "dev", "eth0", "root", *self._netem(), check=False)
            if probe.returncode == 0:
                for ns in leaves[1:]:
                    in_ns(ns, "tc", "qdisc", "add", "dev", "eth0", "root", *self._netem())
                self.method = "netem"
                self.note = f"tc qdisc ... {' '.join(self._netem())} on every namespace's eth0 (egress)"
                return
            if self.impairment == "netem":
                raise LabError(f"tc netem is not available here: {probe.stderr.strip()}")
            self.note = (
                f"tc netem is unavailable ({probe.stderr.strip() or 'unknown qdisc'}: kernel {os.uname().release} "
                "has no sch_netem); "
            )
        _ensure_tools("nfqueue")
        self._start_delayer()
        in_ns(HUB, "iptables", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num", "0")
        self.method = "nfqueue"
        self.note += (
            f"the same delay {self.delay_ms:g} ms ± {self.jitter_ms:g} ms (uniform) and {100 * self.loss:g} % loss are "
            "applied once to every packet the hub forwards, by scripts/nfq_delay.py (iptables NFQUEUE, SCHED_FIFO)"
        )

    def _netem(self) -> list[str]:
        return netem_args(self.delay_ms, self.jitter_ms, self.loss)

    def _start_delayer(self) -> None:
        script = Path(__file__).resolve().parent / "nfq_delay.py"
        args = ["--delay-ms", str(self.delay_ms), "--jitter-ms", str(self.jitter_ms), "--loss", str(self.loss)]
        self.delayer = subprocess.Popen(
            [shutil.which("ip") or "ip", "netns", "exec", HUB, sys.executable, str(script), "--queue", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.delayer_started = time.monotonic()
        assert self.delayer.stdout is not None
        line = self.delayer.stdout.readline()
        if not line.startswith('{"ready"'):
            err = self.delayer.stderr.read() if self.delayer.stderr else ""
            raise LabError(f"the NFQUEUE delayer did not start: {line}{err}")

    # -- using --------------------------------------------------------------------------------
    def thread(self, ns: str) -> NamespaceThread:
        if ns not in self.threads:
            self.threads[ns] = NamespaceThread(ns)
        return self.threads[ns]

    def pids(self, ns: str) -> list[int]:
        return [int(p) for p in _run("ip", "netns", "pids", ns, check=False).stdout.split()]

    # -- tearing down -------------------------------------------------------------------------
    def close(self) -> None:
        """Stops helpers, kills what still runs in the lab, deletes every namespace; Ctrl-C waits."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for worker in self.threads.values():
                worker.close()
            self.threads.clear()
            if self.delayer is not None:
                if self.delayer.poll() is None:
                    seconds = time.monotonic() - self.delayer_started
                    self.delayer_stats["cores"] = round(cpu_seconds([self.delayer.pid]) / seconds, 3)
                    self.delayer.send_signal(signal.SIGTERM)
                    try:
                        out, _ = self.delayer.communicate(timeout=10)
                    except subprocess.TimeoutExpired:
                        self.delayer.kill()
                        out, _ = self.delayer.communicate()
                    for line in out.splitlines():
                        if line.startswith('{"stats"'):
                            self.delayer_stats.update(json.loads(line)["stats"])
                self.delayer = None
            for ns in reversed(self.created):
                for pid in self.pids(ns):  # leftovers of a failed run: ours, started in our namespace
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                _run("ip", "netns", "del", ns, check=False)
            self.created.clear()
        finally:
            signal.signal(signal.SIGINT, previous)
