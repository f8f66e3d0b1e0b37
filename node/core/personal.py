"""The personal ranking: what this member engages with first, with a diversity floor.

Each top-level post not written by the member gets a score from four signals of their own:

* **text** (weight 0.4): the cosine similarity, over TF-IDF vectors of the posts' words
  (scikit-learn), between the post and what the member engaged with (posts they reacted to
  without disagreeing, replied to, or wrote);
* **people** (0.3): how much of the member's engagement went to the post's author;
* **room** (0.15): the post is in a room the member follows;
* **newness** (0.15): halves every ``HALF_LIFE_MS`` (three days) of age.

A post is **outside** the member's usual topics and people when its author is nobody they engaged
with and its text is unlike what they engaged with (similarity under ``TOPIC_SIMILARITY``). The
**diversity floor** puts at least ``diversity`` (default 20 %, rounded up) of every page from
outside, as long as outside posts remain: a feed that only ever shows more of the same is how a
small group ends up hearing only itself. Every post says why it is there.

The expensive part (``profile``: TF-IDF, the member's people) depends only on the messages and
the member, so the store caches it by content version; ``arrange`` is cheap and runs per request.
Limits: words are compared, not meanings (no model is downloaded), so "Fahrrad" and "bike" are
strangers; a member who never reacts or replies has no profile and gets the newest posts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from node.core.engagement import Engagement, Matrix, Post, member_signals

WEIGHTS = {"text": 0.4, "people": 0.3, "room": 0.15, "newness": 0.15}
HALF_LIFE_MS = 3 * 24 * 3600 * 1000
#: Under this cosine similarity a post's text is not among the member's usual topics.
TOPIC_SIMILARITY = 0.1
DIVERSITY = 0.2

WHY_TEXT = "like posts you engaged with"
WHY_PEOPLE = "by someone you often engage with"
WHY_ROOM = "in a room you follow"
WHY_NEW = "new"
WHY_OUTSIDE = "outside your usual topics and people"
WHY_NO_HISTORY = "you have not reacted or replied yet: newest first"


@dataclass(frozen=True)
class Profile:
    """What the ranking knows of one member, for the candidate ``posts`` (sorted by id)."""

    member: str
    posts: tuple[Post, ...]
    similarity: Matrix
    people: Matrix
    has_history: bool


@dataclass(frozen=True)
class Picked:
    """A post on a personal page: its score, whether it is from outside, and why it is there."""

    id: bytes
    score: float
    outside: bool
    reasons: tuple[str, ...]


def profile(engagement: Engagement, member: str, room: str | None = None) -> Profile:
    """The member's profile over the top-level posts (of ``room``, or all) written by others."""
    everything = engagement.top_level(room)
    signals = member_signals(engagement, everything)
    liked = {p for (m, p), v in signals.items() if m == member and v > 0}
    by_id = {p.id: p for p in everything}
    authors = Counter(by_id[p].author for p in liked)
    mine = [p for p in everything if p.author == member]
    posts = tuple(p for p in everything if p.author != member)
    history = [by_id[p].text for p in sorted(liked)] + [p.text for p in mine]
    if not posts or not history:
        zero = np.zeros(len(posts))
        return Profile(member, posts, zero, zero, bool(history))
    most = max(authors.values(), default=0)
    people = np.array([authors.get(p.author, 0) / most if most else 0.0 for p in posts])
    return Profile(member, posts, _similarity([p.text for p in posts], history), people, True)


def _similarity(texts: list[str], history: list[str]) -> Matrix:
    """Each text's cosine similarity to the centroid of ``history`` (TF-IDF, fitted on both)."""
    # scikit-learn takes seconds to import: a node pays for it on its first personal feed, not at start
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    vectorizer = TfidfVectorizer(sublinear_tf=True, max_features=50_000)
    with threadpool_limits(limits=1):
        try:
            matrix = vectorizer.fit_transform(texts + history)
        except ValueError:  # no word at all (only emojis, say): nothing to compare
            return np.zeros(len(texts))
        centre = np.asarray(matrix[len(texts) :].mean(axis=0)).ravel()
        size = float(np.linalg.norm(centre))
        if size == 0.0:
            return np.zeros(len(texts))
        found: Matrix = np.asarray(matrix[: len(texts)] @ (centre / size)).ravel()
    return found


def arrange(
    found: Profile,
    *,
    follows: frozenset[str],
    now_ms: int,
    page_size: int,
    diversity: float = DIVERSITY,
) -> list[Picked]:
    """Every candidate post in order, so that each run of ``page_size`` (a page) holds at least
    ``ceil(diversity × page size)`` outside posts while any remain; within a page, best first."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if not 0.0 <= diversity <= 1.0:
        raise ValueError("diversity must be between 0 and 1")
    picked = [_pick(found, i, follows, now_ms) for i in range(len(found.posts))]
    picked.sort(key=lambda p: (-p.score, p.id))
    inside = [p for p in picked if not p.outside]
    outside = [p for p in picked if p.outside]
    quota = math.ceil(diversity * page_size)
    ordered: list[Picked] = []
    while inside or outside:
        n_in = min(page_size - min(quota, len(outside)), len(inside))
        n_out = min(page_size - n_in, len(outside))
        page = inside[:n_in] + outside[:n_out]
        del inside[:n_in], outside[:n_out]
        ordered += sorted(page, key=lambda p: (-p.score, p.id))
    return ordered


def _pick(found: Profile, i: int, follows: frozenset[str], now_ms: int) -> Picked:
    """Post ``i`` of the profile, scored and explained."""
    post = found.posts[i]
    text, people = float(found.similarity[i]), float(found.people[i])
    followed = post.room in follows
    newness = 0.5 ** (max(now_ms - post.timestamp_ms, 0) / HALF_LIFE_MS)
    parts = {"text": text, "people": people, "room": float(followed), "newness": newness}
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    outside = found.has_history and people == 0.0 and text < TOPIC_SIMILARITY
    reasons = [
        why
        for why, holds in (
            (WHY_OUTSIDE, outside),
            (WHY_PEOPLE, people > 0.0),
            (WHY_TEXT, text >= TOPIC_SIMILARITY),
            (WHY_ROOM, followed),
            (WHY_NEW, newness >= 0.5),
            (WHY_NO_HISTORY, not found.has_history),
        )
        if holds
    ]
    return Picked(post.id, round(score, 9), outside, tuple(reasons))
