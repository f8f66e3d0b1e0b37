"""Circuit relay v2 for a community: members' public nodes relay, NATed nodes reserve on them.

- ``open_relay`` installs the stop handler on every node (anyone can be reached through a relay)
  and, on a node that should relay (``hop_wanted``), the hop for members' nodes only, with the
  config's limits (``libp2p_compat.relay.MembersOnlyCircuitV2`` says what it adds to py-libp2p).
- ``RelayClient`` keeps reservations on one or two relays picked from injected candidates
  (members' public nodes, from the address book), renews them before they lapse, and says which
  ``/p2p/<relay>/p2p-circuit`` addresses reach us (``circuit_addrs``, ``on_change`` when they
  change, so the peer record is republished). It dials circuit addresses for ``P2PHost.connect``.

Over a relayed connection everything runs as over a direct one: the relay copies bytes of one
yamux stream, and we run Noise and our own yamux inside it, so gossip, sync and blobs open
streams on it like on any connection (the relay's byte and time limits bound it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID

from node.p2p.errors import DialFailed
from node.p2p.host import DIAL_TIMEOUT_S, P2PHost
from node.p2p.libp2p_compat.relay import (
    HOP_PROTOCOL,
    HopLimits,
    MembersOnlyCircuitV2,
    connect_through,
    reserve,
    status_name,
)

logger = logging.getLogger(__name__)

#: Renew a reservation this long before it lapses (and retry a failed relay after as long).
RENEW_MARGIN_S = 300.0
#: How long a candidate that refused or could not be reached is left alone.
RETRY_S = 120.0
#: How often the client checks that its relays are still connected and enough.
CHECK_INTERVAL_S = 15.0
CIRCUIT = "/p2p-circuit"


class RelayCandidate(Protocol):
    """A member's node that may relay for us: base58 peer id, multiaddrs ending in /p2p/<id>."""

    @property
    def peer_id(self) -> str: ...

    @property
    def addrs(self) -> Sequence[str]: ...


def hop_wanted(relay_hop: str, reachability: str) -> bool:
    """Whether to act as a hop: "on" always, "off" never, "auto" once we are known public."""
    return relay_hop == "on" or (relay_hop == "auto" and reachability == "public")


def open_relay(
    p2p: P2PHost, limits: HopLimits, is_member_peer: Callable[[bytes], bool], hop: bool
) -> MembersOnlyCircuitV2:
    """Install the relay protocols on ``p2p`` (stop always, members-only hop when ``hop``)."""
    protocol = MembersOnlyCircuitV2(p2p.libp2p_host, limits, is_member_peer)
    protocol.install(hop)
    return protocol


def split_circuit(addr: str) -> tuple[str, str]:
    """``<relay addr>/p2p/<relay>/p2p-circuit/p2p/<target>`` -> (relay addr, target peer id)."""
    relay_part, sep, target_part = addr.partition(CIRCUIT)
    if not sep or not target_part.startswith("/p2p/") or "/p2p/" not in relay_part:
        raise DialFailed(addr, "not a circuit address <relay>/p2p/<relay>/p2p-circuit/p2p/<target>")
    return relay_part, target_part.removeprefix("/p2p/")


@dataclass
class Reservation:
    relay: str  # base58
    relay_addr: str  # the address we reached it at, ending in /p2p/<relay>
    expires_unix: int


@dataclass
class ClientCounters:
    """How relayed connections came about, for ``kiez status`` and the bench."""

    reservations_made: int = 0
    reservations_refused: int = 0
    circuits_dialed: int = 0
    circuit_dials_failed: int = 0
    last_refusal: str = ""
    refusals: dict[str, str] = field(default_factory=dict)


