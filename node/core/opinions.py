"""The opinion map: the groups of opinion in the community, and what every group agrees on.

This is the method of Polis, run on one node. Each **statement** is a poll's option (a member who
chose it agrees, one who chose another option of that poll disagrees) or a post (a reaction
agrees, a disagreeing one disagrees: ``node.core.records.is_negative``). Members × statements
(+1, −1, 0 for no vote) is reduced to two dimensions by PCA, and k-means finds the groups, with
the number of groups (2 to 5) the one with the best silhouette. All of it is scikit-learn with
fixed seeds, so the same messages give the same map on every node.

For each group, its size and the statements it **agrees on**: among the group's members who
voted on it (at least half of them), the share agreeing, smoothed as Polis does,
(agree + 1) / (voted + 2), is at least ``AGREE``. A **consensus** statement is one every shown
group agrees on. The map never says which member is in which group, and a group of fewer than
``MIN_GROUP`` members is not shown (its members would be too easy to guess).

Limits: with a dozen members the groups are a sketch, not a finding; members who vote on
little sit near the centre; two dimensions flatten opinions that differ in more ways.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from node.core.engagement import Matrix
from node.core.records import Engagement, Poll, is_negative

Labels = npt.NDArray[np.int64]

AGREE = 0.6
MIN_GROUP = 3
#: A member needs this many votes to be placed, a statement this many voters to count.
MIN_VOTES = 2
MAX_GROUPS = 5
#: How many statements each group lists (the most distinctive first).
LISTED = 5


@dataclass(frozen=True)
class Statement:
    """Something members can agree or disagree with: ``id`` is ``post:<hex>`` or
    ``poll:<hex>:<option index>``."""

    id: str
    text: str


@dataclass(frozen=True)
class Group:
    """A shown group: how many members, and the statements it agrees on with the share agreeing."""

    size: int
    agrees: tuple[tuple[Statement, float], ...]


@dataclass(frozen=True)
class OpinionMap:
    members: int
    statements: int
    groups: tuple[Group, ...]
    hidden_groups: int
    consensus: tuple[Statement, ...]
    #: Each shown member's position (x, y) and group index, sorted by position: for a plot
    #: only, in an order that says nothing about who is who.
    points: tuple[tuple[float, float, int], ...] = ()
    silhouette: float = 0.0


EMPTY = OpinionMap(0, 0, (), 0, ())


def opinion_map(
    statements: tuple[Statement, ...],
    votes: Mapping[tuple[str, str], float],
    *,
    min_group: int = MIN_GROUP,
) -> OpinionMap:
    """The map of ``votes`` ((member, statement id) → +1 or −1) over ``statements``."""
    counted = _kept(statements, votes)
    column = {s.id: j for j, s in enumerate(counted)}
    cast = Counter(m for m, s in votes if s in column)
    members = sorted(m for m, n in cast.items() if n >= MIN_VOTES)
    if len(members) < 2 * min_group or not counted:
        return OpinionMap(len(members), len(counted), (), 0, ())
    # scikit-learn takes seconds to import: a node pays for it when it first draws a map, not at start
    from sklearn.decomposition import PCA  # noqa: PLC0415

    row = {m: i for i, m in enumerate(members)}
    matrix = np.zeros((len(members), len(counted)))
    for (m, s), vote in votes.items():
        if m in row and s in column:
            matrix[row[m], column[s]] = np.sign(vote)
    with threadpool_limits(limits=1):
        points = PCA(n_components=min(2, *matrix.shape), svd_solver="full").fit_transform(matrix)
        labels, quality = _groups(points, len(members) // min_group)
    sizes = np.bincount(labels)
    shown = [g for g in range(len(sizes)) if sizes[g] >= min_group]
    agree = {g: _agreement(matrix[labels == g]) for g in range(len(sizes))}
    groups = tuple(_group(counted, agree, g, shown, int(sizes[g])) for g in shown)
    consensus = tuple(s for j, s in enumerate(counted) if shown and all(agree[g][j] >= AGREE for g in shown))
    plotted = sorted(
        (round(float(p[0]), 6), round(float(p[1]) if len(p) > 1 else 0.0, 6), shown.index(int(g)))
        for p, g in zip(points, labels, strict=True)
        if int(g) in shown
    )
    return OpinionMap(
        len(members), len(counted), groups, len(sizes) - len(shown), consensus, tuple(plotted), round(quality, 6)
    )


def _kept(statements: tuple[Statement, ...], votes: Mapping[tuple[str, str], float]) -> tuple[Statement, ...]:
    """The statements with at least ``MIN_VOTES`` voters, by id."""
    voters: dict[str, int] = {}
    for _, s in votes:
        voters[s] = voters.get(s, 0) + 1
    return tuple(sorted((s for s in statements if voters.get(s.id, 0) >= MIN_VOTES), key=lambda s: s.id))


def _groups(points: Matrix, most: int) -> tuple[Labels, float]:
    """k-means labels for the k in 2..``most`` (at most 5) with the best silhouette (fixed seed),
    and that score. ``most`` keeps k to what the members can fill with shown groups: on a few
    points the silhouette rewards splitting off pairs and singletons. Labels are renumbered by
    each group's first member, so they do not depend on the seed."""
    from sklearn.cluster import KMeans  # noqa: PLC0415 - imported when used, as in opinion_map
    from sklearn.metrics import silhouette_score  # noqa: PLC0415

    best: tuple[float, Labels] | None = None
    distinct = len(np.unique(points.round(9), axis=0))
    for k in range(2, min(MAX_GROUPS, most, distinct - 1, len(points) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(points)
        score = float(silhouette_score(points, labels))
        if best is None or score > best[0] + 1e-9:
            best = (score, labels)
    if best is None:  # everyone sits in one or two places: one group
        return np.zeros(len(points), dtype=np.int64), 0.0
    order = {label: i for i, label in enumerate(dict.fromkeys(int(x) for x in best[1]))}
    return np.array([order[int(x)] for x in best[1]]), best[0]


def _agreement(rows: Matrix) -> Matrix:
    """Per statement, the smoothed share of the group agreeing, or 0 if under half voted."""
    agree = (rows > 0).sum(axis=0)
    voted = (rows != 0).sum(axis=0)
    share: Matrix = (agree + 1) / (voted + 2)
    return np.where(voted >= math.ceil(len(rows) / 2), share, 0.0)


def _group(counted: tuple[Statement, ...], agree: dict[int, Matrix], g: int, shown: list[int], size: int) -> Group:
    """Group ``g`` with its statements, the most distinctive (agreeing more than the others) first."""
    others = [agree[h] for h in shown if h != g]
    rest = np.mean(others, axis=0) if others else np.zeros(len(counted))
    mine = agree[g]
    chosen = sorted((j for j in range(len(counted)) if mine[j] >= AGREE), key=lambda j: (-(mine[j] - rest[j]), j))
    return Group(size, tuple((counted[j], round(float(mine[j]), 3)) for j in chosen[:LISTED]))


def statements_of(
    engagement: Engagement, polls: tuple[Poll, ...], *, room: str | None = None, poll: bytes | None = None
) -> tuple[tuple[Statement, ...], dict[tuple[str, str], float]]:
    """The statements and votes of ``room`` (or every room): its polls' options and its top-level
    posts. With ``poll``, that poll's options and the posts of its room."""
    if poll is not None:
        chosen = [p for p in polls if p.id == poll]
        room = chosen[0].room if chosen else room
    else:
        chosen = [p for p in polls if room is None or p.room == room]
    statements: list[Statement] = []
    votes: dict[tuple[str, str], float] = {}
    for each in chosen:
        for i, option in enumerate(each.options):
            sid = f"poll:{each.id.hex()}:{i}"
            statements.append(Statement(sid, f"{each.question} → {option}"))
            for member, answer in each.answers:
                votes[(member, sid)] = 1.0 if answer == i else -1.0
    posts = {p.id: p for p in engagement.top_level(room)}
    for post in posts.values():
        statements.append(Statement(f"post:{post.id.hex()}", _short(post.text)))
    held: dict[tuple[str, str], int] = {}
    for reaction in engagement.reactions:
        if reaction.target in posts and posts[reaction.target].author != reaction.member:
            key = (reaction.member, f"post:{reaction.target.hex()}")
            held[key] = held.get(key, 0) + (-1 if is_negative(reaction.reaction) else 1)
    votes.update({k: float(np.sign(v)) for k, v in held.items() if v != 0})
    return tuple(statements), votes


def _short(text: str, size: int = 80) -> str:
    """A post's text on one line, cut to ``size`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"
