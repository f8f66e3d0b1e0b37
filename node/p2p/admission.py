"""Inbound connections before they are authenticated: a deadline, and caps that evict the oldest.

A TCP connection costs a peer nothing until it completes the Noise handshake, and until then we
do not know who it is. py-libp2p 0.8.1 gives each inbound connection one of 250 slots from the
moment it is accepted and refuses newcomers once they are taken, so 250 idle sockets, renewed
every 10 s, lock every honest peer out (libp2p_compat/inbound.py says where). kiez bounds the
*pending* (not yet upgraded) connections instead, and when a cap is reached it closes the oldest
pending one, not the newcomer:

- an honest handshake takes a few round trips, an idle socket never finishes; displacing the
  oldest means an attacker holds slots only by opening new connections faster than honest
  handshakes complete, and every one of them costs it a TCP handshake too;
- per source (an IPv4 address, an IPv6 /64, what one host typically owns) at most
  ``max_pending_per_source``: a new connection from a source at its cap displaces that source's
  oldest, so a flooding address displaces only its own connections and cannot fill the table
  alone. Peers behind one NAT (or every node of a devnet on 127.0.0.1) share a source and still
  get in: the newcomer is never the one refused, and the cap is high enough for a few dozen
  handshakes of one source at once on a busy machine;
- in total at most ``max_pending``: when full, the oldest pending connection is closed, so to
  displace an honest handshake an attacker must open ``max_pending`` connections during its few
  round trips, from ``max_pending / max_pending_per_source`` sources at least;
- each handshake must finish within ``handshake_timeout_s``, or it is closed.

The caps also bound the file descriptors anonymous connections can hold (``max_pending`` of them),
whatever the rate they arrive at.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import trio

#: The whole inbound upgrade (multistream, Noise, yamux negotiation) must finish within this.
#: Several round trips on a slow link take a few seconds; py-libp2p's own inbound default is 10 s.
HANDSHAKE_TIMEOUT_S = 10.0
#: Pending inbound handshakes at once, all sources together: a file descriptor and a task each,
#: next to the swarm's 300 established connections.
MAX_PENDING_HANDSHAKES = 256
#: Pending inbound handshakes at once from one source: an honest peer needs one (two when both
#: sides dial at once), but peers behind one NAT, or a devnet's nodes restarting together on a
#: loaded machine, need more; an eighth of the table, so that one source can never fill it.
MAX_PENDING_PER_SOURCE = 32
#: An IPv6 source is its /64 network: one host usually owns a whole /64.
IPV6_SOURCE_PREFIX = 64
#: The source of a connection whose remote address we cannot read (they share one budget).
UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True)
class InboundLimits:
    """The admission limits of one host; the defaults are what a public node uses."""

    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S
    max_pending: int = MAX_PENDING_HANDSHAKES
    max_pending_per_source: int = MAX_PENDING_PER_SOURCE

    def __post_init__(self) -> None:
        if self.handshake_timeout_s <= 0:
            raise ValueError(f"handshake_timeout_s must be positive, got {self.handshake_timeout_s}")
        if not 1 <= self.max_pending_per_source <= self.max_pending:
            raise ValueError(
                f"need 1 <= max_pending_per_source <= max_pending, got "
                f"{self.max_pending_per_source} and {self.max_pending}"
            )


def source_of(host: str | None) -> str:
    """The budget a remote address draws on: the IPv4 address itself, or the IPv6 /64 it is in."""
    if host is None:
        return UNKNOWN_SOURCE
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return UNKNOWN_SOURCE
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_SOURCE_PREFIX), strict=False))
    return str(ip)


@dataclass(eq=False)
class Handshake:
    """One pending inbound handshake: run it inside ``scope``, which the deadline or an eviction
    cancels (``evicted`` says which)."""

    source: str
    scope: trio.CancelScope
    evicted: bool = False


@dataclass
class AdmissionCounts:
    """What happened to inbound connections since the host started, for ``kiez status``."""

    upgraded: int = 0
    failed: int = 0
    timed_out: int = 0
    evicted: int = 0
    refused: int = 0


class PendingHandshakes:
    """The table of pending inbound handshakes of one host, oldest first."""

    def __init__(self, limits: InboundLimits) -> None:
        self.limits = limits
        self.counts = AdmissionCounts()
        self._all: dict[Handshake, None] = {}  # insertion order = age order
        self._by_source: dict[str, list[Handshake]] = {}

    def __len__(self) -> int:
        return len(self._all)

    @contextmanager
    def admit(self, source: str) -> Iterator[Handshake]:
        """Make room for a handshake from ``source`` (evicting as the module docstring says) and
        hold its slot for the duration of the block; the caller runs the handshake in its scope."""
        self._make_room(source)
        handshake = Handshake(source, trio.CancelScope(deadline=trio.current_time() + self.limits.handshake_timeout_s))
        self._all[handshake] = None
        self._by_source.setdefault(source, []).append(handshake)
        try:
            yield handshake
        finally:
            self._forget(handshake)
            if handshake.scope.cancelled_caught and not handshake.evicted:
                self.counts.timed_out += 1

    def _make_room(self, source: str) -> None:
        mine = self._by_source.get(source, [])
        if len(mine) >= self.limits.max_pending_per_source:
            self._evict(mine[0])
        elif len(self._all) >= self.limits.max_pending:
            self._evict(next(iter(self._all)))

    def _evict(self, handshake: Handshake) -> None:
        handshake.evicted = True
        handshake.scope.cancel()
        self._forget(handshake)  # its slot is free now, not once its task has unwound
        self.counts.evicted += 1

    def _forget(self, handshake: Handshake) -> None:
        if handshake not in self._all:  # evicted already
            return
        del self._all[handshake]
        group = self._by_source[handshake.source]
        group.remove(handshake)
        if not group:
            del self._by_source[handshake.source]

    def status(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "handshake_timeout_s": self.limits.handshake_timeout_s,
            "max_pending": self.limits.max_pending,
            "max_pending_per_source": self.limits.max_pending_per_source,
            "pending": len(self._all),
            "pending_sources": len(self._by_source),
            "upgraded": counts.upgraded,
            "failed": counts.failed,
            "timed_out": counts.timed_out,
            "evicted": counts.evicted,
            "refused": counts.refused,
        }
