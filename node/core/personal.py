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

The expensive parts are cached by the store: the posts' TF-IDF vectors (``vectorise``) until the
posts change, and the member's ``profile`` until anything changes; ``arrange`` is cheap and runs
per request.
Limits: words are compared, not meanings (no model is downloaded), so "Fahrrad" and "bike" are
strangers; a member who never reacts or replies has no profile and gets the newest posts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from node.core.engagement import Matrix, member_signals
from node.core.records import DIVERSITY, Engagement, Post

Flags = npt.NDArray[np.bool_]

WEIGHTS = {"text": 0.4, "people": 0.3, "room": 0.15, "newness": 0.15}
HALF_LIFE_MS = 3 * 24 * 3600 * 1000
#: Under this cosine similarity a post's text is not among the member's usual topics.
TOPIC_SIMILARITY = 0.1

WHY_TEXT = "like posts you engaged with"
WHY_PEOPLE = "by someone you often engage with"
WHY_ROOM = "in a room you follow"
WHY_NEW = "new"
WHY_OUTSIDE = "outside your usual topics and people"
WHY_NO_HISTORY = "you have not reacted or replied yet: newest first"


@dataclass(frozen=True)
class Texts:
    """The TF-IDF vectors of posts' words, one row per post of ``rows`` (post id → row). They
    depend on the posts only, not on reactions, so the store keeps them while reactions come."""

    rows: Mapping[bytes, int]
    matrix: Any  # a scipy sparse matrix, or None when the posts hold no word at all


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


def vectorise(posts: Sequence[Post]) -> Texts:
    """The TF-IDF vectors of ``posts`` (scikit-learn, fitted on these posts' words)."""
    # scikit-learn takes seconds to import: a node pays for it on its first personal feed, not at start
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    vectorizer = TfidfVectorizer(sublinear_tf=True, max_features=50_000)
    rows = {p.id: i for i, p in enumerate(posts)}
    with threadpool_limits(limits=1):
        try:
            return Texts(rows, vectorizer.fit_transform([p.text for p in posts]))
        except ValueError:  # no word at all (only emojis, say): nothing to compare
            return Texts(rows, None)


def profile(engagement: Engagement, member: str, room: str | None = None, texts: Texts | None = None) -> Profile:
    """The member's profile over the top-level posts (of ``room``, or all) written by others;
    ``texts``: those posts' vectors (``vectorise``), if the caller keeps them."""
    everything = engagement.top_level(room)
    signals = member_signals(engagement, everything)
    liked = {p for (m, p), v in signals.items() if m == member and v > 0}
    by_id = {p.id: p for p in everything}
    authors = Counter(by_id[p].author for p in liked)
    mine = [p.id for p in everything if p.author == member]
    posts = tuple(p for p in everything if p.author != member)
    history = sorted(liked) + mine
    if not posts or not history:
        zero = np.zeros(len(posts))
        return Profile(member, posts, zero, zero, bool(history))
    most = max(authors.values(), default=0)
    people = np.array([authors.get(p.author, 0) / most if most else 0.0 for p in posts])
    found = texts if texts is not None else vectorise(everything)
    return Profile(member, posts, _similarity(found, [p.id for p in posts], history), people, True)


def _similarity(texts: Texts, posts: list[bytes], history: list[bytes]) -> Matrix:
    """Each post's cosine similarity to the centroid of ``history``'s vectors."""
    if texts.matrix is None:
        return np.zeros(len(posts))
    with threadpool_limits(limits=1):
        centre = np.asarray(texts.matrix[[texts.rows[i] for i in history]].mean(axis=0)).ravel()
        size = float(np.linalg.norm(centre))
        if size == 0.0:
            return np.zeros(len(posts))
        found: Matrix = np.asarray(texts.matrix[[texts.rows[i] for i in posts]] @ (centre / size)).ravel()
    return found


def arrange(
    found: Profile,
    *,
    follows: frozenset[str],
    now_ms: int,
    page_size: int,
    diversity: float = DIVERSITY,
) -> Arranged:
    """Every candidate post in order, so that each run of ``page_size`` (a page) holds at least
    ``ceil(diversity × page size)`` outside posts while any remain; within a page, best first.
    Scored as arrays (10,000 posts in milliseconds); only the reasons are built per post."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if not 0.0 <= diversity <= 1.0:
        raise ValueError("diversity must be between 0 and 1")
    followed = np.array([p.room in follows for p in found.posts], dtype=np.bool_)
    ages = np.array([max(now_ms - p.timestamp_ms, 0) for p in found.posts], dtype=np.float64)
    newness = 0.5 ** (ages / HALF_LIFE_MS)
    score = np.round(
        WEIGHTS["text"] * found.similarity
        + WEIGHTS["people"] * found.people
        + WEIGHTS["room"] * followed
        + WEIGHTS["newness"] * newness,
        9,
    )
    outside = found.has_history & (found.people == 0.0) & (found.similarity < TOPIC_SIMILARITY)
    order = [int(i) for i in np.argsort(-score, kind="stable")]  # posts are by id: ties by id
    place = {i: n for n, i in enumerate(order)}
    inside_rest = [i for i in order if not outside[i]]
    outside_rest = [i for i in order if outside[i]]
    quota = math.ceil(diversity * page_size)
    ordered: list[int] = []
    while inside_rest or outside_rest:
        n_in = min(page_size - min(quota, len(outside_rest)), len(inside_rest))
        n_out = min(page_size - n_in, len(outside_rest))
        page = inside_rest[:n_in] + outside_rest[:n_out]
        del inside_rest[:n_in], outside_rest[:n_out]
        ordered += sorted(page, key=place.__getitem__)
    return Arranged(found, ordered, score, outside, followed, newness)


class Arranged(Sequence[Picked]):
    """The posts in their personal order; each ``Picked`` is made when asked for, so a cached
    ranking of 10,000 posts is a few arrays, not 10,000 objects, and a page costs only its own."""

    def __init__(
        self, found: Profile, order: list[int], score: Matrix, outside: Flags, followed: Flags, newness: Matrix
    ) -> None:
        self._found, self._order = found, order
        self._score, self._outside, self._followed, self._newness = score, outside, followed, newness

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> Picked: ...
    @overload
    def __getitem__(self, index: slice) -> list[Picked]: ...
    def __getitem__(self, index: int | slice) -> Picked | list[Picked]:
        if isinstance(index, slice):
            return [self._pick(i) for i in self._order[index]]
        return self._pick(self._order[index])

    def _pick(self, i: int) -> Picked:
        """Post ``i`` of the profile with its score, explained."""
        found = self._found
        text, people = float(found.similarity[i]), float(found.people[i])
        outside = bool(self._outside[i])
        reasons = [
            why
            for why, holds in (
                (WHY_OUTSIDE, outside),
                (WHY_PEOPLE, people > 0.0),
                (WHY_TEXT, text >= TOPIC_SIMILARITY),
                (WHY_ROOM, bool(self._followed[i])),
                (WHY_NEW, float(self._newness[i]) >= 0.5),
                (WHY_NO_HISTORY, not found.has_history),
            )
            if holds
        ]
        return Picked(found.posts[i].id, float(self._score[i]), outside, tuple(reasons))
