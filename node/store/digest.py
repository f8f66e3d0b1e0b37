"""What happened in the community since a moment, for a member catching up (``kiez digest``).

Read from what the node holds, in plaintext rooms (a private room's posts are sealed on disk and
are not summarised): the threads with the most replies, the posts that reached the most members
(distinct people who reacted or replied, the author not counted), upcoming events, open
proposals by closing time, polls, and who joined.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.core.types import Kind

if TYPE_CHECKING:
    from node.store.db import Database
    from node.store.rooms import EventView, PollView, Rooms

#: How far ahead the digest looks for events, and how many of each list it shows.
UPCOMING_MS = 7 * 24 * 3600 * 1000
TOP = 5


@dataclass(frozen=True)
class PostLine:
    id: bytes
    author: str
    room: str
    text: str
    timestamp_ms: int
    #: Replies since the moment (threads), or distinct members reached (reach).
    count: int
    people: int


@dataclass(frozen=True)
class ProposalLine:
    number: int
    kind: str
    proposer: str
    description: str
    vote_end_ms: int
    votes: int


@dataclass(frozen=True)
class Digest:
    since_ms: int
    until_ms: int
    posts: int
    writers: int
    threads: list[PostLine]
    reach: list[PostLine]
    events: list[EventView]
    proposals: list[ProposalLine]
    polls: list[PollView]
    joined: list[tuple[str, int]]  # (member, joined at ms)


class Digests:
    def __init__(self, db: Database, rooms: Rooms) -> None:
        self._db = db
        self._rooms = rooms

    def since(self, since_ms: int, now_ms: int) -> Digest:
        conn = self._db.conn
        posts, writers = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT author) FROM messages WHERE kind = ? AND hidden = 0 AND timestamp_ms >= ?",
            (int(Kind.POST), since_ms),
        ).fetchone()
        events = [
            e for e in self._rooms.events() if e.body.ends_ms >= now_ms and e.body.starts_ms <= now_ms + UPCOMING_MS
        ]
        events.sort(key=lambda e: e.body.starts_ms)
        polls = [p for p in self._rooms.polls() if p.body.closes_ms > now_ms or _posted_since(conn, p.id, since_ms)]
        return Digest(
            since_ms,
            now_ms,
            int(posts),
            int(writers),
            _threads(conn, since_ms),
            _reach(conn, since_ms),
            events[:TOP],
            _open_proposals(conn, now_ms),
            polls[:TOP],
            [
                (str(m), int(at))
                for m, at in conn.execute(
                    "SELECT address, start_ms FROM members WHERE start_ms >= ? ORDER BY start_ms", (since_ms,)
                )
            ],
        )


def _posted_since(conn: sqlite3.Connection, message_id: bytes, since_ms: int) -> bool:
    row = conn.execute("SELECT timestamp_ms FROM messages WHERE id = ?", (message_id,)).fetchone()
    return row is not None and int(row[0]) >= since_ms


def _threads(conn: sqlite3.Connection, since_ms: int) -> list[PostLine]:
    rows = conn.execute(
        "SELECT p.id, p.author, p.room, p.text, p.timestamp_ms, COUNT(r.id), COUNT(DISTINCT r.author)"
        " FROM messages r JOIN messages p ON p.id = r.parent"
        " WHERE r.kind = ? AND r.hidden = 0 AND r.timestamp_ms >= ? AND p.kind = ? AND p.hidden = 0"
        " GROUP BY p.id ORDER BY COUNT(r.id) DESC, COUNT(DISTINCT r.author) DESC, p.timestamp_ms DESC LIMIT ?",
        (int(Kind.POST), since_ms, int(Kind.POST), TOP),
    )
    return [PostLine(bytes(i), str(a), str(room), str(t), int(ts), int(n), int(k)) for i, a, room, t, ts, n, k in rows]


def _reach(conn: sqlite3.Connection, since_ms: int) -> list[PostLine]:
    """Posts written since ``since_ms`` by how many other members reacted to or answered them."""
    rows = conn.execute(
        "WITH touched (post, who) AS ("
        "  SELECT target, member FROM reactions WHERE active = 1"
        "  UNION SELECT parent, author FROM messages WHERE kind = ? AND parent IS NOT NULL AND hidden = 0)"
        " SELECT p.id, p.author, p.room, p.text, p.timestamp_ms, COUNT(DISTINCT t.who)"
        " FROM messages p JOIN touched t ON t.post = p.id"
        " WHERE p.kind = ? AND p.hidden = 0 AND p.timestamp_ms >= ? AND t.who != p.author"
        " GROUP BY p.id ORDER BY COUNT(DISTINCT t.who) DESC, p.timestamp_ms DESC LIMIT ?",
        (int(Kind.POST), int(Kind.POST), since_ms, TOP),
    )
    return [PostLine(bytes(i), str(a), str(room), str(t), int(ts), int(n), int(n)) for i, a, room, t, ts, n in rows]


def _open_proposals(conn: sqlite3.Connection, now_ms: int) -> list[ProposalLine]:
    rows = conn.execute(
        "SELECT p.number, p.kind, p.proposer, p.description, p.vote_end_ms,"
        " (SELECT COUNT(*) FROM proposal_votes v WHERE v.proposal_id = p.id)"
        " FROM proposals p WHERE p.executed = 0 AND p.vote_end_ms > ? ORDER BY p.vote_end_ms LIMIT ?",
        (now_ms, TOP),
    )
    return [ProposalLine(int(n), str(k), str(p), str(d), int(end), int(v)) for n, k, p, d, end, v in rows]
