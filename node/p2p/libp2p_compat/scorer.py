"""py-libp2p's peer scorer with go-libp2p's DecayInterval and DecayToZero (py-libp2p#871)."""

from __future__ import annotations

import time
from collections.abc import Callable

from libp2p.peer.id import ID
from libp2p.pubsub.score import PeerScorer, ScoreParams

#: go's DecayToZero: a counter below this is forgotten.
DECAYED_TO_ZERO = 0.01


class KiezScorer(PeerScorer):
    """py-libp2p's scorer with go's DecayInterval and DecayToZero.

    py decays every counter on every heartbeat (score.py ``on_heartbeat``, called each heartbeat by
    gossipsub.py ``heartbeat``), which ties the penalty's half-life to the heartbeat, and it never
    drops a counter that decayed to nothing: ``score()`` on any peer inserts zeros into its
    defaultdicts, and only peers the router registered are removed on disconnect. Here counters decay
    once per ``decay_interval_s`` and whatever decayed below ``DECAYED_TO_ZERO`` is forgotten, so
    the tables hold only peers with something against them. (Upstream tracks its scoring gaps in
    libp2p/py-libp2p#871.)

    Gates without arithmetic: py computes a peer's whole score for every gate, and gossipsub asks
    ``allow_gossip`` and ``is_graylisted`` for every mesh peer of every message it forwards and
    ``allow_publish`` for every message it receives (about 3 % of node CPU in
    scripts/bench_gossip.py). When only penalties count (P1-P4, P6 and P7 weigh 0, as scoring.py
    sets them) and the thresholds are not positive, a peer without a penalty scores 0 and passes
    every gate, so the gates answer that at once; anything else goes to py's computation.
    """

    def __init__(self, params: ScoreParams, decay_interval_s: float, clock: Callable[[], float] = time.monotonic):
        super().__init__(params)
        self._decay_interval_s = decay_interval_s
        self._clock = clock
        self._last_decay = clock()
        p = params
        counters = [p.p1_time_in_mesh, p.p2_first_message_deliveries, p.p3_mesh_message_deliveries]
        counters.append(p.p4_invalid_messages)
        self._zero_unless_penalised = (
            all(t.weight == 0 for t in counters)
            and (p.app_specific_score_fn is None or p.p6_appl_slack_weight == 0)
            and p.p7_ip_colocation_weight == 0
            and max(p.publish_threshold, p.gossip_threshold, p.graylist_threshold) <= 0
        )

    def _scores_zero(self, peer: ID, topics: list[str]) -> bool:
        """Whether ``peer``'s score is known to be 0 without computing it (see the class docstring)."""
        return self._zero_unless_penalised and bool(topics) and not self.penalised(peer)

    def allow_publish(self, peer: ID, topics: list[str]) -> bool:
        return self._scores_zero(peer, topics) or super().allow_publish(peer, topics)

    def allow_gossip(self, peer: ID, topics: list[str]) -> bool:
        return self._scores_zero(peer, topics) or super().allow_gossip(peer, topics)

    def is_graylisted(self, peer: ID, topics: list[str]) -> bool:
        return not self._scores_zero(peer, topics) and super().is_graylisted(peer, topics)

    def on_heartbeat(self, dt_seconds: float = 1.0) -> None:
        now = self._clock()
        if now - self._last_decay < self._decay_interval_s:
            return
        self._last_decay = now
        super().on_heartbeat(dt_seconds)
        self._forget_zeroes()

    def penalised(self, peer: ID) -> bool:
        """Whether ``peer`` has any penalty at all: with only P5 weighted (config.py), a peer
        without one scores 0 and cannot be below a (negative) threshold. (py's own gates insert
        zeros for every peer they look at, so presence in a table means nothing.)"""
        return any(table.get(peer, 0.0) > 0 for table in self._flat_tables())

    def penalised_peers(self) -> set[ID]:
        return {peer for table in self._flat_tables() for peer, value in table.items() if value > 0}

    def graylisted(self, peer: ID, topics: list[str]) -> bool:
        """``is_graylisted`` without computing (and so inserting zeros for) unpenalised peers."""
        return self.penalised(peer) and self.is_graylisted(peer, topics)

    def _flat_tables(self) -> tuple[dict[ID, float], ...]:
        return (
            self.behavior_penalty,
            self.graft_flood_penalties,
            self.iwant_spam_penalties,
            self.ihave_spam_penalties,
            self.equivocation_penalties,
        )

    def _forget_zeroes(self) -> None:
        for table in (*self._flat_tables(), self.app_specific_scores):
            for peer in [peer for peer, value in table.items() if abs(value) < DECAYED_TO_ZERO]:
                del table[peer]
        for nested in (
            self.time_in_mesh,
            self.first_message_deliveries,
            self.mesh_message_deliveries,
            self.invalid_messages,
        ):
            for peer in [p for p, topics in nested.items() if all(abs(v) < DECAYED_TO_ZERO for v in topics.values())]:
                del nested[peer]
