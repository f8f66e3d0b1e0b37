"""Full-text search over the posts this node can show, with SQLite's FTS5.

Only plaintext posts are indexed (the general room and open rooms); a private room's posts are
sealed on disk and their plaintext is never written anywhere, so search does not reach them.
A post is indexed as it is stored. Whenever content leaves the store (a delete, an erase, a
hide), the commit that removes it also takes every no-longer-visible post out of the index and
merges the index's segments (FTS5 ``optimize``), so the removed words leave its shadow tables
too: FTS5 of SQLite 3.40 keeps deleted entries in old segments until they are merged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.core.types import Kind

if TYPE_CHECKING:
    from node.store.db import Database

#: Marks around the matching words of a snippet (characters no post needs).
MARK_START, MARK_END = "⟦", "⟧"


@dataclass(frozen=True)
class Hit:
    id: bytes
    author: str
    room: str
    timestamp_ms: int
    text: str
    snippet: str


def index_post(conn: sqlite3.Connection, message_id: bytes, text: str, doc: int | None = None) -> int:
    """Indexes a post just stored (called in its transaction) and returns its document number.
    A batch passes ``doc``, the number after the one it used last, and saves a query per post."""
    return index_posts(conn, [(message_id, text)], doc)


def index_posts(conn: sqlite3.Connection, posts: Sequence[tuple[bytes, str]], doc: int | None = None) -> int:
    """Indexes posts just stored, (id, text) each, in two statements, numbered from ``doc`` on
    (None: after the last one indexed); returns the last number used. ``posts`` is not empty."""
    if doc is None:
        doc = int(conn.execute("SELECT coalesce(max(doc), 0) + 1 FROM search_ids").fetchone()[0])
    conn.executemany("INSERT INTO search_ids (id, doc) VALUES (?, ?)", [(i, doc + n) for n, (i, _) in enumerate(posts)])
    conn.executemany("INSERT INTO search (rowid, text) VALUES (?, ?)", [(doc + n, t) for n, (_, t) in enumerate(posts)])
    return doc + len(posts) - 1


def reconcile(conn: sqlite3.Connection) -> None:
    """After content left the store: the index holds exactly the visible plaintext posts again,
    with nothing of the others left in its segments."""
    gone = [
        int(r[0])
        for r in conn.execute(
            "SELECT s.doc FROM search_ids s LEFT JOIN messages m ON m.id = s.id WHERE m.id IS NULL OR m.hidden = 1"
        )
    ]
    for doc in gone:
        conn.execute("DELETE FROM search WHERE rowid = ?", (doc,))
        conn.execute("DELETE FROM search_ids WHERE doc = ?", (doc,))
    back = conn.execute(
        "SELECT id, text FROM messages WHERE kind = ? AND hidden = 0 AND text IS NOT NULL"
        " AND id NOT IN (SELECT id FROM search_ids)",
        (int(Kind.POST),),
    ).fetchall()
    for message_id, text in back:  # unhidden by the community (or after a reorganisation)
        index_post(conn, bytes(message_id), str(text))
    if gone:
        conn.execute("INSERT INTO search (search) VALUES ('optimize')")


def fts_query(words: str) -> str:
    """The member's words as an FTS5 query: every word must appear (as a word or its start);
    quotes, operators and column filters in the words are taken literally."""
    terms = ['"' + word.replace('"', '""') + '"*' for word in words.split()]
    return " ".join(terms)


class Search:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(
        self, words: str, *, room: str | None = None, author: str | None = None, since_ms: int = 0, limit: int = 20
    ) -> list[Hit]:
        """Visible posts holding every one of ``words``, best match first (BM25)."""
        query = fts_query(words)
        if not query:
            return []
        rows = self._db.conn.execute(
            "SELECT m.id, m.author, m.room, m.timestamp_ms, m.text, snippet(search, 0, ?, ?, '…', 12)"
            " FROM search JOIN search_ids s ON s.doc = search.rowid JOIN messages m ON m.id = s.id"
            " WHERE search MATCH ? AND m.hidden = 0 AND (? IS NULL OR m.room = ?) AND (? IS NULL OR m.author = ?)"
            " AND m.timestamp_ms >= ? ORDER BY rank LIMIT ?",
            (MARK_START, MARK_END, query, room, room, author, author, since_ms, limit),
        )
        return [Hit(bytes(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), str(r[5])) for r in rows]
