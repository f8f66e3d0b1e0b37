"""Search in the store, on a real file: ranked hits with marked snippets and filters, and a
delete, an erase or a hide that takes the words out of the index's shadow tables too."""

from __future__ import annotations

import sqlite3

from node.core.encoding import decode
from node.core.facts import LogPosition, PostHidden, PostUnhidden
from node.core.types import DeleteBody, EraseBody, Kind, Message, PostBody
from node.store import Store
from node.store.chain import ChainBatch, ChainEntry, Cursor
from tests.unit.node.core.helpers import COMMUNITY, NOW_MS, T0, address, envelope, signer, view_with

ALICE, BOB = address("alice"), address("bob")
ROOM = "ab" * 32


def post(name: str, text: str, ts: int = NOW_MS, room: str = "") -> Message:
    return decode(signer(name).envelope(COMMUNITY, Kind.POST, PostBody(text), ts, room))


def raw(store: Store) -> bytes:
    return b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))


def shadow_tables(store: Store) -> bytes:
    """Every byte of the FTS5 index's shadow tables, read through a second connection."""
    with sqlite3.connect(store.path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'search_%'")]
        assert {"search_data", "search_content", "search_idx"} <= set(tables)
        cells = [cell for t in tables for row in conn.execute(f"SELECT * FROM {t}") for cell in row]
    return b"".join(c if isinstance(c, bytes) else str(c).encode() for c in cells)


def test_hits_are_ranked_marked_and_filtered(store: Store) -> None:
    many = post("alice", "Ladder, ladder, who lends a ladder for the ladder workshop?", NOW_MS)
    once = post("bob", "I have a ladder", NOW_MS + 1, room=ROOM)
    store.messages.add_many([(many, ALICE), (once, BOB), (post("bob", "Tomatoes", NOW_MS + 2), BOB)], NOW_MS)
    hits = store.search.find("ladder")
    assert [h.id for h in hits] == [many.id, once.id]  # BM25: the post about ladders first
    assert "⟦ladder⟧" in hits[1].snippet
    assert [h.id for h in store.search.find("ladd")] == [many.id, once.id]  # a word's start
    assert [h.id for h in store.search.find("ladder", room=ROOM)] == [once.id]
    assert [h.id for h in store.search.find("ladder", author=ALICE)] == [many.id]
    assert [h.id for h in store.search.find("ladder", since_ms=NOW_MS + 1)] == [once.id]
    assert store.search.find('ladder" OR "tomatoes') == []  # operators are words, not syntax
    assert store.search.find("   ") == []


def test_a_delete_an_erase_and_a_hide_take_the_words_out_of_the_index(store: Store) -> None:
    deleted, erased, hidden = (
        post("alice", "zanzibarquux is my secret word", NOW_MS),
        post("bob", "quokkablue diary", NOW_MS + 1),
        post("alice", "plumbobvine advert", NOW_MS + 2),
    )
    store.messages.add_many([(deleted, ALICE), (erased, BOB), (hidden, ALICE)], NOW_MS)
    for word in (b"zanzibarquux", b"quokkablue", b"plumbobvine"):
        assert word in raw(store)
    store.messages.add(decode(envelope("alice", Kind.DELETE, DeleteBody(deleted.id), NOW_MS + 5)), ALICE, NOW_MS)
    assert store.search.find("zanzibarquux") == []
    assert b"zanzibarquux" not in raw(store)  # not in the table nor in the index's segments
    assert b"quokkablue" in shadow_tables(store)  # (the check sees what is there)
    store.messages.add(decode(envelope("bob", Kind.ERASE, EraseBody(NOW_MS + 6), NOW_MS + 6)), BOB, NOW_MS)
    assert store.search.find("quokkablue") == []
    assert b"quokkablue" not in raw(store)
    view = view_with("alice", "bob")
    at = LogPosition(7, 0, b"\x07" * 32)
    store.chain.apply(view, ChainBatch([ChainEntry(at, T0 + 1000, PostHidden(hidden.id))], Cursor(7, at.block_hash, 0)))
    assert store.search.find("plumbobvine") == []
    assert b"plumbobvine" not in shadow_tables(store)  # a hidden post stays in the store, not in the index
    back = LogPosition(8, 0, b"\x08" * 32)
    unhide = ChainEntry(back, T0 + 1100, PostUnhidden(hidden.id))
    store.chain.apply(view, ChainBatch([unhide], Cursor(8, back.block_hash, 0)))
    assert [h.id for h in store.search.find("plumbobvine")] == [hidden.id]  # unhidden: found again
