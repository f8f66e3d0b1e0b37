"""Two reconcilers joined by an in-memory link: they must end with the union, whatever the sets."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.core.reconcile import ID_PREFIX, MAX_RANGES, SUM_BYTES, ItemSet, Range, Reconciler, fingerprint_of


def item(n: int, ts: int | None = None) -> tuple[int, bytes]:
    ident = hashlib.sha256(n.to_bytes(8, "big")).digest()
    return (ts if ts is not None else 1_000_000 + n * 7, ident)


def _size(ranges: list[Range]) -> int:
    """Roughly what the ranges cost on the wire (bounds, fingerprints, ids)."""
    return sum(14 + len(r.fingerprint) + ID_PREFIX * len(r.ids) for r in ranges)


def reconcile(a: set[tuple[int, bytes]], b: set[tuple[int, bytes]]) -> tuple[set[bytes], set[bytes], int, int]:
    """Runs the conversation; returns what each side received, the turns and the range bytes."""
    sides = [Reconciler(ItemSet(a)), Reconciler(ItemSet(b))]
    by_prefix = [{i[:ID_PREFIX]: i for _, i in a}, {i[:ID_PREFIX]: i for _, i in b}]
    received: list[set[bytes]] = [set(), set()]
    ranges = sides[0].initiate()
    turn, sender, wire = 0, 0, _size(ranges)
    while ranges:
        turn += 1
        receiver = 1 - sender
        outcome = sides[receiver].respond(ranges)
        received[sender] |= set(outcome.given(sides[receiver].items))
        asked = {by_prefix[sender][w] for w in outcome.want}
        assert set(sides[sender].wanted(outcome.want)) == asked  # found among what it listed
        received[receiver] |= asked
        ranges, sender = outcome.ranges, receiver
        assert len(ranges) <= MAX_RANGES, f"turn {turn} carries {len(ranges)} ranges"
        wire += _size(ranges)
        assert turn < 50, "the conversation does not end"
    return received[0], received[1], turn, wire


@given(
    common=st.sets(st.integers(0, 5000), max_size=300),
    only_a=st.sets(st.integers(5001, 10000), max_size=60),
    only_b=st.sets(st.integers(10001, 15000), max_size=60),
)
@settings(max_examples=200, deadline=None)
def test_both_sides_end_with_the_union(common: set[int], only_a: set[int], only_b: set[int]) -> None:
    a = {item(n) for n in common | only_a}
    b = {item(n) for n in common | only_b}
    got_a, got_b, _, _ = reconcile(a, b)
    assert got_a == {i for _, i in b - a}
    assert got_b == {i for _, i in a - b}


def test_identical_sets_settle_in_one_turn() -> None:
    items = {item(n) for n in range(10_000)}
    got_a, got_b, turns, wire = reconcile(items, set(items))
    assert (got_a, got_b, turns) == (set(), set(), 1)
    assert wire < 100


def test_an_empty_side_gets_everything_in_one_turn() -> None:
    items = {item(n) for n in range(10_000)}
    got_a, _, turns, wire = reconcile(set(), items)
    assert got_a == {i for _, i in items}
    assert turns == 1
    assert wire < 100  # no id lists: the full side simply gives


@pytest.mark.parametrize("where", ["newest", "random"])
def test_range_bytes_grow_with_the_difference_not_the_history(where: str) -> None:
    everything = [item(n) for n in range(20_000)]
    newest = where == "newest"
    missing = set(everything[-200:]) if newest else set(random.Random(7).sample(everything, 200))
    full = set(everything)
    got_a, _, _, wire = reconcile(full - missing, full)
    assert got_a == {i for _, i in missing}
    every_id = len(everything) * ID_PREFIX  # what listing every id would cost
    # 200 missing of 20,000: a late joiner's gap costs almost nothing, scattered holes a third
    assert wire < (every_id // 50 if newest else every_id // 3)


def test_equal_timestamps_are_ordered_by_id() -> None:
    same_time = {item(n, ts=42) for n in range(500)}
    half = set(sorted(same_time)[:250])
    got_a, got_b, _, _ = reconcile(half, same_time)
    assert got_a == {i for _, i in same_time - half}
    assert got_b == set()


@given(st.sets(st.integers(0, 10_000), max_size=200))
@settings(max_examples=50, deadline=None)
def test_a_presorted_stream_packs_the_same_item_set(seeds: set[int]) -> None:
    items = [(seed % 17, hashlib.sha256(seed.to_bytes(4, "big")).digest()) for seed in seeds]
    shuffled = ItemSet(items)
    streamed = ItemSet(iter(sorted(items)), presorted=True)
    assert len(shuffled) == len(streamed) == len(items)
    assert shuffled.ids_between(0, len(items)) == streamed.ids_between(0, len(items))
    assert shuffled.fingerprint(0, len(items)) == streamed.fingerprint(0, len(items))


def test_a_fingerprint_sums_exactly_the_items_of_its_range() -> None:
    """Whichever range, wherever it starts and ends beside the kept prefix sums."""
    for size in (0, 1, 7, 8, 9, 16, 17, 41):
        items = sorted(item(n) for n in range(size))
        packed = ItemSet(items, presorted=True)
        for lo in range(size + 1):
            for hi in range(lo, size + 1):
                total = sum(int.from_bytes(i[:SUM_BYTES], "big") for _, i in items[lo:hi]) % (1 << (8 * SUM_BYTES))
                assert packed.fingerprint(lo, hi) == fingerprint_of(total, hi - lo), (size, lo, hi)


def test_holes_spread_through_a_long_history_keep_every_turn_within_the_limit() -> None:
    # 1 % missing at random out of 100,000: splitting every differing range would take the fourth
    # turn to about 7,000 ranges, past what a peer accepts in one turn
    everything = {item(n) for n in range(100_000)}
    holes = set(random.Random(7).sample(sorted(everything), 1_000))
    got_a, got_b, turns, _ = reconcile(everything, everything - holes)
    assert got_a == set()
    assert got_b == {i for _, i in holes}
    assert turns < 50
