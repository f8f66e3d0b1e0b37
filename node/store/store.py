"""``Store``: one SQLite file per node, opened in WAL mode.

Writes are explicit transactions (the connection is in autocommit mode and every change runs in
``BEGIN IMMEDIATE … COMMIT``), so it is always clear what commits together: a message and its
effects (a delete's tombstone and purge, a reaction's last-write-wins state); a batch of chain
events, their effects and the cursor. ``synchronous=FULL`` makes a commit durable before
``add`` returns, which is what lets the API acknowledge a post only once it is on disk.

The store is used from the node's trio thread; each call is short (tens of microseconds), and
SQLite serialises writers itself.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from governance.events import Event, MediaPolicyChanged
from node.core.conflicts import reaction_supersedes
from node.core.encoding import decode
from node.core.rooms import Room, RoomKey
from node.core.types import AppKey, DeleteBody, EraseBody, Kind, Message, MessageId, PollBody, PostBody, ReactionBody
from node.core.view import (
    CommunityView,
    Effect,
    KeyRecord,
    KeyRevokedEffect,
    MediaPolicy,
    MemberGoneEffect,
    MemberRecord,
    PostHiddenEffect,
    PostUnhiddenEffect,
)
from node.store import spaces
from node.store.schema import SchemaError, migrate


class StoreError(Exception):
    """The database cannot be opened or used (path, permissions, corruption, newer schema)."""


@dataclass(frozen=True)
class Cursor:
    """The last block whose events are applied, and how far the view is complete."""

    block_number: int
    block_hash: bytes
    complete_until_ms: int


@dataclass(frozen=True)
class FeedItem:
    id: MessageId
    author: str
    author_key: AppKey
    timestamp_ms: int
    room: str
    text: str
    parent: MessageId | None
    replies: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    #: (sha256, size, mime) of each attachment, and whether this node holds its bytes yet
    attachments: list[tuple[bytes, int, str, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class ChainBatch:
    """Events of consecutive blocks, with each event's block time, ending at ``cursor``."""

    events: Sequence[tuple[Event, int]]
    cursor: Cursor


