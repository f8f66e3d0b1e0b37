"""The address book: the latest peer record (kind PEER) per app key (schema version 8).

Records are messages, so sync carries them like any other; but only the latest per app key is
worth anything, so a newer record deletes the older one from ``messages`` too, and an older one
that arrives later (from a peer that has not caught up) is dropped as soon as it is stored. Every
node converges on the same single record per key, and expired ones leave both tables
(``prune_expired``), so sync stops offering them. Who may *use* a record (a current member, a key
not revoked, not expired) is decided by the caller with the community view; rows of removed
members and revoked keys are also deleted when the chain says so (``node.store.chain``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import msgpack

from node.core.types import AppKey, Kind, Message, PeerBody
from node.store.db import Database


@dataclass(frozen=True)
class PeerRecord:
    """One address-book entry: whose node, where, until when, and the signed envelope itself."""

    app_key: AppKey
    member: str
    peer_id: bytes
    addrs: tuple[bytes, ...]
    expires_ms: int
    timestamp_ms: int
    envelope: bytes


class PeerRecords:
    def __init__(self, db: Database) -> None:
        self._db = db

    def apply(self, conn: sqlite3.Connection, message: Message, author: str) -> bool:
        """Keeps ``message`` (a PEER message just inserted into ``messages``) if it is the newest
        record of its app key, deleting the one it replaces; False if it is older (the caller
        deletes it again)."""
        body = message.body
        assert isinstance(body, PeerBody)
        row = conn.execute(
            "SELECT version_ms, version_id FROM peer_records WHERE app_key = ?", (message.author,)
        ).fetchone()
        if row is not None and (int(row[0]), bytes(row[1])) >= (message.timestamp_ms, message.id):
            return False
        if row is not None:
            conn.execute("DELETE FROM messages WHERE id = ?", (bytes(row[1]),))
        conn.execute(
            "INSERT OR REPLACE INTO peer_records (app_key, member, peer_id, addrs, expires_ms, version_ms,"
            " version_id, envelope) VALUES (?,?,?,?,?,?,?,?)",
            (
                message.author,
                author,
                body.peer_id,
                msgpack.packb(list(body.addrs), use_bin_type=True),
                body.expires_ms,
                message.timestamp_ms,
                message.id,
                message.envelope,
            ),
        )
        return True

    def prune_expired(self, now_ms: int) -> int:
        """Forgets records that expired by ``now_ms`` (from both tables); how many went."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM messages WHERE kind = ? AND id IN (SELECT version_id FROM peer_records"
                " WHERE expires_ms <= ?)",
                (int(Kind.PEER), now_ms),
            )
            return conn.execute("DELETE FROM peer_records WHERE expires_ms <= ?", (now_ms,)).rowcount

    def all(self) -> list[PeerRecord]:
        """Every stored record, newest first (unfiltered: see the module docstring)."""
        rows = self._db.conn.execute(
            "SELECT app_key, member, peer_id, addrs, expires_ms, version_ms, envelope FROM peer_records"
            " ORDER BY version_ms DESC, app_key"
        )
        return [_record(row) for row in rows]

    def of_peer(self, peer_id: bytes) -> list[PeerRecord]:
        """The stored records naming ``peer_id`` (several keys may claim one node, e.g. a member's
        old and new key)."""
        rows = self._db.conn.execute(
            "SELECT app_key, member, peer_id, addrs, expires_ms, version_ms, envelope FROM peer_records"
            " WHERE peer_id = ? ORDER BY version_ms DESC",
            (peer_id,),
        )
        return [_record(row) for row in rows]


def forget_member(conn: sqlite3.Connection, member: str) -> None:
    """A member is gone: their records leave the address book and the messages (in the caller's
    transaction, with the chain fact that removed them)."""
    conn.execute("DELETE FROM messages WHERE author = ? AND kind = ?", (member, int(Kind.PEER)))
    conn.execute("DELETE FROM peer_records WHERE member = ?", (member,))


def forget_key(conn: sqlite3.Connection, key: bytes) -> None:
    """An app key is revoked: its record goes (the member's other keys keep theirs)."""
    conn.execute("DELETE FROM messages WHERE author_key = ? AND kind = ?", (key, int(Kind.PEER)))
    conn.execute("DELETE FROM peer_records WHERE app_key = ?", (key,))


def forget_erased(conn: sqlite3.Connection, member: str, until_ms: int) -> None:
    """The member erased everything up to ``until_ms``: their records up to then go too."""
    conn.execute("DELETE FROM peer_records WHERE member = ? AND version_ms <= ?", (member, until_ms))


def _record(row: tuple[Any, ...]) -> PeerRecord:
    app_key, member, peer_id, addrs, expires, version, envelope = row
    decoded = msgpack.unpackb(bytes(addrs), raw=False)
    return PeerRecord(
        AppKey(bytes(app_key)),
        str(member),
        bytes(peer_id),
        tuple(bytes(a) for a in decoded),
        int(expires),
        int(version),
        bytes(envelope),
    )
