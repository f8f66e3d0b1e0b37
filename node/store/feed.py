"""The feed as the API shows it: visible posts with their reply counts, reactions and attachments.

Read-only: everything here is built from what ``node.store.messages`` wrote, so a page always
reflects the last commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from node.core.types import AppKey, Kind, MessageId
from node.store.db import Database


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
    #: The members the post mentions (addresses)
    mentions: list[str] = field(default_factory=list)


class Feed:
    def __init__(self, db: Database) -> None:
        self._db = db

    def page(self, room: str = "", limit: int = 50, before: tuple[int, bytes] | None = None) -> list[FeedItem]:
        """Visible posts (not replies), newest first; ``before`` = (timestamp, id) of the last
        item of the previous page."""
        sql = "SELECT id FROM messages WHERE kind = ? AND room = ? AND parent IS NULL AND hidden = 0"
        params: list[object] = [int(Kind.POST), room]
        if before is not None:
            sql += " AND (timestamp_ms, id) < (?, ?)"
            params += [before[0], before[1]]
        sql += " ORDER BY timestamp_ms DESC, id DESC LIMIT ?"
        params.append(limit)
        ids = [bytes(r[0]) for r in self._db.conn.execute(sql, params)]
        return [item for item in (self.post(i) for i in ids) if item is not None]

    def post(self, message_id: bytes) -> FeedItem | None:
        """One visible post or reply with its reply count and reactions."""
        conn = self._db.conn
        row = conn.execute(
            "SELECT id, author, author_key, timestamp_ms, room, text, parent FROM messages"
            " WHERE id = ? AND kind = ? AND hidden = 0",
            (message_id, int(Kind.POST)),
        ).fetchone()
        if row is None:
            return None
        (replies,) = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE parent = ? AND kind = ? AND hidden = 0", (message_id, int(Kind.POST))
        ).fetchone()
        reactions = {
            str(reaction): int(count)
            for reaction, count in conn.execute(
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
                for h, size, mime, held in conn.execute(
                    "SELECT a.sha256, a.size, a.mime, EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256)"
                    " FROM attachments a WHERE a.message_id = ?",
                    (message_id,),
                )
            ],
            mentions=[
                str(m[0])
                for m in conn.execute("SELECT member FROM mentions WHERE message_id = ? ORDER BY member", (message_id,))
            ],
        )

    def replies(self, message_id: bytes) -> list[FeedItem]:
        """The visible replies to a post, oldest first."""
        ids = [
            bytes(r[0])
            for r in self._db.conn.execute(
                "SELECT id FROM messages WHERE parent = ? AND kind = ? AND hidden = 0 ORDER BY timestamp_ms, id",
                (message_id, int(Kind.POST)),
            )
        ]
        return [item for item in (self.post(i) for i in ids) if item is not None]

    def reacted(self, member: str, targets: Sequence[bytes]) -> dict[bytes, list[str]]:
        """The reactions ``member`` holds on each of ``targets`` (what the page shows as pressed)."""
        found: dict[bytes, list[str]] = {}
        for start in range(0, len(targets), 500):  # SQLite's bound-parameter limit, with room to spare
            chunk = list(targets[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for target, reaction in self._db.conn.execute(
                f"SELECT target, reaction FROM reactions WHERE member = ? AND active = 1 AND target IN ({marks})"  # noqa: S608
                " ORDER BY reaction",
                (member, *chunk),
            ):
                found.setdefault(bytes(target), []).append(str(reaction))
        return found
