"""What the rankings and the opinion map read, and their results cached by content version.

Ranking 10,000 posts means reading them all and fitting a model (``node.core.bridging``,
``node.core.personal``, ``node.core.opinions``): tens to hundreds of milliseconds, too much for
every page of a feed. The results depend only on the stored messages (and on who asks), so they
are kept in memory keyed by a **content version** that changes whenever anything they read
changes: the newest message row (every post, reply, reaction, answer, delete and erasure is a new
row), how many messages there are (an erasure removes rows), the hidden posts, and the followed
rooms. Reading the version costs a few index lookups; a page served from the cache costs no
model at all. The cache is this object's, per store, and holds a few entries only.

What depends on the posts alone (the posts themselves, their TF-IDF vectors) is kept by a
narrower **posts version** (the posts' count, newest row and timestamps, and the hidden posts),
so a new reaction re-reads only the reactions: that is what keeps the feed's answer after a
reaction in a community of 10,000 posts near 100 ms (``scripts/bench_ranking.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

from node.core.records import Engagement, Poll, Post, Reaction
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

    def posts_version(self) -> tuple[int, int, float, str]:
        """A value that changes whenever the visible posts change (a post or reply arrives, is
        deleted, erased or hidden), and not when reactions or answers do. The timestamps' total
        tells a post that took the row number of a removed one from it."""
        conn = self._db.conn
        (newest, count, stamps) = conn.execute(
            "SELECT COALESCE(MAX(rowid), 0), COUNT(*), TOTAL(timestamp_ms) FROM messages WHERE kind = ?",
            (int(Kind.POST),),
        ).fetchone()
        (hidden,) = conn.execute("SELECT COALESCE(GROUP_CONCAT(hex(post_id)), '') FROM hidden_posts").fetchone()
        return (int(newest), int(count), float(stamps), str(hidden))

    def cached(self, key: tuple[Hashable, ...], compute: Callable[[], T], *, posts_only: bool = False) -> T:
        """``compute()``'s result for ``key`` at the current content version (or, ``posts_only``,
        the current posts version: for what reads nothing but the posts), computed once."""
        version: tuple[Hashable, ...] = ("posts", *self.posts_version()) if posts_only else self.version()
        full = (version, *key)
        if full in self._cache:
            self._cache.move_to_end(full)
            return cast(T, self._cache[full])
        found = compute()
        self._cache[full] = found
        while len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return found

    def engagement(self) -> Engagement:
        """The visible posts and replies and the active reactions (cached; the posts by the posts
        version, so a new reaction reads only the reactions again)."""
        posts = self.cached(("posts",), self._posts, posts_only=True)
        return self.cached(("engagement",), lambda: Engagement(posts, self._reactions()))

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

    def _posts(self) -> tuple[Post, ...]:
        return tuple(
            Post(bytes(i), str(a), str(r), int(t), str(x or ""), None if p is None else bytes(p))
            for i, a, r, t, x, p in self._db.conn.execute(
                "SELECT id, author, room, timestamp_ms, text, parent FROM messages WHERE kind = ? AND hidden = 0"
                " ORDER BY id",
                (int(Kind.POST),),
            )
        )

    def _reactions(self) -> tuple[Reaction, ...]:
        return tuple(
            Reaction(bytes(t), str(m), str(r))
            for t, m, r in self._db.conn.execute(
                "SELECT target, member, reaction FROM reactions WHERE active = 1 ORDER BY target, member, reaction"
            )
        )
