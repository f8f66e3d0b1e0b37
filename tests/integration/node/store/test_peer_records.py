"""The address book in the store: the latest record per app key, and what makes one go."""

from __future__ import annotations

from node.core.encoding import decode
from node.core.facts import KeyRevoked, LogPosition, MemberGone
from node.core.types import EraseBody, Kind, Message
from node.store import Store
from node.store.chain import ChainBatch, ChainEntry, Cursor
from tests.unit.node.core.helpers import NOW_MS, T0, address, envelope, view_with
from tests.unit.node.core.test_peers import record

ALICE, BOB = address("alice"), address("bob")


def peer(name: str, ts: int = NOW_MS, ttl: int = 86_400_000) -> Message:
    return decode(envelope(name, Kind.PEER, record(name, ts=ts, ttl=ttl), ts))


def _ids(store: Store) -> set[bytes]:
    return {i for _, i in store.messages.sync_keys()}


def test_the_latest_record_per_key_wins_in_any_order_and_the_older_leaves_sync(store: Store) -> None:
    old, new = peer("alice", NOW_MS), peer("alice", NOW_MS + 1000)
    assert store.messages.add(old, ALICE, NOW_MS)
    assert store.messages.add(new, ALICE, NOW_MS)
    assert [r.timestamp_ms for r in store.peers.all()] == [NOW_MS + 1000]
    assert _ids(store) == {new.id}  # the superseded record is no longer offered to sync
    assert not store.messages.add(old, ALICE, NOW_MS)  # a lagging peer offers it again: dropped again
    assert _ids(store) == {new.id}
    (entry,) = store.peers.of_peer(new.body.peer_id)  # type: ignore[union-attr]
    assert (entry.member, entry.envelope, entry.addrs) == (ALICE, new.envelope, record("alice").addrs)


def test_expired_records_leave_both_tables(store: Store) -> None:
    short, long = peer("alice", ttl=60_000), peer("bob")
    store.messages.add_many([(short, ALICE), (long, BOB)], NOW_MS)
    assert store.peers.prune_expired(NOW_MS + 60_000) == 1
    assert [r.member for r in store.peers.all()] == [BOB]
    assert _ids(store) == {long.id}


def _apply(store: Store, fact: MemberGone | KeyRevoked) -> None:
    view = view_with("alice", "bob")
    batch = ChainBatch([ChainEntry(LogPosition(7, 0, b"\x07" * 32), T0 + 1000, fact)], Cursor(7, b"\x07" * 32, 0))
    store.chain.apply(view, batch)


def test_a_removed_members_records_go(store: Store) -> None:
    store.messages.add_many([(peer("alice"), ALICE), (peer("bob"), BOB)], NOW_MS)
    _apply(store, MemberGone(BOB))
    assert [r.member for r in store.peers.all()] == [ALICE]
    assert store.messages.counts()["peer"] == 1


def test_a_revoked_keys_record_goes(store: Store) -> None:
    alice = peer("alice")
    store.messages.add_many([(alice, ALICE), (peer("bob"), BOB)], NOW_MS)
    _apply(store, KeyRevoked(alice.author))
    assert [r.member for r in store.peers.all()] == [BOB]


def test_an_erase_takes_the_authors_record(store: Store) -> None:
    store.messages.add_many([(peer("alice"), ALICE), (peer("bob"), BOB)], NOW_MS)
    store.messages.add(decode(envelope("alice", Kind.ERASE, EraseBody(NOW_MS), NOW_MS + 1)), ALICE, NOW_MS)
    assert [r.member for r in store.peers.all()] == [BOB]
    assert store.messages.counts()["peer"] == 1
