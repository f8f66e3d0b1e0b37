"""A lab of network namespaces shaped like the internet members live on (root only): public hosts,
a chain, and homes behind NAT routers.

Layout, for a lab tagged ``T`` (namespace names start ``knT-``; ``T`` holds the creating process's
pid, so labs of several processes never meet, and a dead process's lab is cleared by the next)::

    knT-pub0   eth0 198.18.1.2/24  ──┐
    knT-chain  eth0 198.18.9.2/24  ──┤ knT-inet: the "internet", a router for 198.18.0.0/15
    knT-h0r    wan  198.18.10.2/24 ──┤ (optional NFQUEUE delay/loss on everything it forwards)
    knT-h1r    wan  198.18.11.2/24 ──┘
      └ lan 192.168.1.1/24 ── knT-h0  eth0 192.168.1.2/24   (home 0's router NATs its LAN)

Each home router masquerades its LAN (iptables ``MASQUERADE``; ``--random-fully`` for a "hard"
NAT that maps every flow to a new port) and forwards from the internet into the LAN only what
belongs to a connection the LAN opened (conntrack ESTABLISHED,RELATED), like a home router: nobody
on the internet can dial a node at home, and the internet has no route to 192.168.0.0/16 at all.
Public hosts and the chain have a 198.18.x address the homes reach. Every namespace has its own
loopback, so a node's API on 127.0.0.1 is private to its namespace (``NamespaceThread`` reaches it).

``NatLab`` is a context manager that always deletes its namespaces (their links, addresses and
iptables rules go with them) and stops its helpers, also on failure or Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from node.harness.netns import (
    Delayer,
    LabError,
    NamespaceThread,
    Shaping,
    delete_namespace,
    in_ns,
    list_namespaces,
    netns_unavailable,
    run,
)

PREFIX = "kn"  # scripts/netns_lab.py's namespaces are kiez-bench-*
CHAIN_PORT = 8545
INET_SUBNET = "198.18.0.0/15"
QUEUE = 0
MAX_PUBLICS = 8
MAX_HOMES = 200

T = TypeVar("T")


def _owner_alive(name: str) -> bool:
    """Whether the process that created namespace ``knPIDxRAND-…`` still runs."""
    tag = name[len(PREFIX) :].split("-", 1)[0]
    pid = tag.split("x", 1)[0]
    if not pid.isdigit():
        return True  # not one of ours: leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale_labs() -> list[str]:
    """Deletes the namespaces of labs whose process died without cleaning up; returns their names."""
    stale = [n for n in list_namespaces() if n.startswith(PREFIX) and "-" in n and not _owner_alive(n)]
    for name in stale:
        delete_namespace(name)
    return stale


@dataclass
class NatLab:
    """``publics`` public hosts, a chain namespace and ``homes`` NATed homes around an internet router.

    ``hard_nat`` lists the homes whose router maps every flow to a random port (no hole punching
    through it); ``shaping`` delays and drops packets on the internet's forwarding path from the
    start (``shape``/``unshape`` switch it later)."""

    homes: int = 3
    publics: int = 1
    shaping: Shaping | None = None
    hard_nat: tuple[int, ...] = ()
    tag: str = field(default_factory=lambda: f"{os.getpid()}x{secrets.token_hex(2)}")
    created: list[str] = field(default_factory=list)
    threads: dict[str, NamespaceThread] = field(default_factory=dict)
    delayer: Delayer | None = None
    delayer_stats: dict[str, Any] = field(default_factory=dict)

    # -- names and addresses ------------------------------------------------------------------
    def _ns(self, suffix: str) -> str:
        return f"{PREFIX}{self.tag}-{suffix}"

    @property
    def inet(self) -> str:
        return self._ns("inet")

    @property
    def chain(self) -> str:
        return self._ns("chain")

    def public(self, j: int = 0) -> str:
        return self._ns(f"pub{j}")

    def home_router(self, k: int) -> str:
        return self._ns(f"h{k}r")

    def home(self, k: int) -> str:
        """The namespace of the host behind home ``k``'s NAT (where a member's node runs)."""
        return self._ns(f"h{k}")

    @staticmethod
    def public_address(j: int = 0) -> str:
        return f"198.18.{1 + j}.2"

    chain_address = "198.18.9.2"

    @property
    def chain_url(self) -> str:
        return f"http://{self.chain_address}:{CHAIN_PORT}"

    @staticmethod
    def home_wan_address(k: int) -> str:
        """Home ``k``'s public address: its router's side of the internet (what peers see)."""
        return f"198.18.{10 + k}.2"

    @staticmethod
    def home_address(k: int) -> str:
        """The private address of the host behind home ``k``'s NAT."""
        return f"192.168.{1 + k}.2"

    def address_of(self, ns: str) -> str:
        """The address a node in namespace ``ns`` listens on."""
        for j in range(self.publics):
            if ns == self.public(j):
                return self.public_address(j)
        for k in range(self.homes):
            if ns == self.home(k):
                return self.home_address(k)
        if ns == self.chain:
            return self.chain_address
        raise LabError(f"{ns} is not a host namespace of this lab")

    @property
    def hosts(self) -> list[str]:
        """Every namespace a node can run in: the public hosts, then the homes."""
        return [self.public(j) for j in range(self.publics)] + [self.home(k) for k in range(self.homes)]

    # -- building -----------------------------------------------------------------------------
    def __enter__(self) -> NatLab:
        reason = netns_unavailable()
        if reason is not None:
            raise LabError(f"the NAT lab cannot run here: {reason}")
        if not 1 <= self.publics <= MAX_PUBLICS or not 0 <= self.homes <= MAX_HOMES:
            raise LabError(f"a NAT lab has 1 to {MAX_PUBLICS} public hosts and 0 to {MAX_HOMES} homes")
        clear_stale_labs()
        try:
            self._build()
            if self.shaping is not None:
                self.shape(self.shaping)
        except BaseException:  # Ctrl-C while building too: nothing is left behind
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _add_ns(self, name: str) -> None:
        run("ip", "netns", "add", name)
        self.created.append(name)
        in_ns(name, "ip", "link", "set", "lo", "up")

    def _link(self, a: str, a_dev: str, a_addr: str, b: str, b_dev: str, b_addr: str) -> None:
        """A veth pair between namespaces ``a`` and ``b``, addressed (``x.y.z.w/len``) and up.
        One MTU-sized packet per skb (``gso_max_segs 1``), so loss hits single packets."""
        run("ip", "link", "add", a_dev, "netns", a, "type", "veth", "peer", "name", b_dev, "netns", b)
        for ns, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
            in_ns(ns, "ip", "addr", "add", addr, "dev", dev)
            in_ns(ns, "ip", "link", "set", dev, "up", "gso_max_segs", "1")

    def _attach(self, ns: str, dev: str, inet_dev: str, subnet: str) -> None:
        """Links ``ns`` to the internet router on ``subnet`` (``198.18.N``): router .1, ``ns`` .2."""
        self._link(self.inet, inet_dev, f"{subnet}.1/24", ns, dev, f"{subnet}.2/24")
        in_ns(ns, "ip", "route", "add", "default", "via", f"{subnet}.1")

    def _build(self) -> None:
        self._add_ns(self.inet)
        in_ns(self.inet, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for j in range(self.publics):
            self._add_ns(self.public(j))
            self._attach(self.public(j), "eth0", f"p{j}", f"198.18.{1 + j}")
        self._add_ns(self.chain)
        self._attach(self.chain, "eth0", "c0", "198.18.9")
        for k in range(self.homes):
            self._build_home(k)

    def _build_home(self, k: int) -> None:
        router, host, lan = self.home_router(k), self.home(k), f"192.168.{1 + k}"
        self._add_ns(router)
        self._attach(router, "wan", f"h{k}", f"198.18.{10 + k}")
        self._add_ns(host)
        self._link(router, "lan", f"{lan}.1/24", host, "eth0", f"{lan}.2/24")
        in_ns(host, "ip", "route", "add", "default", "via", f"{lan}.1")
        in_ns(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        masquerade = ["-j", "MASQUERADE", *(["--random-fully"] if k in self.hard_nat else [])]
        in_ns(router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", f"{lan}.0/24", "-o", "wan", *masquerade)
        stateful = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"]
        in_ns(router, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", *stateful)
        in_ns(router, "iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", "-j", "DROP")
        # Like most home routers, drop (not refuse) unsolicited connections to the router itself:
        # a hole punch's first SYN, arriving before the other side's, is lost and sent again.
        in_ns(router, "iptables", "-A", "INPUT", "-i", "wan", "-p", "tcp", "--syn", "-j", "DROP")

    # -- shaping ------------------------------------------------------------------------------
    def shape(self, shaping: Shaping) -> None:
        """Delays and drops every packet the internet forwards (each packet between two
        namespaces of the lab passes it once), by the NFQUEUE delayer."""
        self.unshape()
        self.delayer = Delayer(self.inet, shaping, QUEUE).start()
        in_ns(self.inet, "iptables", "-I", "FORWARD", "-j", "NFQUEUE", "--queue-num", str(QUEUE))
        self.shaping = shaping

    def unshape(self) -> dict[str, Any]:
        """Stops shaping; returns the delayer's statistics (packets seen, dropped, how late)."""
        if self.delayer is None:
            return {}
        in_ns(self.inet, "iptables", "-D", "FORWARD", "-j", "NFQUEUE", "--queue-num", str(QUEUE), check=False)
        self.delayer_stats = self.delayer.stop()
        self.delayer = None
        self.shaping = None
        return self.delayer_stats

    # -- using --------------------------------------------------------------------------------
    def thread(self, ns: str) -> NamespaceThread:
        """The lab's worker thread in ``ns`` (one per namespace, created on first use)."""
        if ns not in self.created:
            raise LabError(f"{ns} is not a namespace of this lab")
        if ns not in self.threads:
            self.threads[ns] = NamespaceThread(ns)
        return self.threads[ns]

    def on_chain(self, call: Callable[[], T]) -> T:
        """Makes ``call`` (a web3 request, starting Anvil) from inside the chain's namespace."""
        return self.thread(self.chain).call(call)

    def can_connect(self, ns: str, host: str, port: int, timeout: float = 2.0) -> bool:
        """Whether a TCP connection from namespace ``ns`` to ``host:port`` is accepted."""

        def attempt() -> bool:
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    return True
            except OSError:
                return False

        return self.thread(ns).call(attempt)

    # -- tearing down -------------------------------------------------------------------------
    def close(self) -> None:
        """Stops the delayer and the threads, kills what still runs in the lab, deletes every
        namespace (and with them every link, address and iptables rule); Ctrl-C waits for it."""
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            self.unshape()
            for worker in self.threads.values():
                worker.close()
            self.threads.clear()
            for ns in reversed(self.created):
                delete_namespace(ns)
            self.created.clear()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
