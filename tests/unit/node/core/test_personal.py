"""The personal ranking: a member's own interests first, and a diversity floor on every page."""

from __future__ import annotations

import math

import pytest

from node.core.personal import (
    WHY_NO_HISTORY,
    WHY_OUTSIDE,
    WHY_PEOPLE,
    WHY_ROOM,
    WHY_TEXT,
    arrange,
    profile,
)
from node.core.records import Post
from tests.unit.node.core.camps import camps, engagement, member, post_id

NOW = 10_000_000
GARDENER = member("garden", 0)


def community() -> tuple[list[Post], list]:  # type: ignore[type-arg]
    """Three camps; the gardener has only ever liked garden posts."""
    return camps({"garden": 6, "bikes": 6, "music": 6}, 40)


def test_the_diversity_floor_holds_on_every_page() -> None:
    found = profile(engagement(*community()), GARDENER)
    for size, share in ((10, 0.2), (7, 0.2), (20, 0.5), (5, 0.0)):
        ordered = arrange(found, follows=frozenset(), now_ms=NOW, page_size=size, diversity=share)
        assert sorted(p.id for p in ordered) == sorted(p.id for p in found.posts)  # every post, once
        pages = [ordered[i : i + size] for i in range(0, len(ordered), size)]
        left = sum(p.outside for p in ordered)
        for page in pages:
            wanted = min(math.ceil(share * size), left)
            assert sum(p.outside for p in page) >= wanted, (size, share)
            left -= sum(p.outside for p in page)
            assert all(p.reasons for p in page)


def test_the_gardeners_first_page_is_mostly_garden_and_outside_posts_are_marked() -> None:
    posts, reactions = community()
    found = profile(engagement(posts, reactions), GARDENER)
    page = arrange(found, follows=frozenset(), now_ms=NOW, page_size=10)[:10]
    authors = {p.id: p.author for p in posts}
    garden = [p for p in page if authors[p.id].startswith("0xgarden")]
    assert len(garden) == 8  # 80 %: the floor takes two places, no more
    assert all(not p.outside and WHY_PEOPLE in p.reasons and WHY_TEXT in p.reasons for p in garden)
    assert all(p.outside and p.reasons[0] == WHY_OUTSIDE for p in page if p not in garden)
    assert GARDENER not in {authors[p.id] for p in page}  # one's own posts are not recommended


def test_followed_rooms_count_and_say_so() -> None:
    posts = [Post(post_id(1), "0xa", "", 1, "hello"), Post(post_id(2), "0xb", "r", 1, "hello")]
    posts.append(Post(post_id(3), GARDENER, "", 1, "hi"))
    found = profile(engagement(posts, []), GARDENER)
    page = arrange(found, follows=frozenset({"r"}), now_ms=1, page_size=5)
    assert page[0].id == post_id(2)
    assert WHY_ROOM in page[0].reasons


def test_a_member_without_history_gets_the_newest_first() -> None:
    posts, reactions = community()
    found = profile(engagement(posts, reactions), "0xnewcomer")
    page = arrange(found, follows=frozenset(), now_ms=NOW, page_size=5)[:5]
    newest = sorted(posts, key=lambda p: -p.timestamp_ms)[:5]
    assert [p.id for p in page] == [p.id for p in newest]
    assert all(p.reasons == (WHY_NO_HISTORY,) or WHY_NO_HISTORY in p.reasons for p in page)
    assert not any(p.outside for p in page)


def test_bad_page_sizes_and_shares_are_refused() -> None:
    found = profile(engagement(*community()), GARDENER)
    with pytest.raises(ValueError, match="page_size"):
        arrange(found, follows=frozenset(), now_ms=NOW, page_size=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        arrange(found, follows=frozenset(), now_ms=NOW, page_size=5, diversity=1.5)
