"""Sync's budgets: the limits of one session, giving each message once, per-peer allowances."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.core import syncbudget
from node.core.errors import SyncViolation
from node.core.reconcile import ItemSet, Reconciler
from node.core.syncbudget import GiveLedger, PeerAllowance, SessionMeter


def test_every_frame_counts_toward_the_session_limit() -> None:
    meter = SessionMeter()
    for _ in range(syncbudget.MAX_FRAMES):
        meter.frame()
    with pytest.raises(SyncViolation, match="frames") as caught:
        meter.frame()
    assert caught.value.strike == syncbudget.OVER_LIMIT


def test_turns_and_bytes_have_limits_of_their_own() -> None:
    meter = SessionMeter()
    for _ in range(syncbudget.MAX_TURNS):
        meter.turn()
    with pytest.raises(SyncViolation, match="turns"):
        meter.turn()
    meter.envelopes([b"x" * (syncbudget.SESSION_BYTES - 1)])
    meter.envelopes([b"x"])
    with pytest.raises(SyncViolation, match="bytes") as caught:
        meter.envelopes([b"x"])
    assert caught.value.strike == syncbudget.OVER_LIMIT


def test_a_message_is_given_once_per_session() -> None:
    ledger = GiveLedger(100)
    ledger.claim([(0, 10), (20, 30)], [50, 51])
    ledger.claim([(10, 20)], [52])
    with pytest.raises(SyncViolation, match="asked again for 2 message") as caught:
        ledger.claim([(29, 31)], [50])
    assert caught.value.strike == syncbudget.ASKED_AGAIN
    with pytest.raises(SyncViolation, match="asked again for 1 message"):
        ledger.claim([(60, 70)], [65])  # the same message twice in one turn


def item(n: int) -> tuple[int, bytes]:
    return (1_000_000 + n * 7, hashlib.sha256(n.to_bytes(8, "big")).digest())


@given(
    common=st.sets(st.integers(0, 5000), max_size=300),
    only_a=st.sets(st.integers(5001, 10000), max_size=80),
    only_b=st.sets(st.integers(10001, 15000), max_size=80),
)
@settings(max_examples=200, deadline=None)
def test_honest_sides_never_ask_for_a_message_twice(common: set[int], only_a: set[int], only_b: set[int]) -> None:
    """Two honest reconcilers: whatever the sets, neither ever gives the same item twice."""
    sides = [Reconciler(ItemSet(item(n) for n in common | only)) for only in (only_a, only_b)]
    ledgers = [GiveLedger(len(side.items)) for side in sides]
    ranges, sender = sides[0].initiate(), 0
    want: list[bytes] = []
    while True:
        receiver = 1 - sender
        outcome = sides[receiver].respond(ranges)
        ledgers[receiver].claim(outcome.give_spans, sides[receiver].wanted_positions(want) if want else [])
        if not outcome.ranges and not outcome.want:
            break
        ranges, want, sender = outcome.ranges, outcome.want, receiver


def test_a_peer_opens_a_burst_of_sessions_then_one_per_refill() -> None:
    now = [0.0]
    allowance = PeerAllowance(lambda: now[0], session_refill_s=10.0)
    assert [allowance.session("p") for _ in range(syncbudget.SESSION_BURST + 1)] == [True] * 3 + [False]
    assert allowance.session("q")  # every peer has its own
    now[0] = 9.0
    assert not allowance.session("p")
    now[0] = 10.5
    assert allowance.session("p")
    assert not allowance.session("p")


def test_what_a_peer_is_given_is_a_bucket_of_bytes() -> None:
    now = [0.0]
    allowance = PeerAllowance(lambda: now[0], give_burst=1000, give_refill_per_s=100.0)
    assert allowance.give("p", 600)
    assert not allowance.give("p", 600)  # nothing is taken when the request does not fit
    assert allowance.give("p", 400)
    now[0] = 3.0
    assert allowance.give("p", 300)
    assert not allowance.give("p", 1)
    now[0] = 1000.0
    assert allowance.give("p", 1000)  # refilled up to the burst, not beyond
    assert not allowance.give("p", 1)


def test_allowances_are_remembered_for_a_bounded_number_of_peers() -> None:
    allowance = PeerAllowance(lambda: 0.0, max_peers=3)
    for peer in "abcde":
        allowance.session(peer)
    assert len(allowance) == 3
    with pytest.raises(ValueError, match="positive"):
        PeerAllowance(lambda: 0.0, session_refill_s=0)
