"""The one SQLite connection every part of the store shares, and its one way to write.

The connection is in autocommit mode and every change runs in ``transaction()`` (``BEGIN
IMMEDIATE … COMMIT``), so it is always clear what commits together. ``synchronous=FULL`` makes a
commit durable before it returns, which is what lets the API acknowledge a post only once it is
on disk. Erased content must not linger in the file: a part that deletes content calls
``purged()``, and the commit then drops the attachments nothing names any more and gives the
freed pages (already zeroed by ``secure_delete``) back to the file system.

The file holds the member's messages and keys of private rooms, so only its owner may read it:
it is created with mode 0600 before SQLite opens it, because SQLite creates it with the
process's umask (0644 as a rule) and gives its write-ahead log (``-wal``), shared-memory index
(``-shm``) and journal the mode of the database file.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from node.errors import NodeError
from node.store import search
from node.store.schema import SchemaError, migrate


class StoreError(NodeError):
    """The database cannot be opened or used (path, permissions, corruption, newer schema)."""


#: SQLite's page cache (negative: KiB) between writes. Reading the feed or the sync's keys passes
#: the whole table through the cache, and what it keeps stays in the node's memory, while the
#: operating system caches the file anyway: 1 MiB holds the indexes' upper levels (it also bounds
#: the memory SQLite sorts in before it spills to a temporary file; bench_memory.py).
READ_CACHE = -1024
#: The page cache within a write. Message ids are hashes, so a batch's inserts into the id and
#: search indexes land on random pages: 16 MiB holds a sync batch's dirty pages without spilling
#: them to the log before the commit. It shrinks back to ``READ_CACHE`` after the commit.
WRITE_CACHE = -16384


class Database:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._purged = False  # content was erased in the current transaction

    @classmethod
    def open(cls, path: Path) -> Database:
        """Opens (creating if needed) the database at ``path`` and migrates its schema."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _make_private(path)
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
            conn.execute(f"PRAGMA cache_size = {READ_CACHE}")
            # Copy the write-ahead log into the file every 10,000 pages (40 MiB) rather than 1,000:
            # a sync batch rewrites many of the same index pages, and each checkpoint writes and
            # fsyncs them on the node's one thread. Durability is the same (it is still WAL).
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            migrate(conn)
        except SchemaError as exc:
            raise StoreError(f"{path}: {exc}") from None
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute(f"PRAGMA cache_size = {WRITE_CACHE}")
        try:
            yield from self._transaction()
        finally:
            self.conn.execute(f"PRAGMA cache_size = {READ_CACHE}")

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        self._purged = False
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._purged = False
            raise
        if self._purged:
            forget_unreferenced_blobs(self.conn, int(time.time() * 1000))
            search.reconcile(self.conn)
            # whom an erased post mentioned goes with it
            self.conn.execute("DELETE FROM mentions WHERE message_id NOT IN (SELECT id FROM messages)")
        self.conn.execute("COMMIT")
        if self._purged:
            self._reclaim()

    def purged(self) -> None:
        """Content was erased in the current transaction: scrub it from the file on commit."""
        self._purged = True

    @contextmanager
    def relaxed(self, relax: bool = True) -> Iterator[None]:
        """Within: commits skip their fsync (if ``relax``). They survive a crashed process but
        maybe not a power cut, which suits what can simply be fetched again."""
        if relax:
            self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            if relax:
                self.conn.execute("PRAGMA synchronous = FULL")

    def _reclaim(self) -> None:
        """After erasing content: return its pages to the file system and empty the WAL, where
        old page images would otherwise keep the erased text until the next checkpoint.
        (``secure_delete`` has already overwritten the freed pages with zeros.)"""
        self._purged = False
        self.conn.execute("PRAGMA incremental_vacuum")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


#: The files SQLite keeps beside the database (write-ahead log, shared-memory index, journal).
_COMPANIONS = ("-wal", "-shm", "-journal")


def _make_private(path: Path) -> None:
    """Creates the database file with mode 0600 if it is missing, and takes the read rights of
    others from it and its companions if an older kiez (or a umask) left them 0644."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        try:
            if name.stat().st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            continue


def forget_unreferenced_blobs(conn: sqlite3.Connection, now_ms: int) -> int:
    """Drops attachments of messages that are gone, and the bytes of every blob no visible
    message names (a hidden post's attachments stay listed, so unhiding fetches them again),
    except uploads still waiting for their post."""
    conn.execute("DELETE FROM attachments WHERE message_id NOT IN (SELECT id FROM messages)")
    return conn.execute(
        "DELETE FROM blobs WHERE keep_until_ms < ? AND sha256 NOT IN (SELECT a.sha256 FROM attachments a"
        " JOIN messages m ON m.id = a.message_id WHERE m.hidden = 0)",
        (now_ms,),
    ).rowcount
