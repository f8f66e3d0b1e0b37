"""The opinion map recovers planted groups, names what they agree on, and hides small groups."""

from __future__ import annotations

import random

from node.core.opinions import Statement, opinion_map, statements_of
from node.core.records import Engagement, Poll, Post, Reaction


def planted(sizes: list[int], statements: int = 12, seed: int = 3) -> tuple[tuple[Statement, ...], dict]:  # type: ignore[type-arg]
    """Groups of members; group g agrees with statements where (j + g) is even, disagrees with
    the rest (one vote in ten flipped), and everyone agrees with statement 0."""
    rng = random.Random(seed)
    found = tuple(Statement(f"s{j:02d}", f"statement {j}") for j in range(statements))
    votes = {}
    for g, size in enumerate(sizes):
        for i in range(size):
            for j, s in enumerate(found):
                agree = j == 0 or (j + g) % 2 == 0
                if j and rng.random() < 0.1:
                    agree = not agree
                votes[(f"0x{g}{i:02d}", s.id)] = 1.0 if agree else -1.0
    return found, votes


def test_planted_groups_are_found_with_what_they_agree_on() -> None:
    statements, votes = planted([8, 6])
    found = opinion_map(statements, votes)
    assert sorted(g.size for g in found.groups) == [6, 8]
    assert found.hidden_groups == 0
    assert [s.id for s in found.consensus] == ["s00"]
    by_size = {g.size: {s.id for s, _ in g.agrees} for g in found.groups}
    assert by_size[8] <= {f"s{j:02d}" for j in range(0, 12, 2)}  # group 0: the even statements
    assert by_size[6] <= {f"s{j:02d}" for j in range(1, 12, 2)} | {"s00"}
    assert len(found.points) == 14
    assert found.points == tuple(sorted(found.points))  # by position, not by member


def test_three_planted_groups() -> None:
    statements, votes = planted([6, 6, 6], statements=15)
    # a third opinion: group 2 disagrees with everything but statement 0
    for (m, s), _ in list(votes.items()):
        if m.startswith("0x2") and s != "s00":
            votes[(m, s)] = -1.0
    assert sorted(g.size for g in opinion_map(statements, votes).groups) == [6, 6, 6]


def test_a_group_under_three_is_hidden() -> None:
    statements, votes = planted([8, 2])
    found = opinion_map(statements, votes)
    assert [g.size for g in found.groups] == [8]
    assert found.hidden_groups == 1
    assert len(found.points) == 8  # the small group's members are not drawn either


def test_too_few_members_give_no_map() -> None:
    statements, votes = planted([3, 2])
    found = opinion_map(statements, votes)
    assert found.groups == ()
    assert found.members == 5


def test_poll_answers_and_reactions_become_statements() -> None:
    poll = Poll(b"\x01" * 32, "", "Where?", ("park", "hall"), (("0xa", 0), ("0xb", 1)))
    post = Post(b"\x02" * 32, "0xa", "", 1, "  bring\n chairs  ")
    reactions = (Reaction(post.id, "0xb", "👎"), Reaction(post.id, "0xc", "🎉"), Reaction(post.id, "0xa", "👍"))
    statements, votes = statements_of(Engagement((post,), reactions), (poll,))
    assert [s.text for s in statements] == ["Where? → park", "Where? → hall", "bring chairs"]
    park, hall, chairs = (s.id for s in statements)
    assert votes == {
        ("0xa", park): 1.0,
        ("0xa", hall): -1.0,
        ("0xb", park): -1.0,
        ("0xb", hall): 1.0,
        ("0xb", chairs): -1.0,
        ("0xc", chairs): 1.0,
    }
    other = Poll(b"\x03" * 32, "r", "When?", ("now",), (("0xa", 0),))
    only, _ = statements_of(Engagement((post,), reactions), (poll, other), poll=other.id)
    assert [s.text for s in only] == ["When? → now"]  # the poll's room "r" has no posts
