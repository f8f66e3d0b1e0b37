"""Attachments' bytes, by SHA-256: uploads, fetched copies, and which ones this node still lacks.

A blob lives as long as a visible post names it (``db.forget_unreferenced_blobs`` drops the rest
when content is erased); an upload is kept until its ``keep_until_ms`` so its post can follow.
"""

from __future__ import annotations

from node.store.db import Database


class Blobs:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, sha256: bytes) -> tuple[str, bytes] | None:
        """(mime, bytes) of a held blob."""
        row = self._db.conn.execute("SELECT mime, data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def put(self, sha256: bytes, mime: str, data: bytes, keep_until_ms: int = 0) -> None:
        """Stores an attachment's bytes (the caller has checked they hash to ``sha256``).
        ``keep_until_ms`` keeps an upload until then even if no post names it yet."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO blobs (sha256, mime, data, keep_until_ms) VALUES (?,?,?,?)"
                " ON CONFLICT (sha256) DO UPDATE SET keep_until_ms = max(keep_until_ms, excluded.keep_until_ms)",
                (sha256, mime, data, keep_until_ms),
            )

    def missing(self) -> list[tuple[bytes, int, str]]:
        """(sha256, size, mime) of attachments of visible messages whose bytes this node lacks."""
        return [
            (bytes(h), int(s), str(m))
            for h, s, m in self._db.conn.execute(
                "SELECT DISTINCT a.sha256, a.size, a.mime FROM attachments a JOIN messages m ON m.id = a.message_id"
                " WHERE m.hidden = 0 AND a.sha256 NOT IN (SELECT sha256 FROM blobs)"
            )
        ]
