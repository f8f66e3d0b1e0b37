"""What members did with posts, as numbers the rankings learn from.

The store reads a snapshot (``node.core.records.Engagement``: the visible posts, replies and active reactions);
``signals`` turns it into one number per (member, post) that a member engaged with:

* a reaction counts **+1**; a disagreeing one counts **−1**: the emojis 👎 😠 😡 🙄 and the words
  "-1", "disagree" and "no" (any case; ``node.core.records.is_negative``). A member holding
  several reactions on one post counts +1 if more of them agree than disagree, −1 if fewer, 0 if
  as many;
* a reply without a reaction counts **+0.5** (they cared enough to answer, whatever they said);
* nothing counts for a member's own posts: writing a post is not rating it.

Every such signal is *observed* and weighs 1 in the factorisation (``node.core.bridging``); a post
a member left alone is *unseen*, taken as 0 with weight ``UNSEEN_WEIGHT`` (0.2): silence says a
little, since most members see most posts of a small community, but much less than a reaction.

Everything is sorted (members by address, posts by id), so two nodes holding the same messages
build the same matrix, and the factorisation gives them the same ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from node.core.records import Engagement, Post, is_negative

#: What a reply without a reaction counts.
REPLY_SIGNAL = 0.5
#: The weight of an unseen (member, post) pair, taken as 0; an observed signal weighs 1.
UNSEEN_WEIGHT = 0.2

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Signals:
    """Members × posts: ``values[u, p]`` is member u's signal on post p, ``observed[u, p]`` whether
    there is one. Rows follow ``members`` (sorted), columns ``posts`` (sorted ids)."""

    members: tuple[str, ...]
    posts: tuple[bytes, ...]
    values: Matrix
    observed: npt.NDArray[np.bool_]

    def weights(self, unseen: float = UNSEEN_WEIGHT) -> Matrix:
        """Each pair's weight in the factorisation: 1 observed, ``unseen`` otherwise."""
        return np.where(self.observed, 1.0, unseen)


def member_signals(engagement: Engagement, posts: Sequence[Post]) -> dict[tuple[str, bytes], float]:
    """Each (member, post id) signal on ``posts`` (their own posts left out), as the module says."""
    wanted = {p.id: p.author for p in posts}
    votes: dict[tuple[str, bytes], int] = {}
    for reaction in engagement.reactions:
        author = wanted.get(reaction.target)
        if author is None or author == reaction.member:
            continue
        key = (reaction.member, reaction.target)
        votes[key] = votes.get(key, 0) + (-1 if is_negative(reaction.reaction) else 1)
    found: dict[tuple[str, bytes], float] = {k: float(np.sign(v)) for k, v in votes.items()}
    for reply in engagement.posts:
        if reply.parent is None:
            continue
        author = wanted.get(reply.parent)
        if author is None or author == reply.author:
            continue
        found.setdefault((reply.author, reply.parent), REPLY_SIGNAL)
    return found


def signals(engagement: Engagement, room: str | None = None) -> Signals:
    """The matrix of the top-level posts (of ``room``, or all) that anyone engaged with, and of
    the members who engaged with any of them."""
    posts = engagement.top_level(room)
    found = member_signals(engagement, posts)
    members = tuple(sorted({m for m, _ in found}))
    ids = tuple(sorted({p for _, p in found}))
    row = {m: i for i, m in enumerate(members)}
    col = {p: j for j, p in enumerate(ids)}
    values = np.zeros((len(members), len(ids)))
    observed = np.zeros((len(members), len(ids)), dtype=np.bool_)
    for (member, post), value in found.items():
        values[row[member], col[post]] = value
        observed[row[member], col[post]] = True
    return Signals(members, ids, values, observed)
