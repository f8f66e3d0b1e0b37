"""Gossipsub parameters chosen for communities of 3-200 nodes, validated at start.

py-libp2p 0.8.1's defaults are tuned for large public networks, and several of them lose
messages for us (see ARCHITECTURE.md, "py-libp2p facts"). Every field below says which default it
replaces and why; ``validate()`` refuses values that would silently break delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.core import limits

# py-libp2p's per-peer outbound RPC queue holds 32 RPCs and drops the rest without an error
# (pubsub/rpc_queue.py, OutBoundQueueSize); it is not configurable.
PY_LIBP2P_OUTBOUND_QUEUE_SLOTS = 32
# py-libp2p refuses inbound pubsub frames above 1 MiB (rpc_queue.DefaultMaxMessageSize).
PY_LIBP2P_MAX_RPC_BYTES = 1024 * 1024
# Room for the protobuf envelope around our data: topic, from, seqno, signature, key, record.
RPC_ENVELOPE_HEADROOM = 4096
# The gossip size cap, derived from the protocol's envelope limit (node/core/limits.py, 16 KiB).
# A gossiped message's data is exactly one envelope: gossipsub's own framing (the protobuf fields
# above, the RPC's varint length) sits outside the data and needs no room in this cap; py-libp2p
# bounds the whole RPC by PY_LIBP2P_MAX_RPC_BYTES, and ``validate`` keeps the headroom for it.
# The cap is twice the envelope limit, not equal to it, on purpose: data somewhat over the limit
# (a peer on another protocol version, or a bug) still reaches validation, which refuses it with
# the protocol's own reason, "oversized", so the node's refusals name the real cause; data beyond
# twice the limit cannot be a kiez envelope and is dropped unread, before any signature check
# (strike "over_size_cap"). tests/integration/node/test_attacks.py checks both.
GOSSIP_OVERSIZE_MARGIN = limits.MAX_MESSAGE_BYTES
MAX_GOSSIP_DATA_BYTES = limits.MAX_MESSAGE_BYTES + GOSSIP_OVERSIZE_MARGIN


@dataclass(frozen=True)
class GossipConfig:
    """Gossipsub settings of one node; all nodes of a community should use the same values.

    The mesh, for 3 to 200 nodes. What a message costs a node is the copies it receives: about
    D-1 (one from each mesh peer but the one it came from first), each framed, decrypted, parsed
    and dropped as a duplicate; the validator runs once. How fast it spreads is the hops it needs,
    about log_(D-1)(N) on a random mesh of degree D, plus one or two for the stragglers. D=4
    (D_low 3, D_high 6) gives 3 copies per node instead of the default D=6's 5, and reaches 200
    nodes in ~5-7 hops; D=3 would save one more copy but need ~8-10 hops at 200 nodes, which at
    30-50 ms per hop between members' homes puts the slowest nodes past a quarter second, and
    leave a node with only two other paths when one mesh peer is silent. With 3-5 nodes D=4 is
    the full mesh. Whatever the mesh misses, IHAVE gossip to non-mesh peers (window 3, history 5,
    every 1 s heartbeat) and sync every 30 s recover. tests/integration/node/test_attacks.py checks,
    on three nodes, that every honest post still reaches every node with these values under floods.

    Not used: IDONTWANT (gossipsub v1.2), see gossip.py ``GOSSIP_PROTOCOLS``: py-libp2p sends it
    as an RPC of its own to every mesh peer after validation; a kiez message is ~1 KiB, so the
    extra RPC costs about what the duplicate it saves does.
    """

    # Mesh degree D (see the class docstring). The library default is 6.
    mesh_degree: int = 4
    # Below D_low a heartbeat grafts peers back up to D. 3 tolerates one lost mesh peer without churn.
    mesh_degree_low: int = 3
    # Above D_high a heartbeat prunes down to D. 6 (default 12) keeps duplicates bounded when many
    # peers graft us at once, e.g. after everyone restarts.
    mesh_degree_high: int = 6
    # Heartbeat (mesh repair, IHAVE gossip, cache shift) every second, as in go/js. py-libp2p's
    # constructor default is 120 s, under which a node that lost a mesh peer stays cut off for
    # minutes. An int because py-libp2p's GossipSub annotates it as one.
    heartbeat_interval_s: int = 1
    # Adaptive gossip (py-libp2p default ON) "adapts" a 1 s heartbeat to 30-60 s when it thinks the
    # network is unhealthy (gossipsub.py, _adapt_heartbeat_parameters). Must stay off.
    adaptive_gossip: bool = False
    # py-libp2p's spam protection (default ON) drops every message beyond 10/s per peer and topic,
    # our own publishes included, with only a log line. Off: the node rate-limits per *member* in
    # validation, where the author is known.
    spam_protection: bool = False
    # Eclipse protection grafts up to two extra peers every heartbeat while the mesh has fewer than
    # three distinct IPs. Members behind one NAT, a LAN or loopback tests always look like that, so
    # the mesh would churn between D and D_high for nothing. Small communities know their peers.
    eclipse_protection: bool = False
    # How long a message id stays "seen" (each sighting extends it). Must outlast the gossip history
    # so a message advertised by IHAVE is never fetched and validated a second time.
    seen_ttl_s: int = 120
    # Largest message data we publish or accept: MAX_GOSSIP_DATA_BYTES (above), which bounds what one
    # peer can make us verify per message.
    max_message_size: int = MAX_GOSSIP_DATA_BYTES
    # Heartbeats whose messages are advertised in IHAVE gossip to non-mesh peers (spec default 3).
    gossip_window: int = 3
    # Heartbeats a message stays in the cache to answer IWANT (spec default 5).
    gossip_history: int = 5
    # Seconds the validator (which stores the message, then waits for queue room) may take;
    # py-libp2p then counts the message as invalid and does not forward it.
    validation_timeout_s: float = 5.0
    # Publishing and forwarding wait while any peer's outbound queue holds this many RPCs, because
    # py-libp2p drops silently when its 32 slots are full. Half leaves room for control messages
    # and for the up to 10 validations py runs at once.
    publish_backpressure_at: int = 16
    # ...but no longer than this, so one stuck peer cannot stall publishing for everyone.
    backpressure_max_wait_s: float = 2.0
    # A peer found stuck is not waited for again for this long after it was last seen stuck (unless
    # it drains): py-libp2p replaces a stuck peer's stream and queue every few seconds (gossip.py).
    stall_memory_s: float = 60.0

    # --- Peer scoring (gossipsub P5, the behaviour penalty) -----------------------------------------
    # py-libp2p 0.8.1's default ScoreParams weigh everything 0 with thresholds at -inf, so a REJECT
    # (which adds 1 to the forwarder's behaviour penalty) changed nothing. Only P5 is used: P1-P3
    # would let a peer earn credit by relaying before it misbehaves, and P4 (invalid messages) must
    # stay 0 because py counts every validator ``False``, our IGNOREs included, as invalid.
    #
    # Score = -(penalty - grace) * weight once the penalty exceeds the grace (py applies P5 linearly
    # with a *positive* weight, score.py ``score``; go squares it with a negative weight). Each REJECT
    # adds 1. The grace forgives the couple of rejects an honest peer can earn when its view of the
    # chain lags ours (it relays a removed member's post a moment before it applies the removal).
    behaviour_penalty_weight: float = 1.0
    behaviour_penalty_grace: float = 2.0
    # Penalties halve every 60 s (go's DecayInterval; py would decay on every 1 s heartbeat). A
    # burst is remembered long enough to act on; a stray reject is forgotten within minutes.
    score_decay_interval_s: float = 60.0
    score_decay: float = 0.5
    # Below this score we stop forwarding messages to the peer (6 un-decayed rejects; py-libp2p
    # 0.8.1 does not gate its IHAVE gossip by score).
    gossip_threshold: float = -4.0
    # Below this score the peer is graylisted (12 un-decayed rejects): every RPC it sends, messages,
    # control and subscriptions, is dropped before any work is done on it. py-libp2p 0.8.1 only gates
    # its messages (with ``publish_threshold``) and GRAFTs; we gate the rest (defence.py).
    graylist_threshold: float = -10.0

    # --- Misbehaviour ledger (guard.py): the deterministic backstop --------------------------------
    # Every REJECT, every message or RPC a graylisted peer still sends, every subscription change
    # beyond the budget below is a strike against the peer that sent it (never an IGNORE). This many
    # strikes within the window close the connection and refuse the peer (reconnects, our own dials,
    # its streams) for ``ban_s``. More than the 12 rejects that graylist a peer, so the score acts
    # first and a graylisted peer that keeps talking is then cut off: a burst of ~20 bad messages.
    max_strikes: int = 20
    strike_window_s: float = 60.0
    # Ten minutes: long enough that a flooding peer costs us a handshake per redial at most, short
    # enough that an honest node banned by accident (a reorg, a lagging view) is back soon; sync
    # repairs what it missed.
    ban_s: float = 600.0
    # Subscription changes (subscribe or unsubscribe, any topic) a peer may send in a burst, and how
    # fast that allowance refills. A kiez node announces one topic per connection; py-libp2p spawns
    # three tasks per new subscription and replays its message cache to the peer, so a subscribe/
    # unsubscribe loop is real work for us.
    subscription_burst: int = 100
    subscription_refill_per_s: float = 5.0

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first nonsensical value; return quietly otherwise."""
        if self.mesh_degree < 1:
            raise ValueError(f"mesh_degree must be at least 1, got {self.mesh_degree}")
        if not 0 < self.mesh_degree_low <= self.mesh_degree:
            raise ValueError(
                f"mesh_degree_low must be between 1 and mesh_degree ({self.mesh_degree}), got {self.mesh_degree_low}"
            )
        if self.mesh_degree_high < self.mesh_degree:
            raise ValueError(
                f"mesh_degree_high must be at least mesh_degree ({self.mesh_degree}), got {self.mesh_degree_high}"
            )
        if self.heartbeat_interval_s < 1:
            raise ValueError(f"heartbeat_interval_s must be at least 1, got {self.heartbeat_interval_s}")
        if self.adaptive_gossip:
            raise ValueError("adaptive_gossip must stay off: py-libp2p 0.8.1 then stretches the heartbeat to 30-60 s")
        if self.spam_protection:
            raise ValueError(
                "spam_protection must stay off: py-libp2p 0.8.1 then drops every message beyond 10/s per topic, "
                "including our own; rate-limit per member in validation instead"
            )
        if not 0 < self.gossip_window <= self.gossip_history:
            raise ValueError(
                f"gossip_window must be between 1 and gossip_history ({self.gossip_history}), got {self.gossip_window}"
            )
        history_s = self.gossip_history * self.heartbeat_interval_s
        if self.seen_ttl_s <= history_s:
            raise ValueError(
                f"seen_ttl_s ({self.seen_ttl_s}) must exceed the gossip history "
                f"({self.gossip_history} heartbeats = {history_s} s), or messages get validated twice"
            )
        max_data = PY_LIBP2P_MAX_RPC_BYTES - RPC_ENVELOPE_HEADROOM
        if not 0 < self.max_message_size <= max_data:
            raise ValueError(f"max_message_size must be between 1 and {max_data} bytes, got {self.max_message_size}")
        self._validate_backpressure()
        self._validate_scoring()

    def _validate_backpressure(self) -> None:
        if self.backpressure_max_wait_s <= 0:
            raise ValueError(f"backpressure_max_wait_s must be positive, got {self.backpressure_max_wait_s}")
        if self.stall_memory_s < self.backpressure_max_wait_s:
            raise ValueError(
                f"stall_memory_s ({self.stall_memory_s}) must be at least backpressure_max_wait_s "
                f"({self.backpressure_max_wait_s})"
            )
        if self.validation_timeout_s <= self.backpressure_max_wait_s:
            raise ValueError(
                f"validation_timeout_s ({self.validation_timeout_s}) must exceed backpressure_max_wait_s "
                f"({self.backpressure_max_wait_s}): the validator waits for queue room before forwarding"
            )
        if not 0 < self.publish_backpressure_at < PY_LIBP2P_OUTBOUND_QUEUE_SLOTS:
            raise ValueError(
                f"publish_backpressure_at must be between 1 and {PY_LIBP2P_OUTBOUND_QUEUE_SLOTS - 1} "
                f"(py-libp2p's queue has {PY_LIBP2P_OUTBOUND_QUEUE_SLOTS} slots), got {self.publish_backpressure_at}"
            )

    def rejects_to_graylist(self) -> float:
        """How many un-decayed REJECTs push a peer below ``graylist_threshold``."""
        return self.behaviour_penalty_grace - self.graylist_threshold / self.behaviour_penalty_weight

    def _validate_scoring(self) -> None:
        if self.behaviour_penalty_weight <= 0:
            raise ValueError(
                "behaviour_penalty_weight must be positive: py-libp2p 0.8.1 subtracts it "
                f"(score.py), got {self.behaviour_penalty_weight}"
            )
        if self.behaviour_penalty_grace < 0:
            raise ValueError(f"behaviour_penalty_grace must not be negative, got {self.behaviour_penalty_grace}")
        if not self.graylist_threshold < self.gossip_threshold < 0:
            raise ValueError(
                f"thresholds must satisfy graylist_threshold ({self.graylist_threshold}) < gossip_threshold "
                f"({self.gossip_threshold}) < 0"
            )
        if not 0 < self.score_decay < 1 or self.score_decay_interval_s <= 0:
            raise ValueError(
                f"score_decay must be between 0 and 1 and score_decay_interval_s positive, got "
                f"{self.score_decay} every {self.score_decay_interval_s} s"
            )
        if self.max_strikes <= self.rejects_to_graylist():
            raise ValueError(
                f"max_strikes ({self.max_strikes}) must exceed the {self.rejects_to_graylist():.0f} rejects that "
                "graylist a peer: the score acts first, the ban is the backstop"
            )
        if self.strike_window_s <= 0 or self.ban_s <= 0:
            raise ValueError(f"strike_window_s and ban_s must be positive, got {self.strike_window_s}, {self.ban_s}")
        if self.subscription_burst < 1 or self.subscription_refill_per_s <= 0:
            raise ValueError(
                f"subscription_burst must be at least 1 and subscription_refill_per_s positive, got "
                f"{self.subscription_burst}, {self.subscription_refill_per_s}"
            )
