"""The SQLite store, on a real file: messages, conflicts, the feed, the chain side."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.core.encoding import decode
from node.core.facts import Fact, LogPosition, MemberGone, PostHidden, PostUnhidden
from node.core.types import DeleteBody, EraseBody, Kind, Message, MessageId, PostBody, ReactionBody
from node.store import Store, StoreError
from node.store.chain import ChainBatch, ChainEntry, Cursor
from node.store.schema import MIGRATIONS
from tests.unit.node.core.helpers import NOW_MS, T0, address, envelope, view_with

ALICE, BOB = address("alice"), address("bob")


def msg(name: str, kind: Kind, body: PostBody | ReactionBody | DeleteBody | EraseBody, ts: int = NOW_MS) -> Message:
    return decode(envelope(name, kind, body, ts))


def test_insert_is_idempotent_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    store = Store.open(path)
    post = msg("alice", Kind.POST, PostBody("hello"))
    assert store.messages.add(post, ALICE, NOW_MS)
    assert not store.messages.add(post, ALICE, NOW_MS)
    store.close()
    again = Store.open(path)
    assert again.messages.has_message(post.id)
    assert again.author_of(post.id) == ALICE
    assert again.messages.envelope(post.id) == post.envelope
    assert again.messages.counts()["post"] == 1
    again.close()


def test_wal_mode_and_schema_version(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this kiez knows"):
        Store.open(path)


def test_feed_is_newest_first_with_pages_replies_and_reactions(store: Store) -> None:
    posts = [msg("alice", Kind.POST, PostBody(f"post {i}"), NOW_MS + i) for i in range(5)]
    store.messages.add_many([(p, ALICE) for p in posts], NOW_MS)
    reply = msg("bob", Kind.POST, PostBody("re", posts[4].id), NOW_MS + 10)
    store.messages.add(reply, BOB, NOW_MS)
    store.messages.add(msg("bob", Kind.REACTION, ReactionBody(posts[4].id, "👍")), BOB, NOW_MS)
    store.messages.add(msg("alice", Kind.REACTION, ReactionBody(posts[4].id, "👍")), ALICE, NOW_MS)
    page = store.feed.page(limit=3)
    assert [p.text for p in page] == ["post 4", "post 3", "post 2"]
    assert (page[0].replies, page[0].reactions) == (1, {"👍": 2})
    rest = store.feed.page(limit=3, before=(page[-1].timestamp_ms, page[-1].id))
    assert [p.text for p in rest] == ["post 1", "post 0"]
    assert [r.text for r in store.feed.replies(posts[4].id)] == ["re"]


def test_reactions_are_last_write_wins(store: Store) -> None:
    target = MessageId(b"\x05" * 32)
    on = msg("bob", Kind.REACTION, ReactionBody(target, "🎉"), NOW_MS)
    off = msg("bob", Kind.REACTION, ReactionBody(target, "🎉", active=False), NOW_MS + 5)
    store.messages.add(off, BOB, NOW_MS)  # the later one arrives first
    store.messages.add(on, BOB, NOW_MS)
    post = msg("alice", Kind.POST, PostBody("x"))
    store.messages.add(post, ALICE, NOW_MS)
    conn = sqlite3.connect(store.path)
    active = conn.execute("SELECT active FROM reactions WHERE target = ?", (target,)).fetchone()[0]
    conn.close()
    assert active == 0


def test_a_delete_purges_the_post_and_keeps_a_tombstone(store: Store) -> None:
    post = msg("alice", Kind.POST, PostBody("oops"))
    store.messages.add(post, ALICE, NOW_MS)
    store.messages.add(msg("alice", Kind.DELETE, DeleteBody(post.id), NOW_MS + 1), ALICE, NOW_MS)
    assert not store.messages.has_message(post.id)
    assert store.messages.tombstone_of(post.id) == ALICE
    assert store.feed.post(post.id) is None
    assert store.messages.counts()["tombstones"] == 1


def test_a_delete_arriving_first_still_wins(store: Store) -> None:
    post = msg("alice", Kind.POST, PostBody("oops"))
    store.messages.add(msg("alice", Kind.DELETE, DeleteBody(post.id), NOW_MS + 1), ALICE, NOW_MS)
    assert store.messages.tombstone_of(post.id) == ALICE  # validation refuses the post from now on


def _batch(facts: list[tuple[LogPosition, Fact, int]], block: int, until_s: int) -> ChainBatch:
    entries = [ChainEntry(at, block_time_s, fact) for at, fact, block_time_s in facts]
    return ChainBatch(entries, Cursor(block, bytes([block]) * 32, until_s * 1000))


def test_chain_effects_and_cursor_commit_together_and_replays_do_nothing(store: Store) -> None:
    post = msg("alice", Kind.POST, PostBody("spam"))
    late = msg("bob", Kind.POST, PostBody("after removal"), (T0 + 2000) * 1000)
    store.messages.add_many([(post, ALICE), (late, BOB)], NOW_MS)
    view = view_with("alice", "bob")
    hide = (LogPosition(7, 0, b"\x07" * 32), PostHidden(post.id), T0 + 1000)
    removal = (LogPosition(7, 1, b"\x07" * 32), MemberGone(BOB), T0 + 1000)
    effects = store.chain.apply(view, _batch([hide, removal], 7, T0 + 1000))
    assert len(effects) == 2
    assert store.messages.is_hidden(post.id)
    assert store.feed.page() == []
    assert not store.messages.has_message(late.id)  # signed after bob's removal: it goes
    assert store.chain.cursor() == Cursor(7, b"\x07" * 32, NOW_MS)  # the view was already complete until NOW
    # the same logs again (a restart that re-reads a range): no effect applied twice
    unhide_replayed = store.chain.apply(view, _batch([hide], 7, T0 + 1000))
    assert unhide_replayed == []
    reloaded = store.chain.load_view()
    assert post.id in reloaded.hidden
    assert not reloaded.is_member(BOB)
    assert reloaded.members[BOB].intervals == [(T0 * 1000, (T0 + 1000) * 1000 + 999)]
    unhide = (LogPosition(8, 0, b"\x08" * 32), PostUnhidden(post.id), T0 + 1100)
    store.chain.apply(view, _batch([unhide], 8, T0 + 1100))
    assert [p.id for p in store.feed.page()] == [post.id]


def test_a_batch_with_a_delete_before_its_post_keeps_the_post_out(store: Store) -> None:
    post = msg("alice", Kind.POST, PostBody("gone"))
    delete = msg("alice", Kind.DELETE, DeleteBody(post.id), NOW_MS + 1)
    known = store.known_among([delete.id, post.id])
    assert store.messages.add_many([(delete, ALICE), (post, ALICE)], NOW_MS, known) == 1
    assert not store.messages.has_message(post.id)
    assert store.messages.tombstone_of(post.id) == ALICE


def _raw_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_deleted_and_erased_text_leaves_the_file(store: Store) -> None:
    secret = "my phone number is 0151 2345 6789"
    post = msg("alice", Kind.POST, PostBody(secret))
    store.messages.add(post, ALICE, NOW_MS)
    assert secret.encode() in _raw_bytes(store.path)
    store.messages.add(msg("alice", Kind.DELETE, DeleteBody(post.id), NOW_MS + 1), ALICE, NOW_MS)
    assert secret.encode() not in _raw_bytes(store.path)  # secure_delete + WAL truncated

    diary = [msg("bob", Kind.POST, PostBody(f"bob's diary, day {i}"), NOW_MS + i) for i in range(50)]
    store.messages.add_many([(d, BOB) for d in diary], NOW_MS)
    size_before = len(_raw_bytes(store.path))
    store.messages.add(msg("bob", Kind.ERASE, EraseBody(NOW_MS + 100), NOW_MS + 100), BOB, NOW_MS)
    assert b"bob's diary" not in _raw_bytes(store.path)
    assert store.messages.counts()["post"] == 0
    assert store.messages.erased_until(BOB) == NOW_MS + 100
    assert len(_raw_bytes(store.path)) < size_before  # pages go back to the file system
    late_copy = diary[3]
    assert not store.messages.add(late_copy, BOB, NOW_MS)  # a copy arriving later never comes back
