"""This node's own peer record (node/daemon/records.py) and the service's address book, on a real
store: published from the address sources, renewed at half-life or when addresses change, and
only a current member's live record counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import multiaddr
import pytest
import trio

from node.core.peers import peer_id_text
from node.core.types import EraseBody, Kind
from node.core.validation import Via
from node.daemon.records import RecordPublisher
from node.daemon.service import NodeService
from node.store import Store
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, address, envelope, remove, signer, view_with
from tests.unit.node.core.test_peers import P2P_SEED, record


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> Iterator[NodeService]:
    store = Store.open(tmp_path / "node.db")
    yield NodeService(store, view_with("alice", "bob"), signer("alice"), COMMUNITY, clock=clock)
    store.close()


def publisher(service: NodeService, addrs: list[str], sent: list[bytes]) -> RecordPublisher:
    peer_id = peer_id_text(record().peer_id)

    async def broadcast(data: bytes) -> None:
        sent.append(data)

    return RecordPublisher(service, P2P_SEED, peer_id, [lambda: addrs, lambda: ("/ip4/0.0.0.0/tcp/9",)], broadcast)


def test_the_record_lists_the_sources_and_renews_at_half_life_or_on_change(service: NodeService, clock: Clock) -> None:
    addrs = ["/ip4/192.0.2.7/tcp/4101"]
    sent: list[bytes] = []
    pub = publisher(service, addrs, sent)
    first = pub.publish(pub.addrs())
    (entry,) = service.address_book()
    texts = [str(multiaddr.Multiaddr(a)) for a in entry.addrs]
    assert texts[0] == "/ip4/192.0.2.7/tcp/4101"
    assert "0.0.0.0" not in " ".join(texts)  # the wildcard source became interface addresses
    assert entry.envelope == first.envelope
    assert service.member_of_peer(entry.peer_id) == address("alice")
    assert not pub.due(pub.addrs())
    clock.ms += 12 * 3600 * 1000 - 1
    assert not pub.due(pub.addrs())
    clock.ms += 1
    assert pub.due(pub.addrs())  # half-life
    pub.publish(pub.addrs())
    addrs.append("/ip4/192.0.2.8/tcp/4101")
    assert pub.due(pub.addrs())  # the addresses changed


def test_run_publishes_broadcasts_and_republishes_on_changed(service: NodeService) -> None:
    addrs = ["/ip4/192.0.2.7/tcp/4101"]
    sent: list[bytes] = []
    pub = publisher(service, addrs, sent)

    async def scenario() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pub.run)
            with trio.fail_after(5):
                while len(sent) < 1:
                    await trio.sleep(0.01)
                addrs.append("/ip4/192.0.2.8/tcp/4101")
                pub.changed()
                while len(sent) < 2:
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()

    trio.run(scenario)
    assert pub.published == 2
    assert len(service.address_book()) == 1  # the latest only


def test_only_a_current_members_live_record_counts(service: NodeService, clock: Clock) -> None:
    bob = record("bob", ttl=60_000, seed=b"\x02" * 32)
    assert service.ingest(envelope("bob", Kind.PEER, bob), Via.SYNC).accepted
    assert service.member_of_peer(bob.peer_id) == address("bob")
    clock.ms += 60_000
    assert service.member_of_peer(bob.peer_id) is None  # expired
    clock.ms -= 60_000
    remove(service.view, "bob", NOW_MS // 1000)
    assert service.member_of_peer(bob.peer_id) is None  # no longer a member
    assert service.address_book() == []


def test_a_member_who_erased_themselves_advertises_their_node_no_more(service: NodeService, clock: Clock) -> None:
    """After ``kiez forget-me`` (an erase, then the key revoked and the member gone, on-chain),
    the node must not publish a record in between: it would outlive the erase everywhere."""
    sent: list[bytes] = []
    pub = publisher(service, ["/ip4/192.0.2.7/tcp/4101"], sent)
    pub.publish(pub.addrs())
    assert not pub.forgotten()
    service.publish(Kind.ERASE, EraseBody(service.now_ms()))
    assert pub.forgotten()
    assert service.address_book() == []  # the erase took the record with it
    clock.ms += 13 * 3600 * 1000  # past half-life: a renewal would be due

    async def scenario() -> None:
        with trio.move_on_after(0.5):
            await pub.run()

    trio.run(scenario)
    assert sent == []
    assert service.address_book() == []
