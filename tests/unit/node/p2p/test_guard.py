"""The misbehaviour ledger, the subscription budget, our scorer and the gate, on a fake clock.

No network: ``PeerGuard`` and ``SubscriptionBudget`` are pure bookkeeping; the scorer and the gate
(``Defence``) only need peer ids; the stall memory of ``Gossip`` is exercised with fake queues.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest
import trio
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.score import TopicScoreParams

from node.p2p.config import GossipConfig
from node.p2p.defence import OVER_SIZE_CAP, SUBSCRIPTION_FLOOD, WHILE_GRAYLISTED, Defence
from node.p2p.gossip import Gossip
from node.p2p.guard import PeerGuard, SubscriptionBudget
from node.p2p.host import P2PHost
from node.p2p.identity import key_pair_from_seed
from node.p2p.libp2p_compat.scorer import KiezScorer
from node.p2p.scoring import score_params
from node.p2p.verdicts import P2PVerdict


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock, **changes: Any) -> PeerGuard:
    options: dict[str, Any] = {"max_strikes": 5, "window_s": 60.0, "ban_s": 600.0, "clock": clock, **changes}
    return PeerGuard(**options)


def peer_id() -> ID:
    return ID.from_pubkey(key_pair_from_seed(os.urandom(32)).public_key)


# --- PeerGuard -----------------------------------------------------------------------------------


def test_the_nth_strike_within_the_window_bans() -> None:
    clock = Clock()
    ledger = guard(clock)
    for _ in range(4):
        assert ledger.strike("A", "bad_signature") is None
        clock.now += 1
    ban = ledger.strike("A", "oversized")
    assert ban is not None
    assert ban.strikes == {"bad_signature": 4, "oversized": 1}
    assert ban.until == clock.now + 600
    assert ledger.is_banned("A")
    assert not ledger.is_banned("B")
    assert ledger.strike("A", "bad_signature") is None  # already banned: nothing new
    assert ledger.bans_total == 1
    assert ledger.strikes_total == {"bad_signature": 4, "oversized": 1}


def test_strikes_spread_wider_than_the_window_never_ban() -> None:
    clock = Clock()
    ledger = guard(clock)
    for _ in range(50):
        assert ledger.strike("A", "not_a_member") is None
        clock.now += 16  # at most four within any 60 s
    assert not ledger.is_banned("A")
    assert ledger.strikes_in_window("A") == 3  # 16, 32 and 48 s ago


def test_a_ban_ends_and_the_peer_starts_clean() -> None:
    clock = Clock()
    ledger = guard(clock)
    for _ in range(5):
        ledger.strike("A", "bad_signature")
    clock.now += 599
    assert ledger.is_banned("A")
    clock.now += 2
    assert ledger.expire() == ["A"]
    assert not ledger.is_banned("A")
    assert ledger.strikes_in_window("A") == 0
    assert ledger.strike("A", "bad_signature") is None  # a fresh count


def test_a_ban_that_ran_out_is_lifted_when_the_peer_shows_up() -> None:
    clock = Clock()
    ledger = guard(clock)
    for _ in range(5):
        ledger.strike("A", "bad_signature")
    clock.now += 601
    assert not ledger.is_banned("A")
    assert ledger.banned() == []


def test_status_names_peers_reasons_and_bans() -> None:
    clock = Clock()
    ledger = guard(clock)
    ledger.strike("B", "oversized")
    for _ in range(5):
        ledger.strike("A", "bad_signature")
    ledger.refused("A")
    status = ledger.status()
    assert status["strikes"] == {"bad_signature": 5, "oversized": 1}
    assert status["bans"] == 1
    assert status["refused_connections"] == 1
    assert status["peers_with_strikes"] == {"B": {"in_window": 1, "reasons": {"oversized": 1}}}
    assert status["banned"] == [{"peer": "A", "strikes": {"bad_signature": 5}, "seconds_left": 600.0}]


def test_memory_is_bounded_however_many_peer_ids_strike() -> None:
    clock = Clock()
    ledger = guard(clock, max_strikes=2, max_peers=100)
    for n in range(10_000):
        ledger.strike(f"sybil-{n}", "bad_signature")
    assert len(ledger.status(limit=10_000)["peers_with_strikes"]) == 100
    for n in range(1000):
        ledger.strike(f"banned-{n}", "bad_signature")
        ledger.strike(f"banned-{n}", "bad_signature")
    assert len(ledger.banned()) == 100
    assert ledger.is_banned("banned-999")  # the newest bans are kept, the oldest lifted early
    assert not ledger.is_banned("banned-0")


def test_quiet_records_are_forgotten() -> None:
    clock = Clock()
    ledger = guard(clock)
    ledger.strike("A", "bad_signature")
    clock.now += 61
    ledger.expire()
    assert ledger.status()["peers_with_strikes"] == {}


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        PeerGuard(max_strikes=0, window_s=1, ban_s=1)
    with pytest.raises(ValueError, match="positive"):
        SubscriptionBudget(burst=0, per_second=1)


# --- SubscriptionBudget --------------------------------------------------------------------------


def test_subscription_budget_allows_a_burst_then_refills() -> None:
    clock = Clock()
    budget = SubscriptionBudget(burst=3, per_second=2.0, clock=clock)
    assert [budget.allow("A") for _ in range(4)] == [True, True, True, False]
    assert budget.allow("B")  # per peer
    clock.now += 0.5  # one token back
    assert budget.allow("A")
    assert not budget.allow("A")


def test_subscription_budget_keeps_at_most_max_peers() -> None:
    budget = SubscriptionBudget(burst=3, per_second=2.0, max_peers=10)
    for n in range(1000):
        budget.allow(f"peer-{n}")
    assert len(budget) == 10


# --- the scorer ----------------------------------------------------------------------------------


def test_each_reject_lowers_the_score_past_the_grace_and_graylists_at_the_threshold() -> None:
    config = GossipConfig()
    scorer = KiezScorer(score_params(config), config.score_decay_interval_s, Clock())
    peer, topics = peer_id(), ["t"]
    assert not scorer.graylisted(peer, topics)
    assert not scorer.penalised(peer)
    assert peer not in scorer.behavior_penalty  # asking did not insert a zero
    graylisted_after = int(config.rejects_to_graylist()) + 1
    for n in range(1, graylisted_after + 1):
        scorer.penalize_behavior(peer, 1.0)
        assert scorer.score(peer, topics) == -max(0.0, n - config.behaviour_penalty_grace)
        assert scorer.allow_gossip(peer, topics) == (scorer.score(peer, topics) >= config.gossip_threshold)
        assert scorer.graylisted(peer, topics) == (n == graylisted_after)
    # py gates incoming messages with the publish threshold: it is the graylist threshold here
    assert not scorer.allow_publish(peer, topics)


def test_the_gates_pass_an_unpenalised_peer_without_scoring_it_and_agree_with_py_otherwise() -> None:
    config = GossipConfig()
    scorer = KiezScorer(score_params(config), config.score_decay_interval_s, Clock())
    peer, topics = peer_id(), ["t"]
    assert scorer.allow_gossip(peer, topics)
    assert scorer.allow_publish(peer, topics)
    assert not scorer.is_graylisted(peer, topics)
    assert peer not in scorer.behavior_penalty  # answered without computing (py inserts zeros)
    assert peer not in scorer.time_in_mesh
    assert not scorer.allow_gossip(peer, [])  # no topics: py's "no", kept
    # With a topic counter weighted, an unpenalised peer's score is not known to be 0: py decides.
    weighted = replace(score_params(config), p4_invalid_messages=TopicScoreParams(weight=1.0, cap=100.0, decay=0.5))
    py_scored = KiezScorer(weighted, config.score_decay_interval_s, Clock())
    for _ in range(20):
        py_scored.on_invalid_message(peer, "t")
    assert not py_scored.penalised(peer)
    assert not py_scored.allow_gossip(peer, topics)
    assert py_scored.is_graylisted(peer, topics)


def test_penalties_decay_once_per_interval_not_per_heartbeat_and_vanish() -> None:
    config = GossipConfig()
    clock = Clock()
    scorer = KiezScorer(score_params(config), config.score_decay_interval_s, clock)
    peer = peer_id()
    scorer.penalize_behavior(peer, 4.0)
    for _ in range(59):
        clock.now += 1
        scorer.on_heartbeat()
    assert scorer.behavior_penalty[peer] == 4.0
    clock.now += 1
    scorer.on_heartbeat()
    assert scorer.behavior_penalty[peer] == 4.0 * config.score_decay
    for _ in range(20):
        clock.now += config.score_decay_interval_s
        scorer.on_heartbeat()
    assert not scorer.penalised(peer)  # decayed to nothing and forgotten


# --- the gate ------------------------------------------------------------------------------------


class FakeHost:
    def inbound_status(self) -> dict[str, int]:
        return {"pending": 0}


def defence(config: GossipConfig) -> Defence:
    scorer = KiezScorer(score_params(config), config.score_decay_interval_s)
    gate = Defence(config, scorer, cast(P2PHost, FakeHost()), peer_id())  # no nursery: nothing to disconnect
    gate.topics = ["t"]
    return gate


def test_a_peer_that_keeps_talking_while_graylisted_is_banned() -> None:
    config = GossipConfig()
    gate = defence(config)
    attacker = peer_id()
    rejects = int(config.rejects_to_graylist()) + 1
    for _ in range(rejects):
        assert not gate.refuses(attacker)
        gate.misbehaved(attacker, "bad_signature")
    assert gate.refuses(attacker)  # graylisted: its RPCs are dropped ...
    for _ in range(config.max_strikes - rejects - 1):
        assert not gate.is_banned(attacker)
        assert gate.refuses(attacker)  # ... and each one is a strike
    assert gate.is_banned(attacker)
    ban = gate.guard.banned()[0]
    assert ban.strikes == {"bad_signature": rejects, WHILE_GRAYLISTED: config.max_strikes - rejects}


def test_ignores_cost_nothing_and_our_own_id_is_never_refused() -> None:
    gate = defence(GossipConfig())
    honest = peer_id()
    gate.misbehaved(gate._my_id, OVER_SIZE_CAP)  # e.g. a bug making us judge our own message
    assert not gate.refuses(gate._my_id)
    assert not gate.refuses(honest)
    assert gate.guard.strikes_total == {}


def test_subscription_changes_beyond_the_budget_are_strikes() -> None:
    config = GossipConfig(subscription_burst=10)
    gate = defence(config)
    peer = peer_id()
    assert all(gate.allow_subscription_change(peer) for _ in range(10))
    assert not gate.allow_subscription_change(peer)
    assert gate.guard.strikes_total == {SUBSCRIPTION_FLOOD: 1}


# --- stall memory --------------------------------------------------------------------------------


@dataclass
class FakeQueue:
    items: int = 0

    def __len__(self) -> int:
        return self.items


@dataclass
class FakePubsub:
    my_id: ID = field(default_factory=peer_id)
    peer_queues: dict[ID, FakeQueue] = field(default_factory=dict)
    peers: dict[ID, object] = field(default_factory=dict)


async def _never_called(topic: str, data: bytes, peer: str) -> P2PVerdict:
    raise AssertionError


def test_a_stuck_peer_costs_one_wait_even_when_py_replaces_its_queue() -> None:
    config = GossipConfig(backpressure_max_wait_s=0.05, stall_memory_s=60.0)
    pubsub = FakePubsub()
    stuck = peer_id()
    full = FakeQueue(config.publish_backpressure_at)
    pubsub.peer_queues[stuck] = full
    gossip = Gossip(
        cast(Pubsub, pubsub),
        cast(GossipSub, None),
        config,
        _never_called,
        cast(trio.Nursery, None),
        defence(config),
    )

    async def waits() -> float:
        started = trio.current_time()
        await gossip._wait_for_queue_room()
        return trio.current_time() - started

    assert trio.run(waits) >= config.backpressure_max_wait_s  # the first time we wait, then give up
    assert gossip.defence_status()["stalled"] == [stuck.to_base58()]
    # py gives up the stream and opens another: a new queue, empty, then full again
    pubsub.peer_queues[stuck] = FakeQueue(0)
    assert gossip._crowded_peers() == []
    pubsub.peer_queues[stuck] = FakeQueue(config.publish_backpressure_at)
    assert gossip._crowded_peers() == []  # still known stuck: no second wait
    # the queue we last saw stuck drains: it reads again, so it is waited for next time
    pubsub.peer_queues[stuck].items = 0
    assert gossip._crowded_peers() == []
    assert gossip.defence_status()["stalled"] == []
    pubsub.peer_queues[stuck].items = config.publish_backpressure_at
    assert gossip._crowded_peers() == [stuck]
