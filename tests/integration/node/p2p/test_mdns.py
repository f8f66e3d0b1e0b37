"""mDNS on this machine's interfaces (real zeroconf, real multicast, real libp2p hosts): nodes of
one community find each other, another community's node is never seen, and a node found this way
that never proves it is a member's node is disconnected."""

from __future__ import annotations

import hashlib

import trio

from node.p2p.host import open_host
from node.p2p.keeper import Candidate, ConnectionKeeper
from node.p2p.mdns import LanPeers, open_lan_discovery, service_type

CONTRACT = bytes(range(20))


def seed(name: str) -> bytes:
    return hashlib.sha256(b"mdns test " + name.encode()).digest()


def lan_candidates(lan: LanPeers | None, vouched: set[str]) -> list[Candidate]:
    assert lan is not None
    return [Candidate(p, a, 2, lambda peer: peer in vouched) for p, a in lan.found()]


def test_the_service_type_is_the_communitys_and_fits_dns_sd() -> None:
    one, other = service_type(1, CONTRACT), service_type(2, CONTRACT)
    assert one != other
    assert one.startswith("_p2p-")
    assert one.endswith("._udp.local.")
    assert len(one.split(".")[0]) - 1 <= 15  # RFC 6763: service names are at most 15 characters


async def _scenario() -> None:
    async with (
        open_host(seed("a")) as a,
        open_host(seed("b")) as b,
        open_host(seed("stranger")) as stranger,
        open_lan_discovery(a, 1, CONTRACT) as lan_a,
        open_lan_discovery(b, 1, CONTRACT) as lan_b,
        open_lan_discovery(stranger, 2, CONTRACT) as lan_stranger,
    ):
        assert lan_a is not None
        assert lan_b is not None
        assert lan_stranger is not None
        with trio.fail_after(30):
            while not (lan_a.found() and lan_b.found()):
                await trio.sleep(0.2)
        assert [p for p, _ in lan_a.found()] == [b.peer_id]  # never the other community's node
        assert [p for p, _ in lan_b.found()] == [a.peer_id]
        assert all("0.0.0.0" not in addr for _, addrs in lan_a.found() for addr in addrs)
        assert lan_stranger.found() == []
        # a's keeper dials b; b never vouches (no member's record for it): dropped after probation
        keeper = ConnectionKeeper(a, lambda: lan_candidates(lan_a, set()), target=4, interval=0.2, probation_s=1.0)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(keeper.run)
            with trio.fail_after(20):
                while not a.is_connected(b.peer_id):
                    await trio.sleep(0.1)
                while a.is_connected(b.peer_id):
                    await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
        assert not keeper.due(b.peer_id, trio.current_time())  # and not dialled again soon
        # vouched for (its record arrived): it stays
        vouched = ConnectionKeeper(
            a, lambda: lan_candidates(lan_a, {b.peer_id}), target=4, interval=0.2, probation_s=1.0
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(vouched.run)
            with trio.fail_after(20):
                while not a.is_connected(b.peer_id):
                    await trio.sleep(0.1)
            await trio.sleep(2.0)  # past the probation
            assert a.is_connected(b.peer_id)
            nursery.cancel_scope.cancel()


def test_lan_peers_of_the_community_are_found_and_strangers_dropped() -> None:
    trio.run(_scenario)