@dataclass
class BatchKnown:
    """``Known`` for a batch: answers about the batch's own ids from prefetched dicts, and about
    anything else (a delete's target, say) from the store."""

    store: Store
    ids: set[bytes]
    stored: dict[bytes, str]
    tombstones: dict[bytes, str]
    erasures: dict[str, int | None] = field(default_factory=dict)

    def has_message(self, message_id: bytes) -> bool:
        if message_id in self.ids:
            return message_id in self.stored
        return self.store.has_message(message_id)

    def author_of(self, message_id: bytes) -> str | None:
        if message_id in self.ids:
            return self.stored.get(message_id)
        return self.store.author_of(message_id)

    def tombstone_of(self, message_id: bytes) -> str | None:
        if message_id in self.ids:
            return self.tombstones.get(message_id)
        return self.store.tombstone_of(message_id)

    def erased_until(self, member: str) -> int | None:
        if member not in self.erasures:
            self.erasures[member] = self.store.erased_until(member)
        return self.erasures[member]

    def room(self, room_id: str) -> Room | None:
        return self.store.room(room_id)

    def last_post_at(self, member: str, room_id: str) -> int | None:
        return self.store.last_post_at(member, room_id)

    def poll(self, poll_id: bytes) -> PollBody | None:
        return self.store.poll(poll_id)


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._purged = False  # content was erased in the current transaction
        self._erasures: dict[str, int | None] = {}  # erasure per author, cached within add_many

    @classmethod
    def open(cls, path: Path) -> Store:
        """Opens (creating if needed) the database at ``path`` and migrates its schema."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # Erased content must not linger: deleted cells are overwritten with zeros, and the
            # file can give pages back (incremental auto-vacuum, set before the first table).
            conn.execute("PRAGMA secure_delete = ON")
            (vacuum_mode,) = conn.execute("PRAGMA auto_vacuum").fetchone()
            if vacuum_mode != 2:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")  # takes effect on a file that already has tables
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            # Message ids are hashes, so inserts into the id index land on random pages: a 16 MiB
            # page cache (the default is 2 MiB) holds that index for a few hundred thousand posts,
            # without letting the cache dominate the node's memory (bench_memory.py).
            conn.execute("PRAGMA cache_size = -16384")
            migrate(conn)
        except SchemaError as exc:
            raise StoreError(f"{path}: {exc}") from None
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        self._purged = False
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._purged = False
            raise
        if self._purged:
            spaces.forget_unreferenced_blobs(self._conn, int(time.time() * 1000))
        self._conn.execute("COMMIT")
        if self._purged:
            self._reclaim()

    def _reclaim(self) -> None:
        """After erasing content: return its pages to the file system and empty the WAL, where
        old page images would otherwise keep the erased text until the next checkpoint.
        (``secure_delete`` has already overwritten the freed pages with zeros.)"""
        self._purged = False
        self._conn.execute("PRAGMA incremental_vacuum")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------------ what validation asks

    def has_message(self, message_id: bytes) -> bool:
        return self._conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is not None

    def author_of(self, message_id: bytes) -> str | None:
        row = self._conn.execute("SELECT author FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def tombstone_of(self, message_id: bytes) -> str | None:
        row = self._conn.execute("SELECT member FROM tombstones WHERE target = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def erased_until(self, member: str) -> int | None:
        row = self._conn.execute("SELECT until_ms FROM erasures WHERE member = ?", (member,)).fetchone()
        return None if row is None else int(row[0])

    def room(self, room_id: str) -> Room | None:
        return spaces.room(self._conn, room_id)

    def last_post_at(self, member: str, room_id: str) -> int | None:
        return spaces.last_post_at(self._conn, member, room_id)

    def poll(self, poll_id: bytes) -> PollBody | None:
        return spaces.poll(self._conn, poll_id)

    # ------------------------------------------------------------------ rooms, events, polls, blobs

    def rooms(self) -> list[Room]:
        return spaces.rooms(self._conn)

    def room_keys(self, room_id: str) -> list[RoomKey]:
        return spaces.room_keys(self._conn, room_id)

    def xkeys(self) -> dict[str, bytes]:
        return spaces.xkeys(self._conn)

    def events(self, room_id: str | None = None) -> list[spaces.EventView]:
        """Events of one room ('' is the general room; None: every room), newest first."""
        return spaces.events(self._conn, room_id)

    def poll_view(self, poll_id: bytes) -> spaces.PollView | None:
        return spaces.poll_view(self._conn, poll_id)

    def polls(self, room_id: str | None = None) -> list[spaces.PollView]:
        """Polls of one room ('' is the general room; None: every room), newest first."""
        ids = [
            bytes(r[0])
            for r in self._conn.execute(
                "SELECT id FROM messages WHERE kind = ? AND (? IS NULL OR room = ?) AND hidden = 0"
                " ORDER BY timestamp_ms DESC",
                (int(Kind.POLL), room_id, room_id),
            )
        ]
        return [p for p in (self.poll_view(i) for i in ids) if p is not None]

    def follows(self) -> set[str]:
        return {str(r[0]) for r in self._conn.execute("SELECT room FROM follows")}

    def set_follow(self, room_id: str, on: bool) -> None:
        with self._transaction() as conn:
            if on:
                conn.execute("INSERT OR IGNORE INTO follows (room) VALUES (?)", (room_id,))
            else:
                conn.execute("DELETE FROM follows WHERE room = ?", (room_id,))

    def room_of(self, message_id: bytes) -> str | None:
        row = self._conn.execute("SELECT room FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def messages_in_room(self, room_id: str, kind: Kind, limit: int) -> list[Message]:
        """The newest ``limit`` messages of ``kind`` in a room, decoded, newest first."""
        rows = self._conn.execute(
            "SELECT envelope FROM messages WHERE room = ? AND kind = ? AND hidden = 0"
            " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
            (room_id, int(kind), limit),
        )
        return [decode(bytes(r[0])) for r in rows]

    def left_members(self, room_id: str, since_ms: int) -> set[str]:
        """Members who left a private room after ``since_ms`` (a LEAVE message there)."""
        rows = self._conn.execute(
            "SELECT DISTINCT author FROM messages WHERE kind = ? AND room = ? AND timestamp_ms > ?",
            (int(Kind.LEAVE), room_id, since_ms),
        )
        return {str(r[0]) for r in rows}

    def missing_blobs(self) -> list[tuple[bytes, int, str]]:
        return spaces.missing_blobs(self._conn)

    def blob(self, sha256: bytes) -> tuple[str, bytes] | None:
        row = self._conn.execute("SELECT mime, data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def put_blob(self, sha256: bytes, mime: str, data: bytes, keep_until_ms: int = 0) -> None:
        """Stores an attachment's bytes (the caller has checked they hash to ``sha256``).
        ``keep_until_ms`` keeps an upload until then even if no post names it yet."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO blobs (sha256, mime, data, keep_until_ms) VALUES (?,?,?,?)"
                " ON CONFLICT (sha256) DO UPDATE SET keep_until_ms = max(keep_until_ms, excluded.keep_until_ms)",
                (sha256, mime, data, keep_until_ms),
            )

    def known_among(self, ids: Sequence[bytes]) -> BatchKnown:
        """What validation needs to know about ``ids``, fetched in two queries (for batches)."""
        stored: dict[bytes, str] = {}
        tombs: dict[bytes, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, author FROM messages WHERE id IN ({marks})"  # noqa: S608 - placeholders only
            stored.update((bytes(i), str(a)) for i, a in self._conn.execute(query, chunk))
            query = f"SELECT target, member FROM tombstones WHERE target IN ({marks})"  # noqa: S608
            tombs.update((bytes(t), str(m)) for t, m in self._conn.execute(query, chunk))
        return BatchKnown(self, set(ids), stored, tombs)

    # ------------------------------------------------------------------ messages

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
        batch = list(items)
        unchecked: set[bytes] = set()
        if known is not None:
            # ids known to have no tombstone: neither before the batch nor from a delete in it
            deleted_here = {m.body.target for m, _ in batch if isinstance(m.body, DeleteBody)}
            unchecked = known.ids - set(known.tombstones) - deleted_here
        added = 0
        if not durable:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        try:
            added = self._add_batch(batch, received_ms, unchecked)
        finally:
            if not durable:
                self._conn.execute("PRAGMA synchronous = FULL")
        return added

    def _add_batch(self, batch: list[tuple[Message, str]], received_ms: int, unchecked: set[bytes]) -> int:
        added = 0
        with self._transaction() as conn:
            # one lookup per author and batch (a sync batch is thousands of one member's posts)
            erasing = any(isinstance(m.body, EraseBody) for m, _ in batch)
            self._erasures = {} if erasing else {a: self._erased_until(conn, a) for a in {a for _, a in batch}}
            try:
                for message, author in batch:
                    added += self._insert(conn, message, author, received_ms, message.id in unchecked)
            finally:
                self._erasures = {}
        return added

    def _insert(
        self,
        conn: sqlite3.Connection,
        message: Message,
        author: str,
        received_ms: int,
        no_tombstone: bool = False,
    ) -> int:
        body = message.body
        parent = body.parent if isinstance(body, PostBody) else None
        target = body.target if isinstance(body, ReactionBody | DeleteBody) else None
        cursor = conn.execute(
            "INSERT OR IGNORE INTO messages (id, kind, author_key, author, room, timestamp_ms, parent, target,"
            " text, reaction, active, envelope, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                message.id,
                int(message.kind),
                message.author,
                author,
                message.room,
                message.timestamp_ms,
                parent,
                target,
                body.text if isinstance(body, PostBody) else None,
                body.reaction if isinstance(body, ReactionBody) else None,
                int(body.active) if isinstance(body, ReactionBody) else None,
                message.envelope,
                received_ms,
            ),
        )
        if cursor.rowcount == 0:
            return 0
        if not no_tombstone and not isinstance(body, DeleteBody) and self._deleted_by(conn, message.id) == author:
            # A delete beats its post forever, whatever order a batch brings them in.
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))
            return 0
        erased = self._erasures[author] if author in self._erasures else self._erased_until(conn, author)
        if erased is not None and message.timestamp_ms <= erased and not isinstance(body, EraseBody):
            conn.execute("DELETE FROM messages WHERE id = ?", (message.id,))
            return 0
        spaces.apply(conn, message, author)
        if isinstance(body, DeleteBody):
            self._tombstone(conn, body.target, author, message)
        elif isinstance(body, EraseBody):
            self._erase(conn, author, body.until_ms, message)
        elif isinstance(body, ReactionBody):
            self._react(conn, body, author, message)
        return 1

    def _tombstone(self, conn: sqlite3.Connection, target: bytes, author: str, delete: Message) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO tombstones (target, member, delete_id, timestamp_ms) VALUES (?,?,?,?)",
            (target, author, delete.id, delete.timestamp_ms),
        )
        # A delete beats its post forever: the content goes, the tombstone stays.
        gone = conn.execute("DELETE FROM messages WHERE id = ? AND author = ?", (target, author)).rowcount
        conn.execute("DELETE FROM reactions WHERE message_id = ? AND member = ?", (target, author))
        self._purged = self._purged or gone > 0

    def _react(self, conn: sqlite3.Connection, body: ReactionBody, author: str, message: Message) -> None:
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
        self._purged = True

    @staticmethod
    def _erased_until(conn: sqlite3.Connection, member: str) -> int | None:
        row = conn.execute("SELECT until_ms FROM erasures WHERE member = ?", (member,)).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _deleted_by(conn: sqlite3.Connection, message_id: bytes) -> str | None:
        row = conn.execute("SELECT member FROM tombstones WHERE target = ?", (message_id,)).fetchone()
        return None if row is None else str(row[0])

    def sync_keys_sorted(self) -> Iterator[tuple[int, bytes]]:
        """``sync_keys`` in ascending (timestamp, id) order, streamed from the database (SQLite
        sorts in its own memory and frees it), for building a sync session's item set."""
        for ts, ident in self._conn.execute(
            "SELECT timestamp_ms, id FROM messages WHERE hidden = 0 ORDER BY timestamp_ms, id"
        ):
            yield int(ts), bytes(ident)

    def sync_keys(self) -> list[tuple[int, bytes]]:
        """(timestamp, id) of every message this node offers to sync: all but hidden posts."""
        return [
            (int(ts), bytes(i))
            for ts, i in self._conn.execute("SELECT timestamp_ms, id FROM messages WHERE hidden = 0")
        ]

    def envelopes(self, ids: Sequence[bytes]) -> list[bytes]:
        """The envelopes of the stored messages among ``ids`` (at most 1000 ids per call)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return [bytes(r[0]) for r in self._conn.execute(f"SELECT envelope FROM messages WHERE id IN ({marks})", ids)]  # noqa: S608 - placeholders only

    def envelope(self, message_id: bytes) -> bytes | None:
        row = self._conn.execute("SELECT envelope FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else bytes(row[0])

    # ------------------------------------------------------------------ reading

    def feed(self, room: str = "", limit: int = 50, before: tuple[int, bytes] | None = None) -> list[FeedItem]:
        """Visible posts (not replies), newest first; ``before`` = (timestamp, id) of the last
        item of the previous page."""
        sql = "SELECT id FROM messages WHERE kind = ? AND room = ? AND parent IS NULL AND hidden = 0"
        params: list[object] = [int(Kind.POST), room]
        if before is not None:
            sql += " AND (timestamp_ms, id) < (?, ?)"
            params += [before[0], before[1]]
        sql += " ORDER BY timestamp_ms DESC, id DESC LIMIT ?"
        params.append(limit)
        ids = [bytes(r[0]) for r in self._conn.execute(sql, params)]
        return [item for item in (self.post(i) for i in ids) if item is not None]

    def post(self, message_id: bytes) -> FeedItem | None:
        """One visible post or reply with its reply count and reactions."""
        row = self._conn.execute(
            "SELECT id, author, author_key, timestamp_ms, room, text, parent FROM messages"
            " WHERE id = ? AND kind = ? AND hidden = 0",
            (message_id, int(Kind.POST)),
        ).fetchone()
        if row is None:
            return None
        (replies,) = self._conn.execute(
            "SELECT COUNT(*) FROM messages WHERE parent = ? AND kind = ? AND hidden = 0", (message_id, int(Kind.POST))
        ).fetchone()
        reactions = {
            str(reaction): int(count)
            for reaction, count in self._conn.execute(
                "SELECT reaction, COUNT(*) FROM reactions WHERE target = ? AND active = 1 GROUP BY reaction"
                " ORDER BY COUNT(*) DESC, reaction",
                (message_id,),
            )
        }
        return FeedItem(
            id=MessageId(bytes(row[0])),
            author=str(row[1]),
            author_key=AppKey(bytes(row[2])),
            timestamp_ms=int(row[3]),
            room=str(row[4]),
            text=str(row[5]),
            parent=MessageId(bytes(row[6])) if row[6] is not None else None,
            replies=int(replies),
            reactions=reactions,
            attachments=[
                (bytes(h), int(size), str(mime), bool(held))
                for h, size, mime, held in self._conn.execute(
                    "SELECT a.sha256, a.size, a.mime, EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256)"
                    " FROM attachments a WHERE a.message_id = ?",
                    (message_id,),
                )
            ],
        )

    def replies(self, message_id: bytes) -> list[FeedItem]:
        ids = [
            bytes(r[0])
            for r in self._conn.execute(
                "SELECT id FROM messages WHERE parent = ? AND kind = ? AND hidden = 0 ORDER BY timestamp_ms, id",
                (message_id, int(Kind.POST)),
            )
        ]
        return [item for item in (self.post(i) for i in ids) if item is not None]

    def counts(self) -> dict[str, int]:
        """How many messages of each kind are stored, hidden posts, and tombstones."""
        out = {kind.label: 0 for kind in Kind}
        for kind, count in self._conn.execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind"):
            out[Kind(kind).label] = int(count)
        out["hidden"] = int(self._conn.execute("SELECT COUNT(*) FROM messages WHERE hidden = 1").fetchone()[0])
        out["tombstones"] = int(self._conn.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0])
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
            for row in self._conn.execute(
                f"SELECT {columns} FROM messages WHERE author = ? ORDER BY timestamp_ms, id",  # noqa: S608
                (member,),
            )
        ]
        tombstones = [
            {"target": bytes(t).hex(), "delete_id": bytes(d).hex(), "timestamp_ms": ts}
            for t, d, ts in self._conn.execute(
                "SELECT target, delete_id, timestamp_ms FROM tombstones WHERE member = ?", (member,)
            )
        ]
        return {"messages": messages, "tombstones": tombstones, "erased_until_ms": self.erased_until(member)}

    def is_hidden(self, message_id: bytes) -> bool:
        row = self._conn.execute("SELECT hidden FROM messages WHERE id = ?", (message_id,)).fetchone()
        return row is not None and bool(row[0])

    # ------------------------------------------------------------------ the chain side

    def cursor(self) -> Cursor | None:
        row = self._conn.execute(
            "SELECT block_number, block_hash, complete_until_ms FROM chain_cursor WHERE id = 1"
        ).fetchone()
        return None if row is None else Cursor(int(row[0]), bytes(row[1]), int(row[2]))

    def load_view(self) -> CommunityView:
        """The community view as last committed."""
        view = CommunityView()
        for address, start, end in self._conn.execute(
            "SELECT address, start_ms, end_ms FROM members ORDER BY address, start_ms"
        ):
            view.members.setdefault(address, MemberRecord(address)).intervals.append((start, end))
        for key, owner, added, revoked in self._conn.execute("SELECT key, owner, added_ms, revoked_ms FROM app_keys"):
            view.keys[bytes(key)] = KeyRecord(AppKey(bytes(key)), owner, added, revoked)
        view.hidden.update(bytes(r[0]) for r in self._conn.execute("SELECT post_id FROM hidden_posts"))
        cursor = self.cursor()
        view.media = [
            (int(start), MediaPolicy(int(count), int(size)))
            for start, count, size in self._conn.execute(
                "SELECT from_ms, max_attachments, max_attachment_bytes FROM media_policies ORDER BY from_ms, seq"
            )
        ]
        view.chain_time_ms = cursor.complete_until_ms if cursor else 0
        return view

    def reset_chain(self, view: CommunityView) -> None:
        """Forgets everything learned from the chain (after a reorganisation): the view, the
        applied logs, the cursor and every hide; ``view`` is emptied in place. Messages stay."""
        with self._transaction() as conn:
            for table in ("members", "app_keys", "hidden_posts", "media_policies", "applied_logs", "chain_cursor"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("UPDATE messages SET hidden = 0 WHERE hidden = 1")
        view.members.clear()
        view.keys.clear()
        view.hidden.clear()
        view.media.clear()
        view.chain_time_ms = 0

    def apply_chain(self, view: CommunityView, batch: ChainBatch) -> list[Effect]:
        """Applies chain events not applied before (keyed by block hash and log index), enforces
        their effects and moves the cursor, all in one transaction. ``view`` is updated in place
        only if the transaction commits; on failure reload it with ``load_view``."""
        effects: list[Effect] = []
        with self._transaction() as conn:
            for event, block_time in batch.events:
                ref = event.log
                seen = conn.execute(
                    "INSERT OR IGNORE INTO applied_logs (block_hash, log_index, block_number) VALUES (?,?,?)",
                    (ref.block_hash, ref.log_index, ref.block_number),
                )
                if seen.rowcount == 0:
                    continue  # applied before: idempotent
                for effect in view.apply(event, block_time):
                    effects.append(effect)
                    self._enforce(conn, view, effect)
                self._persist(conn, view, event)
            view.advance(batch.cursor.complete_until_ms)
            conn.execute(
                "INSERT OR REPLACE INTO chain_cursor (id, block_number, block_hash, complete_until_ms)"
                " VALUES (1, ?, ?, ?)",
                (batch.cursor.block_number, batch.cursor.block_hash, view.chain_time_ms),
            )
        return effects

    def _persist(self, conn: sqlite3.Connection, view: CommunityView, event: Event) -> None:
        if isinstance(event, MediaPolicyChanged) and view.media:
            start, policy = view.media[-1]
            conn.execute(
                "INSERT INTO media_policies (from_ms, seq, max_attachments, max_attachment_bytes)"
                " VALUES (?, (SELECT COUNT(*) FROM media_policies), ?, ?)",
                (start, policy.max_attachments, policy.max_attachment_bytes),
            )
        member = getattr(event, "member", None)
        if isinstance(member, str) and member in view.members:
            conn.execute("DELETE FROM members WHERE address = ?", (member,))
            conn.executemany(
                "INSERT INTO members (address, start_ms, end_ms) VALUES (?,?,?)",
                [(member, s, e) for s, e in view.members[member].intervals],
            )
        key = getattr(event, "key", None)
        if isinstance(key, bytes) and key in view.keys:
            record = view.keys[key]
            conn.execute(
                "INSERT OR REPLACE INTO app_keys (key, owner, added_ms, revoked_ms) VALUES (?,?,?,?)",
                (key, record.owner, record.added_ms, record.revoked_ms),
            )

    def _enforce(self, conn: sqlite3.Connection, view: CommunityView, effect: Effect) -> None:
        if isinstance(effect, PostHiddenEffect):
            conn.execute("INSERT OR IGNORE INTO hidden_posts (post_id) VALUES (?)", (effect.post_id,))
            conn.execute("UPDATE messages SET hidden = 1 WHERE id = ?", (effect.post_id,))
            self._purged = True  # its attachments may go with it
        elif isinstance(effect, PostUnhiddenEffect):
            conn.execute("DELETE FROM hidden_posts WHERE post_id = ?", (effect.post_id,))
            conn.execute("UPDATE messages SET hidden = 0 WHERE id = ?", (effect.post_id,))
        elif isinstance(effect, MemberGoneEffect):
            # Messages accepted before we learned of the removal, but signed after it, go.
            record = view.members.get(effect.member)
            end = record.intervals[-1][1] if record and record.intervals else None
            if end is not None:
                gone = conn.execute(
                    "DELETE FROM messages WHERE author = ? AND timestamp_ms >= ?", (effect.member, end)
                ).rowcount
                self._purged = self._purged or gone > 0
        elif isinstance(effect, KeyRevokedEffect):
            key = view.keys.get(effect.key)
            if key is not None and key.revoked_ms is not None:
                gone = conn.execute(
                    "DELETE FROM messages WHERE author_key = ? AND timestamp_ms >= ?", (effect.key, key.revoked_ms)
                ).rowcount
                self._purged = self._purged or gone > 0
