"""What the rankings and the opinion map read, and their results cached by content version.

Ranking 10,000 posts means reading them all and fitting a model (``node.core.bridging``,
``node.core.personal``, ``node.core.opinions``): tens to hundreds of milliseconds, too much for
every page of a feed. The results depend only on the stored messages (and on who asks), so they
are kept in memory keyed by a **content version** that changes whenever anything they read
changes: the newest message row (every post, reply, reaction, answer, delete and erasure is a new
row), how many messages there are (an erasure removes rows), the hidden posts, and the followed
rooms. Reading the version costs a few index lookups; a page served from the cache costs no
model at all. The cache is this object's, per store, and holds a few entries only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

from node.core.engagement import Engagement, Post, Reaction
from node.core.opinions import Poll
from node.core.types import Kind
from node.store.db import Database
from node.store.rooms import Rooms

T = TypeVar("T")
#: How many results the cache keeps (a few rooms × sorts × members' questions).
CACHED = 32


class Rankings:
    def __init__(self, db: Database, rooms: Rooms) -> None:
        self._db = db
        self._rooms = rooms
        self._cache: OrderedDict[tuple[Hashable, ...], object] = OrderedDict()

    def version(self) -> tuple[int, int, str, str]:
        """A value that changes whenever what the rankings read changes (see the module)."""
        conn = self._db.conn
        (newest, count) = conn.execute("SELECT COALESCE(MAX(rowid), 0), COUNT(*) FROM messages").fetchone()
        (hidden,) = conn.execute("SELECT COALESCE(GROUP_CONCAT(hex(post_id)), '') FROM hidden_posts").fetchone()
        (follows,) = conn.execute("SELECT COALESCE(GROUP_CONCAT(room), '') FROM follows").fetchone()
        return (int(newest), int(count), str(hidden), str(follows))

    def cached(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """``compute()``'s result for ``key`` at the current content version, computed once."""
        full = (self.version(), *key)
        if full in self._cache:
            self._cache.move_to_end(full)
            return cast(T, self._cache[full])
        found = compute()
        self._cache[full] = found
        while len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return found

    def engagement(self) -> Engagement:
        """The visible posts and replies of open rooms and the active reactions (cached)."""
        return self.cached(("engagement",), self._read)

    def polls(self) -> tuple[Poll, ...]:
        """Every visible poll with each member's latest answer given before it closed, by id."""
        conn = self._db.conn
        rows = conn.execute(
            "SELECT id, room FROM messages WHERE kind = ? AND hidden = 0 ORDER BY id", (int(Kind.POLL),)
        ).fetchall()
        found = []
        for ident, room in rows:
            body = self._rooms.poll(bytes(ident))
            if body is None:
                continue
            answers = tuple(
                (str(m), int(o))
                for m, o in conn.execute(
                    "SELECT member, option FROM answers WHERE poll = ? AND version_ms <= ? AND option < ?"
                    " ORDER BY member",
                    (ident, body.closes_ms, len(body.options)),
                )
            )
            found.append(Poll(bytes(ident), str(room), body.question, body.options, answers))
        return tuple(found)

    def _read(self) -> Engagement:
        conn = self._db.conn
        posts = tuple(
            Post(bytes(i), str(a), str(r), int(t), str(x or ""), None if p is None else bytes(p))
            for i, a, r, t, x, p in conn.execute(
                "SELECT id, author, room, timestamp_ms, text, parent FROM messages WHERE kind = ? AND hidden = 0"
                " ORDER BY id",
                (int(Kind.POST),),
            )
        )
        reactions = tuple(
            Reaction(bytes(t), str(m), str(r))
            for t, m, r in conn.execute(
                "SELECT target, member, reaction FROM reactions WHERE active = 1 ORDER BY target, member, reaction"
            )
        )
        return Engagement(posts, reactions)
