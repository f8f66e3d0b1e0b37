"""Keep connections to the configured bootstrap peers, redialing with capped exponential backoff.

Small communities have no DHT and no relays: a node knows a handful of peers from its
configuration, and the mesh only heals if someone redials a peer that went away. Each bootstrap
peer gets its own task that checks the connection every ``interval`` seconds and, while the peer
is unreachable, retries after ``interval``, 2x, 4x ... up to ``max_backoff`` (with jitter, so a
whole community does not redial a restarted node in lockstep). When the peer comes back the
next attempt connects and the backoff resets.

This is the only place that dials on its own: ``open_host`` stops py-libp2p's auto-connector, and
``P2PHost.connect`` clears the swarm's 60 s negative dial cache so a restarted peer is reachable
on the first attempt after it is back.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict

import trio

from node.p2p.errors import DialFailed
from node.p2p.host import P2PHost, parse_peer_multiaddr

logger = logging.getLogger(__name__)

DEFAULT_MAX_BACKOFF_S = 60.0
_JITTER = 0.1  # +-10 % on every backoff delay


async def maintain_peers(
    host: P2PHost, bootstrap: list[str], interval: float, *, max_backoff: float = DEFAULT_MAX_BACKOFF_S
) -> None:
    """Run until cancelled, keeping ``host`` connected to every peer in ``bootstrap``.

    ``bootstrap`` holds full multiaddrs (``.../p2p/<peer id>``); our own address is skipped, so
    every node of a community can share one list (with nobody left to dial it returns at once).
    A malformed entry raises ``BadMultiaddr`` at once: a configuration error, not a network condition.
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval}")
    if max_backoff < interval:
        raise ValueError(f"max_backoff ({max_backoff}) must be at least interval ({interval})")
    addrs_by_peer: dict[str, list[str]] = defaultdict(list)
    for addr in bootstrap:
        peer_id, _ = parse_peer_multiaddr(addr)
        if peer_id != host.peer_id:
            addrs_by_peer[peer_id].append(addr)
    logger.info("keeping connections to %d bootstrap peer(s): %s", len(addrs_by_peer), ", ".join(addrs_by_peer))
    async with trio.open_nursery() as nursery:
        for peer_id, addrs in addrs_by_peer.items():
            nursery.start_soon(_keep_connected, host, peer_id, addrs, interval, max_backoff)


def backoff_delay(failures: int, interval: float, max_backoff: float) -> float:
    """Seconds to wait after ``failures`` consecutive failed dials (before jitter)."""
    return min(interval * 2.0 ** max(failures - 1, 0), max_backoff)


async def _keep_connected(host: P2PHost, peer_id: str, addrs: list[str], interval: float, max_backoff: float) -> None:
    failures = 0
    was_connected = False
    while True:
        if host.is_connected(peer_id):
            if not was_connected:
                logger.info("connected to bootstrap peer %s", peer_id)
            was_connected, failures = True, 0
            await trio.sleep(interval)
            continue
        if was_connected:
            logger.info("lost connection to bootstrap peer %s; redialing", peer_id)
            was_connected = False
        error = await _dial_any(host, addrs)
        if error is None:
            continue  # the next round logs "connected" and resets the backoff
        failures += 1
        delay = backoff_delay(failures, interval, max_backoff)
        delay *= 1 + random.uniform(-_JITTER, _JITTER)  # noqa: S311 - jitter, not cryptography
        log = logger.info if failures == 1 else logger.debug
        log("cannot reach bootstrap peer %s (attempt %d), retrying in %.1f s: %s", peer_id, failures, delay, error)
        await trio.sleep(delay)


async def _dial_any(host: P2PHost, addrs: list[str]) -> DialFailed | None:
    """Try each address of one peer in turn; the last error if none works."""
    last_error: DialFailed | None = None
    for addr in addrs:
        try:
            await host.connect(addr)
        except DialFailed as error:
            last_error = error
        else:
            return None
    return last_error
