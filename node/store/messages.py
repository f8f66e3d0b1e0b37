"""Messages and what they do to each other: tombstones, reactions, erasures.

An accepted message commits together with its effects (a delete's tombstone and purge, a
reaction's last-write-wins state, an erasure's sweep, the room state it changes), so a restart
never finds half of them. Reading for the feed is ``node.store.feed``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from node.core.conflicts import reaction_supersedes
from node.core.types import DeleteBody, EraseBody, Kind, Message, PeerBody, PostBody, ProfileBody, ReactionBody
from node.store.db import Database
from node.store.guests import GuestPasses, GuestsKnown
from node.store.peers import PeerRecords, forget_erased
from node.store.profiles import Profiles, forget_erased_profile
from node.store.rooms import Rooms, RoomsKnown
from node.store.search import index_post, index_posts

#: An accepted message and its author, as the store takes it.
Item = tuple[Message, str]


@dataclass
class BatchKnown(RoomsKnown, GuestsKnown):
    """``Known`` for a batch: answers about the batch's own ids from prefetched dicts, and about
    anything else (a delete's target, say) from the store."""

    messages: Messages
    rooms: Rooms
    guests: GuestPasses
    ids: set[bytes]
    stored: dict[bytes, str]
    tombstones: dict[bytes, str]
    erasures: dict[str, int | None] = field(default_factory=dict)

    def absorb(self, other: BatchKnown) -> BatchKnown:
        """This and ``other`` as one (a batch fetched in slices); returns self."""
        self.ids |= other.ids
        self.stored |= other.stored
        self.tombstones |= other.tombstones
        return self

    def has_message(self, message_id: bytes) -> bool:
        if message_id in self.ids:
            return message_id in self.stored
        return self.messages.has_message(message_id)

    def author_of(self, message_id: bytes) -> str | None:
        if message_id in self.ids:
            return self.stored.get(message_id)
        return self.messages.author_of(message_id)

    def tombstone_of(self, message_id: bytes) -> str | None:
        if message_id in self.ids:
            return self.tombstones.get(message_id)
        return self.messages.tombstone_of(message_id)

    def erased_until(self, member: str) -> int | None:
        if member not in self.erasures:
            self.erasures[member] = self.messages.erased_until(member)
        return self.erasures[member]


class Messages:
    def __init__(self, db: Database, rooms: Rooms, peers: PeerRecords, profiles: Profiles, guests: GuestPasses) -> None:
        self._db = db
        self._rooms = rooms
        self._guests = guests
        self._peers = peers
        self._profiles = profiles
        # within a transaction of ``writing``: erasures per author (none cached once one is among
        # the messages), the targets of its deletes, the search index's last document number
        self._erasures: dict[str, int | None] = {}
        self._erasing = False
        self._deleted: set[bytes] = set()
        self._last_doc: int | None = None

    # ------------------------------------------------------------------ what validation asks

    def has_message(self, message_id: bytes) -> bool:
        return self._db.conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is not None

    def author_of(self, message_id: bytes) -> str | None:
        row = self._db.conn.execute("SELECT author FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def tombstone_of(self, message_id: bytes) -> str | None:
        return _deleted_by(self._db.conn, message_id)

    def erased_until(self, member: str) -> int | None:
        return _erased_until(self._db.conn, member)

    def known_among(self, ids: Sequence[bytes]) -> BatchKnown:
        """What validation needs to know about ``ids``, fetched in two queries (for batches)."""
        stored: dict[bytes, str] = {}
        tombs: dict[bytes, str] = {}
        conn = self._db.conn
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, author FROM messages WHERE id IN ({marks})"  # noqa: S608 - placeholders only
            stored.update((bytes(i), str(a)) for i, a in conn.execute(query, chunk))
            query = f"SELECT target, member FROM tombstones WHERE target IN ({marks})"  # noqa: S608
            tombs.update((bytes(t), str(m)) for t, m in conn.execute(query, chunk))
        return BatchKnown(self, self._rooms, self._guests, set(ids), stored, tombs)

    # ------------------------------------------------------------------ writing

    def add(self, message: Message, author: str, received_ms: int, durable: bool = True) -> bool:
        """Stores an accepted message with its effects; False if it was already there.
        ``durable=False`` as for ``add_many``."""
        return self.add_many([(message, author)], received_ms, durable=durable) == 1

    def add_many(
        self,
        items: Iterable[tuple[Message, str]],
        received_ms: int,
        known: BatchKnown | None = None,
        durable: bool = True,
    ) -> int:
        """Stores accepted messages in one transaction; returns how many were new. ``known``, if
        given, is what the store held about these ids before (saves a lookup per message).
        ``durable=False`` (for synced batches) skips the fsync of the commit: the batch survives a
        crashed process but maybe not a power cut, after which sync simply fetches it again."""
        with self.writing(received_ms, durable) as add:
            return add(list(items), known)

    @contextmanager
    def writing(
        self, received_ms: int, durable: bool = True
    ) -> Iterator[Callable[[list[Item], BatchKnown | None], int]]:
        """``add_many`` in parts, all in one transaction: yields a function that stores a part
        (with what the store held about its ids before the transaction, if known) and returns how
        many were new, so a batch's first part is stored while later ones are still checked."""
        with self._db.relaxed(not durable), self._db.transaction() as conn:
            self._erasures, self._erasing, self._deleted, self._last_doc = {}, False, set(), None
            try:
                yield lambda part, known: self._add_part(conn, part, received_ms, known)
            finally:
                self._erasures, self._erasing, self._deleted, self._last_doc = {}, False, set(), None

    def _add_part(self, conn: sqlite3.Connection, part: list[Item], received_ms: int, known: BatchKnown | None) -> int:
        # ids known to have no tombstone: neither before the transaction nor from a delete in it
        self._deleted |= {m.body.target for m, _ in part if isinstance(m.body, DeleteBody)}
        unchecked = known.ids - set(known.tombstones) - self._deleted if known is not None else set()
        # one lookup per author and transaction (a sync batch is thousands of one member's posts),
        # none cached once an erasure is among them
        self._erasing = self._erasing or any(isinstance(m.body, EraseBody) for m, _ in part)
        if self._erasing:
            self._erasures = {}
        else:
            self._erasures |= {a: _erased_until(conn, a) for a in {a for _, a in part} - set(self._erasures)}
        added = 0
        plain: list[Item] = []  # a run of posts stored a statement per table
        for message, author in part:
            if isinstance(message.body, PostBody) and message.id in unchecked and author in self._erasures:
                plain.append((message, author))
                continue
            added += self._insert_posts(conn, plain, received_ms)
            plain = []
            added += self._insert(conn, message, author, received_ms, message.id in unchecked)
        return added + self._insert_posts(conn, plain, received_ms)

    def _insert_posts(self, conn: sqlite3.Connection, posts: list[tuple[Message, str]], received_ms: int) -> int:
        """Stores posts that no tombstone names, of authors whose erasure (if any) is cached, as
        ``_insert`` would one by one, but with one statement per table: for sync, that brings
        posts by the thousand. A post already stored sends the run the one-by-one way."""
        posts = [(m, a) for m, a in posts if not _erased(self._erasures[a], m)]
        if not posts:
            return 0
        conn.execute("SAVEPOINT posts")
        stored = conn.executemany(_INSERT, [_row(m, a, received_ms) for m, a in posts]).rowcount
        if stored != len(posts):  # a copy stored already (twice in one batch, say)
            conn.execute("ROLLBACK TO posts")
            conn.execute("RELEASE posts")
            return sum(self._insert(conn, m, a, received_ms, no_tombstone=True) for m, a in posts)
        conn.execute("RELEASE posts")
        self._rooms.apply_posts(conn, posts)
        texts = [(m.id, m.body.text) for m, _ in posts if isinstance(m.body, PostBody)]
        self._last_doc = index_posts(conn, texts, self._last_doc and self._last_doc + 1)
        _mention(conn, [m for m, _ in posts])
        return len(posts)

    def _insert(
        self,
        conn: sqlite3.Connection,
        message: Message,
        author: str,
        received_ms: int,
        no_tombstone: bool = False,
    ) -> int:
        body = message.body
        cursor = conn.execute(_INSERT, _row(message, author, received_ms))
        if cursor.rowcount == 0:
            return 0
        if not no_tombstone and not isinstance(body, DeleteBody) and _deleted_by(conn, message.id) == author:
            # A delete beats its post forever, whatever order a batch brings them in.
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))
            return 0
        erased = self._erasures[author] if author in self._erasures else _erased_until(conn, author)
        if _erased(erased, message):
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))
            return 0
        if isinstance(body, PeerBody) and not self._peers.apply(conn, message, author):
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))  # an older record of its key
            return 0
        if isinstance(body, ProfileBody) and not self._profiles.apply(conn, message, author):
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))  # an older profile of its member
            return 0
        self._rooms.apply(conn, message, author)
        self._guests.apply(conn, message, author)
        if isinstance(body, PostBody):
            self._last_doc = index_post(conn, message.id, body.text, self._last_doc and self._last_doc + 1)
            _mention(conn, [message])
        if isinstance(body, DeleteBody):
            self._tombstone(conn, body.target, author, message)
        elif isinstance(body, EraseBody):
            self._erase(conn, author, body.until_ms, message)
        elif isinstance(body, ReactionBody):
            _react(conn, body, author, message)
        return 1

    def _tombstone(self, conn: sqlite3.Connection, target: bytes, author: str, delete: Message) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO tombstones (target, member, delete_id, timestamp_ms) VALUES (?,?,?,?)",
            (target, author, delete.id, delete.timestamp_ms),
        )
        # A delete beats its post forever: the content goes, the tombstone stays.
        gone = conn.execute("DELETE FROM messages WHERE id = ? AND author = ?", (target, author)).rowcount
        conn.execute("DELETE FROM reactions WHERE message_id = ? AND member = ?", (target, author))
        if gone > 0:
            self._db.purged()

    def _erase(self, conn: sqlite3.Connection, author: str, until_ms: int, erase: Message) -> None:
        conn.execute(
            "INSERT INTO erasures (member, until_ms, erase_id) VALUES (?,?,?)"
            " ON CONFLICT (member) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms),"
            " erase_id = CASE WHEN excluded.until_ms > until_ms THEN excluded.erase_id ELSE erase_id END",
            (author, until_ms, erase.id),
        )
        conn.execute(
            "DELETE FROM messages WHERE author = ? AND timestamp_ms <= ? AND kind != ?",
            (author, until_ms, int(Kind.ERASE)),
        )
        conn.execute("DELETE FROM reactions WHERE member = ? AND timestamp_ms <= ?", (author, until_ms))
        # the state their messages built goes with them: their X25519 key, answers and RSVPs
        conn.execute("DELETE FROM xkeys WHERE member = ? AND version_ms <= ?", (author, until_ms))
        conn.execute("DELETE FROM answers WHERE member = ? AND version_ms <= ?", (author, until_ms))
        conn.execute("DELETE FROM rsvps WHERE member = ? AND version_ms <= ?", (author, until_ms))
        forget_erased(conn, author, until_ms)  # and where their node was
        forget_erased_profile(conn, author, until_ms)  # and how they presented themself
        self._db.purged()

    # ------------------------------------------------------------------ reading

    def room_of(self, message_id: bytes) -> str | None:
        row = self._db.conn.execute("SELECT room FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def is_hidden(self, message_id: bytes) -> bool:
        row = self._db.conn.execute("SELECT hidden FROM messages WHERE id = ?", (message_id,)).fetchone()
        return row is not None and bool(row[0])

    def sync_keys_sorted(self) -> Iterator[tuple[int, bytes]]:
        """``sync_keys`` in ascending (timestamp, id) order, streamed from the database (SQLite
        sorts in its own memory and frees it), for building a sync session's item set."""
        for ts, ident in self._db.conn.execute(
            "SELECT timestamp_ms, id FROM messages WHERE hidden = 0 ORDER BY timestamp_ms, id"
        ):
            yield int(ts), bytes(ident)

    def sync_keys(self) -> list[tuple[int, bytes]]:
        """(timestamp, id) of every message this node offers to sync: all but hidden posts."""
        return [
            (int(ts), bytes(i))
            for ts, i in self._db.conn.execute("SELECT timestamp_ms, id FROM messages WHERE hidden = 0")
        ]

    def envelopes(self, ids: Sequence[bytes]) -> list[bytes]:
        """The envelopes of the stored messages among ``ids`` (at most 1000 ids per call)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        query = f"SELECT envelope FROM messages WHERE id IN ({marks})"  # noqa: S608 - placeholders only
        return [bytes(r[0]) for r in self._db.conn.execute(query, ids)]

    def envelope(self, message_id: bytes) -> bytes | None:
        row = self._db.conn.execute("SELECT envelope FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def counts(self) -> dict[str, int]:
        """How many messages of each kind are stored, hidden posts, and tombstones."""
        conn = self._db.conn
        out = {kind.label: 0 for kind in Kind}
        for kind, count in conn.execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind"):
            out[Kind(kind).label] = int(count)
        # counted from the few hidden ids: ``WHERE hidden = 1`` alone reads the whole table (every
        # message's row and envelope) on each status request, and fills SQLite's page cache
        (hidden,) = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE id IN (SELECT post_id FROM hidden_posts) AND hidden = 1"
        ).fetchone()
        out["hidden"] = int(hidden)
        out["tombstones"] = int(conn.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0])
        return out

    def export(self, member: str) -> dict[str, object]:
        """Everything this store holds that ``member`` wrote or did, as plain JSON values."""
        columns = "id, kind, room, timestamp_ms, parent, target, text, reaction, active, hidden, received_ms, envelope"
        messages = [
            {
                "id": bytes(row[0]).hex(),
                "kind": Kind(row[1]).label,
                "room": row[2],
                "timestamp_ms": row[3],
                "parent": bytes(row[4]).hex() if row[4] is not None else None,
                "target": bytes(row[5]).hex() if row[5] is not None else None,
                "text": row[6],
                "reaction": row[7],
                "active": None if row[8] is None else bool(row[8]),
                "hidden_by_community": bool(row[9]),
                "received_ms": row[10],
                "envelope": bytes(row[11]).hex(),
            }
            for row in self._db.conn.execute(
                f"SELECT {columns} FROM messages WHERE author = ? ORDER BY timestamp_ms, id",  # noqa: S608
                (member,),
            )
        ]
        tombstones = [
            {"target": bytes(t).hex(), "delete_id": bytes(d).hex(), "timestamp_ms": ts}
            for t, d, ts in self._db.conn.execute(
                "SELECT target, delete_id, timestamp_ms FROM tombstones WHERE member = ?", (member,)
            )
        ]
        return {"messages": messages, "tombstones": tombstones, "erased_until_ms": self.erased_until(member)}


_INSERT = (
    "INSERT OR IGNORE INTO messages (id, kind, author_key, author, room, timestamp_ms, parent, target,"
    " text, reaction, active, envelope, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _row(message: Message, author: str, received_ms: int) -> tuple[object, ...]:
    """The values of ``_INSERT`` for a message."""
    body = message.body
    return (
        message.id,
        int(message.kind),
        message.author,
        author,
        message.room,
        message.timestamp_ms,
        body.parent if isinstance(body, PostBody) else None,
        body.target if isinstance(body, ReactionBody | DeleteBody) else None,
        body.text if isinstance(body, PostBody) else None,
        body.reaction if isinstance(body, ReactionBody) else None,
        int(body.active) if isinstance(body, ReactionBody) else None,
        message.envelope,
        received_ms,
    )


def _erased(until_ms: int | None, message: Message) -> bool:
    """Whether an erasure up to ``until_ms`` (of the message's author) takes the message."""
    return until_ms is not None and message.timestamp_ms <= until_ms and not isinstance(message.body, EraseBody)


def _mention(conn: sqlite3.Connection, posts: list[Message]) -> None:
    """Whom the posts mention (for their notices)."""
    mentions = [(to_checksum_address(m), p.id) for p in posts if isinstance(p.body, PostBody) for m in p.body.mentions]
    if mentions:
        conn.executemany("INSERT OR IGNORE INTO mentions (member, message_id) VALUES (?, ?)", mentions)


def _react(conn: sqlite3.Connection, body: ReactionBody, author: str, message: Message) -> None:
    row = conn.execute(
        "SELECT timestamp_ms, message_id FROM reactions WHERE target = ? AND member = ? AND reaction = ?",
        (body.target, author, body.reaction),
    ).fetchone()
    if row is not None and not reaction_supersedes((message.timestamp_ms, message.id), (row[0], bytes(row[1]))):
        return
    conn.execute(
        "INSERT OR REPLACE INTO reactions (target, member, reaction, active, timestamp_ms, message_id)"
        " VALUES (?,?,?,?,?,?)",
        (body.target, author, body.reaction, int(body.active), message.timestamp_ms, message.id),
    )


def _erased_until(conn: sqlite3.Connection, member: str) -> int | None:
    row = conn.execute("SELECT until_ms FROM erasures WHERE member = ?", (member,)).fetchone()
    return None if row is None else int(row[0])


def _deleted_by(conn: sqlite3.Connection, message_id: bytes) -> str | None:
    row = conn.execute("SELECT member FROM tombstones WHERE target = ?", (message_id,)).fetchone()
    return None if row is None else str(row[0])
