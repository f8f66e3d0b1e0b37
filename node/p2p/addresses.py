"""Multiaddrs as a peer record carries them: binary, without ``/p2p/<own id>``, never a wildcard.

A node listening on ``0.0.0.0`` (or ``::``) is reachable at its interfaces' addresses, not at the
wildcard, which a peer would dial as its own machine. So wildcards are replaced by every address
of every interface (loopback only when there is nothing else: a record that says "127.0.0.1" is
useless to anyone on another machine, but all a single-machine test has).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

import ifaddr
import multiaddr

from node.core import limits

logger = logging.getLogger(__name__)

_WILDCARDS = {"/ip4/0.0.0.0/": "ip4", "/ip6/::/": "ip6"}


def interface_ips(family: str) -> list[str]:
    """This machine's interface addresses of ``family`` ("ip4" or "ip6"), loopback last."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if family == "ip4" and isinstance(ip.ip, str):
                found.append(ip.ip)
            elif family == "ip6" and isinstance(ip.ip, tuple) and not ip.ip[0].startswith("fe80"):
                found.append(ip.ip[0])  # link-local needs a zone id a record cannot carry
    public = [a for a in found if not ipaddress.ip_address(a).is_loopback]
    return sorted(set(public)) or sorted(set(found))


def expand_wildcards(addr: str) -> list[str]:
    """``addr``, or one address per interface if it listens on a wildcard."""
    for prefix, family in _WILDCARDS.items():
        if addr.startswith(prefix):
            rest = addr[len(prefix) - 1 :]
            return [f"/{family}/{ip}{rest}" for ip in interface_ips(family)]
    return [addr]


def record_addrs(addrs: Iterable[str], own_peer_id: str) -> tuple[bytes, ...]:
    """The binary multiaddrs a peer record lists for ``addrs`` (strings from the address
    sources): wildcards expanded, the trailing ``/p2p/<own id>`` cut, duplicates and what cannot
    be parsed or is too long left out (logged), at most ``MAX_PEER_ADDRS``, in order."""
    out: list[bytes] = []
    suffix = f"/p2p/{own_peer_id}"
    for text in addrs:
        for addr in expand_wildcards(text.removesuffix(suffix)):
            try:
                packed = bytes(multiaddr.Multiaddr(addr).to_bytes())
            except Exception as error:  # multiaddr raises several unrelated types for bad input
                logger.warning("not advertising %r: not a multiaddr (%s)", addr, error)
                continue
            if len(packed) > limits.MAX_PEER_ADDR_BYTES:
                logger.warning("not advertising %s: longer than %d bytes", addr, limits.MAX_PEER_ADDR_BYTES)
            elif packed not in out:
                out.append(packed)
    if len(out) > limits.MAX_PEER_ADDRS:
        logger.info("advertising the first %d of %d addresses", limits.MAX_PEER_ADDRS, len(out))
    return tuple(out[: limits.MAX_PEER_ADDRS])


def dialable(addr: bytes, peer_id: str) -> str | None:
    """A record's binary address as a multiaddr string ending in ``/p2p/<peer_id>``, ready for
    ``P2PHost.connect``; None if it does not parse (a record from a newer node, say)."""
    try:
        text = str(multiaddr.Multiaddr(addr))
    except Exception:  # multiaddr raises several unrelated types for bad input
        return None
    return f"{text}/p2p/{peer_id}"
