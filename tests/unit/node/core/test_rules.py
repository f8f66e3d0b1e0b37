from __future__ import annotations

from node.core.conflicts import reaction_supersedes
from node.core.ratelimit import RateLimiter


def test_later_reaction_wins_and_ties_break_by_id() -> None:
    assert reaction_supersedes((2000, b"\x00"), (1000, b"\xff"))
    assert not reaction_supersedes((1000, b"\xff"), (2000, b"\x00"))
    assert reaction_supersedes((1000, b"\x02"), (1000, b"\x01"))
    assert not reaction_supersedes((1000, b"\x01"), (1000, b"\x02"))
    assert not reaction_supersedes((1000, b"\x01"), (1000, b"\x01"))


def test_token_bucket_refills_over_time() -> None:
    limiter = RateLimiter(burst=2, per_second=2.0)
    assert [limiter.allow("m", 0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("m", 500)  # half a second: one token back
    assert not limiter.allow("m", 500)
    assert [limiter.allow("m", 10_000) for _ in range(3)] == [True, True, False]  # capped at the burst
