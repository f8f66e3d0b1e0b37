"""The bridging ranking on constructed data: what both camps like comes first."""

from __future__ import annotations

import pytest

from node.core.bridging import BRIDGING, ONE_GROUP, fit, rank
from node.core.engagement import signals
from node.core.records import Engagement, Post, Reaction
from tests.unit.node.core.camps import camps, engagement, member, post_id

SHARED, ONE_CAMP = post_id(1000), post_id(1001)


def two_camps_and_a_shared_post() -> Engagement:
    """Gardeners and cyclists like their own camp's posts; SHARED is liked by three of each camp,
    ONE_CAMP (with more supporters than SHARED) by nine gardeners."""
    posts, reactions = camps({"garden": 10, "bikes": 10}, 10)
    posts += [
        Post(SHARED, member("garden", 0), "", 5, "the street party needs tables"),
        Post(ONE_CAMP, member("garden", 1), "", 6, "more compost bins"),
    ]
    reactions += [Reaction(SHARED, member(camp, i), "👍") for camp in ("garden", "bikes") for i in range(1, 4)]
    reactions += [Reaction(ONE_CAMP, member("garden", i), "❤️") for i in (0, *range(2, 10))]
    return engagement(posts, reactions)


def test_the_post_both_camps_like_ranks_first_and_says_why() -> None:
    ranked = rank(signals(two_camps_and_a_shared_post()))
    assert ranked[0].id == SHARED
    assert ranked[0].explanation == BRIDGING
    one_camp = next(r for r in ranked if r.id == ONE_CAMP)
    assert one_camp.explanation == ONE_GROUP
    assert one_camp.supporters > ranked[0].supporters  # more applause, from one side only
    assert ranked.index(one_camp) > 0
    assert all(r.explanation == ONE_GROUP for r in ranked[1:])


def test_the_camps_take_opposite_signs() -> None:
    found = signals(two_camps_and_a_shared_post())
    model = fit(found)
    sides: dict[str, list[float]] = {m[2:-2]: [] for m in found.members}
    for m, f in zip(found.members, model.member_factors, strict=True):
        sides[m[2:-2]].append(f)
    assert max(sides["garden"]) < 0 < min(sides["bikes"]) or max(sides["bikes"]) < 0 < min(sides["garden"])


def test_the_same_messages_in_any_order_rank_the_same() -> None:
    data = two_camps_and_a_shared_post()
    shuffled = Engagement(tuple(reversed(data.posts)), tuple(reversed(data.reactions)))
    assert rank(signals(data)) == rank(signals(shuffled))


def test_a_post_needs_enough_supporters() -> None:
    data = two_camps_and_a_shared_post()
    assert SHARED in {r.id for r in rank(signals(data), min_supporters=6)}
    assert SHARED not in {r.id for r in rank(signals(data), min_supporters=7)}
    with pytest.raises(ValueError, match="at least 1"):
        rank(signals(data), min_supporters=0)


def test_disagreeing_reactions_count_against_and_replies_count_half() -> None:
    a, b = member("garden", 0), member("garden", 1)
    posts = (Post(post_id(1), a, "", 1, "x"), Post(post_id(2), b, "", 2, "answer", parent=post_id(1)))
    reactions = (Reaction(post_id(1), member("bikes", 0), "👎"), Reaction(post_id(1), a, "👍"))
    found = signals(Engagement(posts, reactions))
    assert found.posts == (post_id(1),)
    values = dict(zip(found.members, found.values[:, 0], strict=True))
    assert values == {member("bikes", 0): -1.0, b: 0.5}  # the author's own reaction does not count


def test_nobody_reacting_ranks_nothing() -> None:
    assert rank(signals(Engagement((Post(post_id(1), "0xa", "", 1, "alone"),)))) == []