class RelayClient:
    """Reservations on up to ``want`` relays, renewed; circuit dials (see module doc)."""

    def __init__(
        self,
        p2p: P2PHost,
        relay_candidates: Callable[[], list[Any]],
        on_change: Callable[[], None] | None = None,
        want: int = 2,
    ) -> None:
        self._p2p = p2p
        self._candidates = relay_candidates
        self._on_change = on_change
        self._want = want
        self._reservations: dict[str, Reservation] = {}
        self._retry_at: dict[str, float] = {}  # candidates that refused or failed: not before
        self.counters = ClientCounters()

    def circuit_addrs(self) -> list[str]:
        """Addresses that reach us through our relays: ``<relay addr>/p2p/<relay>/p2p-circuit``."""
        return sorted(f"{r.relay_addr}{CIRCUIT}" for r in self._reservations.values())

    def status(self) -> dict[str, object]:
        return {
            "relays": sorted(self._reservations),
            "circuit_addrs": self.circuit_addrs(),
            "reservations_made": self.counters.reservations_made,
            "reservations_refused": self.counters.reservations_refused,
            "circuits_dialed": self.counters.circuits_dialed,
            "circuit_dials_failed": self.counters.circuit_dials_failed,
        }

    async def run(self) -> None:
        """Keep reservations until cancelled."""
        while True:
            await self.refresh()
            await trio.sleep(CHECK_INTERVAL_S)

    async def refresh(self) -> None:
        """One round: drop lapsed or disconnected reservations, renew those near their end, and
        reserve on new candidates until ``want`` are held."""
        before = self.circuit_addrs()
        wall = time.time()  # wall clock: the relay states expiry in unix seconds
        for relay, held in list(self._reservations.items()):
            if not self._p2p.is_connected(relay) or held.expires_unix - wall < RENEW_MARGIN_S:
                del self._reservations[relay]
        for candidate in self._candidates():
            if len(self._reservations) >= self._want:
                break
            if candidate.peer_id in self._reservations or candidate.peer_id == self._p2p.peer_id:
                continue
            if self._retry_at.get(candidate.peer_id, 0.0) > time.monotonic():
                continue
            if not await self._try_reserve(candidate):
                self._retry_at[candidate.peer_id] = time.monotonic() + RETRY_S
        if self.circuit_addrs() != before and self._on_change is not None:
            self._on_change()

    def drop_all(self) -> None:
        """Forget every reservation (the node turned out to be public: it needs no relay)."""
        if self._reservations:
            self._reservations.clear()
            if self._on_change is not None:
                self._on_change()

    async def _try_reserve(self, candidate: Any) -> bool:
        """Reserve on ``candidate`` at the address we reach it at: the one we dialed if we are
        connected already (its record may list private addresses first), else the first of its
        record's addresses that connects. Circuit addresses cannot carry a reservation."""
        direct = [a for a in candidate.addrs if CIRCUIT not in a]
        dialed = self._p2p.dialed_addr(candidate.peer_id) if self._p2p.is_connected(candidate.peer_id) else None
        for addr in [dialed] if dialed else direct:
            try:
                await self._p2p.connect(addr)
                held = await self.reserve_on(candidate.peer_id, addr)
            except DialFailed as error:
                logger.debug("relay candidate %s at %s: %s", candidate.peer_id, addr, error.reason)
                continue
            if held is not None:
                return True
        return False

    async def reserve_on(self, relay: str, relay_addr: str) -> Reservation | None:
        """Ask connected ``relay`` for a slot; None (and the refusal noted) if it says no."""
        host = self._p2p.libp2p_host
        try:
            with trio.fail_after(DIAL_TIMEOUT_S):
                stream = await host.new_stream(ID.from_base58(relay), [TProtocol(HOP_PROTOCOL)])
                grant = await reserve(stream, host.get_id())
        except trio.TooSlowError as error:
            raise DialFailed(relay, "the relay did not answer the reservation in time") from error
        except Exception as error:  # py-libp2p stream errors have no common base
            raise DialFailed(relay, f"reservation failed: {error}") from error
        if not grant.ok:
            self.counters.reservations_refused += 1
            self.counters.refusals[relay] = status_name(grant.status)
            logger.info("relay %s refused our reservation: %s", relay, status_name(grant.status))
            return None
        held = Reservation(relay, relay_addr, grant.expires_unix)
        self._reservations[relay] = held
        self.counters.reservations_made += 1
        logger.info("reserved a relay slot on %s", relay)
        return held

    async def dial(self, addr: str) -> None:
        """Connect to the peer at circuit address ``addr``; ``DialFailed`` with the relay's
        status (PERMISSION_DENIED, NO_RESERVATION, ...) if it will not connect us."""
        relay_addr, target = split_circuit(addr)
        relay = relay_addr.rsplit("/p2p/", 1)[1]
        await self._p2p.connect(relay_addr)
        host = self._p2p.libp2p_host
        try:
            with trio.fail_after(DIAL_TIMEOUT_S):
                stream = await host.new_stream(ID.from_base58(relay), [TProtocol(HOP_PROTOCOL)])
                outcome = await connect_through(host, stream, ID.from_base58(target), addr)
        except trio.TooSlowError as error:
            self.counters.circuit_dials_failed += 1
            raise DialFailed(target, f"no relayed connection through {relay} in time") from error
        except Exception as error:  # stream and upgrade errors of py-libp2p
            self.counters.circuit_dials_failed += 1
            raise DialFailed(target, f"relayed dial through {relay} failed: {error}") from error
        if isinstance(outcome, int):
            self.counters.circuit_dials_failed += 1
            raise DialFailed(target, f"relay {relay} refused the circuit: {status_name(outcome)}")
        self.counters.circuits_dialed += 1
