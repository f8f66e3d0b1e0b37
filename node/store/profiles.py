"""Members' profiles (kind PROFILE): the latest per member, unpacked for showing names.

The profile message itself stays in ``messages`` so sync carries it; the one it replaces is
deleted, so a node holds one profile per member. The avatar is listed in ``attachments`` under
the profile's message id, so its bytes are fetched, kept and dropped as a post's are.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from node.core.types import Message, ProfileBody
from node.store.db import Database


@dataclass(frozen=True)
class Profile:
    member: str
    name: str
    bio: str
    #: (sha256, size, mime) of the avatar picture, and whether this node holds its bytes
    avatar: tuple[bytes, int, str, bool] | None
    links: tuple[str, ...]
    timestamp_ms: int
    message_id: bytes


class Profiles:
    def __init__(self, db: Database) -> None:
        self._db = db

    def apply(self, conn: sqlite3.Connection, message: Message, author: str) -> bool:
        """Keeps ``message`` (a PROFILE just inserted into ``messages``) if it is its member's
        newest, deleting the one it replaces; False if it is older (the caller deletes it)."""
        body = message.body
        assert isinstance(body, ProfileBody)
        row = conn.execute("SELECT version_ms, version_id FROM profiles WHERE member = ?", (author,)).fetchone()
        if row is not None and (int(row[0]), bytes(row[1])) >= (message.timestamp_ms, message.id):
            return False
        if row is not None:
            conn.execute("DELETE FROM messages WHERE id = ?", (bytes(row[1]),))
            self._db.purged()  # the old avatar's bytes may go with it
        avatar = body.avatar
        conn.execute(
            "INSERT OR REPLACE INTO profiles (member, name, bio, avatar, links, version_ms, version_id)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                author,
                body.name,
                body.bio,
                None if avatar is None else avatar.sha256,
                json.dumps(list(body.links)),
                message.timestamp_ms,
                message.id,
            ),
        )
        if avatar is not None:
            conn.execute(
                "INSERT OR IGNORE INTO attachments (message_id, sha256, size, mime) VALUES (?,?,?,?)",
                (message.id, avatar.sha256, avatar.size, avatar.mime),
            )
            conn.execute("UPDATE blobs SET keep_until_ms = 0 WHERE sha256 = ?", (avatar.sha256,))
        return True

    def of(self, member: str) -> Profile | None:
        found = self._select(member)
        return found[0] if found else None

    def all(self) -> list[Profile]:
        return self._select(None)

    def _select(self, member: str | None) -> list[Profile]:
        rows = self._db.conn.execute(
            "SELECT p.member, p.name, p.bio, p.links, p.version_ms, p.version_id, a.sha256, a.size, a.mime,"
            " a.sha256 IN (SELECT sha256 FROM blobs) FROM profiles p"
            " LEFT JOIN attachments a ON a.message_id = p.version_id AND a.sha256 = p.avatar"
            " WHERE ? IS NULL OR p.member = ? ORDER BY p.member",
            (member, member),
        )
        return [
            Profile(
                member=str(r[0]),
                name=str(r[1]),
                bio=str(r[2]),
                avatar=None if r[6] is None else (bytes(r[6]), int(r[7]), str(r[8]), bool(r[9])),
                links=tuple(json.loads(r[3])),
                timestamp_ms=int(r[4]),
                message_id=bytes(r[5]),
            )
            for r in rows
        ]


def forget_erased_profile(conn: sqlite3.Connection, member: str, until_ms: int) -> None:
    """An erase takes the member's profile with everything else they wrote until then."""
    conn.execute("DELETE FROM profiles WHERE member = ? AND version_ms <= ?", (member, until_ms))
