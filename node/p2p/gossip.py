"""Gossipsub for kiez: content-addressed, signed, validated-then-stored, paced.

``open_gossip(host, config, validator)`` runs py-libp2p's ``Pubsub`` + ``GossipSub`` for the
duration of the block and yields a ``Gossip``. What it changes from py-libp2p 0.8.1's defaults:

Message ids are ``sha256(data)`` (DESIGN section 8.6): the same signed post reaches a node once
however many members or peers republish it. py-libp2p's message cache ignores the configured id
function and keys by from+seqno (pubsub/mcache.py, ``default_msg_id_fn``), so its IHAVE gossip
would advertise ids that never match the content-addressed seen cache and every IHAVE would
fetch the full message again; we replace the cache with one keyed like everything else.

Messages are signed by the peer key and checked on receipt (StrictSign), which js-libp2p needs
for interop (DESIGN section 9). Sequence numbers start at the current time in *nanoseconds*, as in
go-libp2p: py-libp2p starts them at whole seconds, so a node that published a burst and restarted
within the same seconds reused (from, seqno) pairs, which peers' equivocation check drops
without forwarding (gossipsub.py, ``_check_equivocation``).

Verdicts. py-libp2p 0.8.1 validators return a bool; there is no ignore/reject distinction
(pubsub.py ``validate_msg``/``push_msg``). A ``False`` is not forwarded, not marked seen, and is
counted against the forwarding peer by ``scorer.on_invalid_message`` (P4). We map:

- ``ACCEPT`` -> ``True``: marked seen, forwarded to the mesh, delivered to the subscription.
- ``IGNORE`` -> ``False``: dropped, nothing else. The P4 weight stays 0, or IGNORE would penalise
  honest peers whenever our chain view is behind.
- ``REJECT`` -> ``False``, ``router.scorer.penalize_behavior(forwarder)`` (P5, +1) and a strike
  in the misbehaviour ledger (guard.py). The validator may return a ``Judgement`` to name the
  reason, which the ledger counts. ``Gossip.blame`` books the same for a verdict reached later
  (a message first IGNOREd because our chain view was behind, then found invalid).

Peer scoring, as configured by ``GossipConfig`` (config.py says why each number):

- only P5 counts (each REJECT +1, halving every ``score_decay_interval_s``); py-libp2p decays on
  every heartbeat and keeps decayed zeros forever, ``_KiezScorer`` decays on go's DecayInterval
  and drops what decayed away;
- below ``gossip_threshold`` py stops forwarding messages to the peer (gossipsub.py
  ``_get_peers_to_send``);
- below ``graylist_threshold`` the peer is graylisted: the spec ignores every RPC it sends.
  py-libp2p 0.8.1 only drops its messages (pubsub.py ``push_msg``, publish-threshold gate, which we
  set equal to the graylist threshold) and its GRAFTs, but still processes its subscriptions and
  IHAVE/IWANT/PRUNE. ``_KiezPubsub``/``_KiezGossipSub`` drop all of it before any work is done, and
  every RPC a graylisted peer still sends is a strike, so it is disconnected soon after. (Upstream:
  libp2p/py-libp2p#871, open, tracks integrating the score into graylisting.)

The misbehaviour ledger (``_Defence`` around guard.py's ``PeerGuard``) is the deterministic backstop
py-libp2p lacks (it forgets a score on disconnect and never disconnects anyone): ``max_strikes``
strikes within ``strike_window_s`` close every connection to the peer and refuse it for ``ban_s``:
its reconnections are closed as soon as they are established (swarm notifee), its streams are
reset, our own dials to it fail (``P2PHost.refuse_peers``), and anything it still sends is
dropped. Subscription changes beyond a per-peer budget are strikes too (a subscribe/unsubscribe
loop costs py three tasks and a message-cache replay each time); subscriptions to topics we do not
serve are not even recorded (py's ``allowed_topics``).

Not done: py-libp2p's pubsub blacklist (pubsub.py ``add_to_blacklist``; upstream calls its
management unfinished in libp2p/py-libp2p#706, open). It refuses no connection, and it would also
drop messages a banned peer *originated* that honest peers relay; kiez validates content, not
origins, and relayed valid posts must flow.

py-libp2p also caches verdicts by message id for 300 s (``ValidationCache``), which would turn an
IGNORE ("my chain view is behind, retry later") into a five-minute refusal; we disable that cache.
It marks a message seen only *after* validation, so copies arriving from other peers while the
first is validated would each run the validator and each be forwarded again; like go-libp2p
(which marks seen before validating) we drop such copies as duplicates. py counts them in P4
too: one more reason to keep the P4 weight at 0. If the first copy ends up IGNOREd, the message
is still unseen and comes back through IHAVE/IWANT or sync.

The validator is where the node stores an accepted message (insert-if-absent); it receives the
topic, the data and the *forwarding* peer's id. Messages over ``config.max_message_size`` or with
other than exactly one topic are refused before it is called.

Our own publishes: py-libp2p runs them through the topic validator too (forwarder = ourselves)
and then delivers them to our own subscription (no emitSelf=false). The caller of ``publish`` has
already validated and stored what it publishes, so the validator is *not* called for them and the
subscription copy is discarded. Publishing the same bytes twice sends them once (seen cache).

Backpressure: py-libp2p drops RPCs silently when a peer's 32-slot outbound queue is full, and
drops subscription deliveries when the 32-slot channel is full. ``publish`` waits while any peer
queue holds ``config.publish_backpressure_at`` RPCs, and so does the validator after ACCEPT, before
py forwards a relayed message (py runs at most 10 validators at once, which bounds the overshoot).
Both waits give up after ``config.backpressure_max_wait_s``, and a peer whose queue stayed full
that long is not waited for again until it drains (or for ``config.stall_memory_s``), so one
stuck peer costs one wait, not one per message (it misses messages meanwhile and catches up
through sync). Every subscription channel is drained in its own task.

A peer that stops reading cannot make us hold more than py's 32 queued RPCs for it plus what is
in flight within its yamux window (about 2 MiB): py gives up the stream after 5 s at a zero window
and forgets the peer's subscriptions (pubsub.py ``_handle_dead_peer``), so it stops receiving.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
from libp2p.abc import INetConn, INetStream, INetwork, INotifee, ISubscriptionAPI
from libp2p.custom_types import TProtocol
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub, ValidationCache, ValidationResult
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.pubsub.score import PeerScorer, ScoreParams, TopicScoreParams
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

from node.p2p.config import GossipConfig
from node.p2p.errors import MessageTooLarge, NotSubscribed
from node.p2p.guard import Ban, PeerGuard, SubscriptionBudget
from node.p2p.host import P2PHost

logger = logging.getLogger(__name__)

# /meshsub/1.1.0 is what js-libp2p interop was measured with (DESIGN section 9). We do not offer
# 1.2: py-libp2p sends each IDONTWANT as its own control RPC to every mesh peer, after validation
# (gossipsub.py, _emit_idontwant_for_message), which doubled CPU per message in our 200-message
# test and, sharing the 32-slot queue, made it overflow six times sooner.
GOSSIP_PROTOCOLS: list[TProtocol] = [PROTOCOL_ID_V11, PROTOCOL_ID]
_QUEUE_POLL_S = 0.002
_QUEUE_POLL_MAX_S = 0.032
_BAN_SWEEP_S = 5.0
_CLOSE_TIMEOUT_S = 5.0


class P2PVerdict(enum.Enum):
    """What the validator decided about a gossiped message (see the module docstring)."""

    ACCEPT = "accept"  # valid and stored: forward it
    IGNORE = "ignore"  # not now (duplicate, chain view behind, ...): drop, blame nobody
    REJECT = "reject"  # invalid: drop and penalise the peer that sent it


@dataclass(frozen=True)
class Judgement:
    """A verdict and the node's reason for it (``"bad_signature"``): the ledger counts strikes by reason."""

    verdict: P2PVerdict
    reason: str = ""


Validator = Callable[[str, bytes, str], Awaitable[P2PVerdict | Judgement]]
#: Strike reasons of the gossip layer itself (the node's validator supplies the others).
OVER_SIZE_CAP = "over_size_cap"
WHILE_GRAYLISTED = "while_graylisted"
SUBSCRIPTION_FLOOD = "subscription_flood"
_DECAYED_TO_ZERO = 0.01  # go's DecayToZero: a counter below this is forgotten


def message_id(msg: rpc_pb2.Message) -> bytes:
    """Content address of a pubsub message: sha256 of its data (raw digest, as js ``msgIdFn``s use)."""
    return hashlib.sha256(msg.data).digest()


class _ContentIdMessageCache(MessageCache):
    """py-libp2p's gossip cache, keyed by our message id instead of its hard-coded from+seqno."""

    def put(self, msg: rpc_pb2.Message) -> None:
        mid = message_id(msg)
        if mid in self.msgs:
            return
        self.msgs[mid] = msg
        self.history[0].append(CacheEntry(mid, msg.topicIDs))


class _NoVerdictCache(ValidationCache):
    """Never remembers a verdict: IGNORE must mean "ask again next time" (see module docstring)."""

    def get(self, msg_id: bytes) -> ValidationResult | None:
        return None

    def put(self, msg_id: bytes, result: ValidationResult) -> None:
        return


class _KiezScorer(PeerScorer):
    """py-libp2p's scorer with go's DecayInterval and DecayToZero.

    py decays every counter on every heartbeat (score.py ``on_heartbeat``, called each heartbeat by
    gossipsub.py ``heartbeat``), which ties the penalty's half-life to the heartbeat, and it never
    drops a counter that decayed to nothing: ``score()`` on any peer inserts zeros into its
    defaultdicts, and only peers the router registered are removed on disconnect. Here counters decay
    once per ``decay_interval_s`` and whatever decayed below ``_DECAYED_TO_ZERO`` is forgotten, so
    the tables hold only peers with something against them. (Upstream tracks its scoring gaps in
    libp2p/py-libp2p#871.)
    """

    def __init__(self, params: ScoreParams, decay_interval_s: float, clock: Callable[[], float] = time.monotonic):
        super().__init__(params)
        self._decay_interval_s = decay_interval_s
        self._clock = clock
        self._last_decay = clock()

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
            for peer in [peer for peer, value in table.items() if abs(value) < _DECAYED_TO_ZERO]:
                del table[peer]
        for nested in (
            self.time_in_mesh,
            self.first_message_deliveries,
            self.mesh_message_deliveries,
            self.invalid_messages,
        ):
            for peer in [p for p, topics in nested.items() if all(abs(v) < _DECAYED_TO_ZERO for v in topics.values())]:
                del nested[peer]


def score_params(config: GossipConfig) -> ScoreParams:
    """Gossipsub score parameters from our configuration (see config.py for the reasons).

    Topic counters (P1-P4) keep weight 0 but decay like P5, so ``_KiezScorer`` can forget them.
    The publish threshold equals the graylist threshold: py-libp2p 0.8.1 applies it to *incoming*
    messages (pubsub.py ``push_msg``), which is the graylist's job in the spec.
    """
    counter = TopicScoreParams(weight=0.0, cap=0.0, decay=config.score_decay)
    return ScoreParams(
        p1_time_in_mesh=counter,
        p2_first_message_deliveries=counter,
        p3_mesh_message_deliveries=counter,
        p4_invalid_messages=counter,
        p5_behavior_penalty_weight=config.behaviour_penalty_weight,
        p5_behavior_penalty_decay=config.score_decay,
        p5_behavior_penalty_threshold=config.behaviour_penalty_grace,
        gossip_threshold=config.gossip_threshold,
        publish_threshold=config.graylist_threshold,
        graylist_threshold=config.graylist_threshold,
        # Peer exchange is off (do_px=False); refuse any PX a pruning peer sends anyway.
        accept_px_threshold=math.inf,
    )


class _Defence:
    """Scores, strikes and bans in one place: every gate asks it, every penalty goes through it."""

    def __init__(self, config: GossipConfig, scorer: _KiezScorer, host: P2PHost, my_id: ID) -> None:
        self.guard = PeerGuard(max_strikes=config.max_strikes, window_s=config.strike_window_s, ban_s=config.ban_s)
        self.budget = SubscriptionBudget(burst=config.subscription_burst, per_second=config.subscription_refill_per_s)
        self.scorer = scorer
        self._host = host
        self._my_id = my_id
        self._max_strikes = config.max_strikes
        self._window_s = config.strike_window_s
        #: The topics we serve: py computes scores per topic list and answers "not graylisted" for none.
        self.topics: list[str] = []
        #: Where disconnects run; None before gossip runs and once it is stopping.
        self.nursery: trio.Nursery | None = None

    def is_banned(self, peer: ID) -> bool:
        return peer != self._my_id and self.guard.is_banned(peer.to_base58())

    def refuses(self, peer: ID) -> bool:
        """The gate in front of every RPC part (message, control, subscription) from ``peer``:
        true for a banned peer, and for a graylisted one, whose every RPC is also a strike."""
        if peer == self._my_id:
            return False
        if self.guard.is_banned(peer.to_base58()):
            return True
        if self.topics and self.scorer.graylisted(peer, self.topics):
            self._strike(peer, WHILE_GRAYLISTED)
            return True
        return False

    def misbehaved(self, peer: ID, reason: str) -> None:
        """A REJECT or its equivalent: +1 behaviour penalty (P5) and a strike."""
        if peer == self._my_id:
            return
        self.scorer.penalize_behavior(peer, 1.0)
        self._strike(peer, reason)

    def allow_subscription_change(self, peer: ID) -> bool:
        if self.budget.allow(peer.to_base58()):
            return True
        self.misbehaved(peer, SUBSCRIPTION_FLOOD)
        return False

    def refuse_connection(self, conn: INetConn) -> None:
        """A banned peer connected again (it dialled us): close the connection at once."""
        peer = conn.muxed_conn.peer_id
        self.guard.refused(peer.to_base58())
        logger.debug("closing a new connection from banned peer %s", peer)
        if self.nursery is not None:
            self.nursery.start_soon(_close_quietly, conn)

    def _strike(self, peer: ID, reason: str) -> None:
        ban = self.guard.strike(peer.to_base58(), reason)
        if ban is None:
            return
        logger.warning(
            "banning peer %s for %.0f s after %d strikes within %.0f s (%s); disconnecting it",
            ban.peer,
            ban.until - ban.since,
            self._max_strikes,
            self._window_s,
            ban.describe(),
        )
        if self.nursery is not None:
            self.nursery.start_soon(self._disconnect, ban)

    async def _disconnect(self, ban: Ban) -> None:
        await self._host.disconnect(ban.peer)

    async def expire_bans(self) -> None:
        """Lifts bans that ran out (they are also lifted lazily when the peer shows up)."""
        while True:
            self.guard.expire()
            await trio.sleep(_BAN_SWEEP_S)

    def status(self, connected: list[ID]) -> dict[str, Any]:
        """The guard's status, the connected peers graylisted now, and every penalised peer's score."""
        topics = self.topics
        scores = {peer.to_base58(): round(self.scorer.score(peer, topics), 2) for peer in self.scorer.penalised_peers()}
        graylisted = [peer.to_base58() for peer in connected if topics and self.scorer.graylisted(peer, topics)]
        return {
            **self.guard.status(),
            "graylisted": sorted(graylisted),
            "scores": dict(sorted(scores.items())) if topics else {},
        }


async def _close_quietly(conn: INetConn) -> None:
    with trio.move_on_after(_CLOSE_TIMEOUT_S):
        try:
            await conn.close()
        except Exception:  # the peer may have gone already; nothing to do either way
            logger.debug("closing a refused connection failed", exc_info=True)


class _BanNotifee(INotifee):
    """Refuses banned peers at the swarm: py-libp2p 0.8.1 has no peer-id connection gater (its
    ``ConnectionGate`` filters IP addresses, network/swarm.py) and its pubsub blacklist refuses no
    connection (libp2p/py-libp2p#706), so the next best is closing the connection the moment it is
    established, before pubsub or sync do anything on it."""

    def __init__(self, defence: _Defence) -> None:
        self._defence = defence

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        if self._defence.is_banned(conn.muxed_conn.peer_id):
            self._defence.refuse_connection(conn)
        await trio.lowlevel.checkpoint()

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        await trio.lowlevel.checkpoint()

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        await trio.lowlevel.checkpoint()

    async def listen(self, network: INetwork, multiaddr: Multiaddr) -> None:
        await trio.lowlevel.checkpoint()

    async def listen_close(self, network: INetwork, multiaddr: Multiaddr) -> None:
        await trio.lowlevel.checkpoint()


class _KiezPubsub(Pubsub):
    """py-libp2p's Pubsub with the graylist and ban gate in front of messages and subscriptions,
    and a budget for subscription changes (see the module docstring)."""

    def __init__(
        self,
        host: Any,
        router: GossipSub,
        defence: _Defence,
        *,
        seen_ttl: int,
        validation_timeout: float,
    ) -> None:
        self.defence = defence
        super().__init__(
            host,
            router,
            seen_ttl=seen_ttl,
            strict_signing=True,
            msg_id_constructor=message_id,
            validation_timeout=validation_timeout,
        )

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        # Before the seen check, the signature check and the validator: a graylisted or banned
        # peer's messages cost nothing more than reading them.
        if self.defence.refuses(msg_forwarder):
            return
        await super().push_msg(msg_forwarder, msg)

    def handle_subscription(self, origin_id: ID, sub_message: rpc_pb2.RPC.SubOpts) -> None:
        if self.defence.refuses(origin_id) or not self.defence.allow_subscription_change(origin_id):
            return
        super().handle_subscription(origin_id, sub_message)

    def _is_subscribed_to_msg(self, msg: rpc_pb2.Message) -> bool:
        """Whether the stream reader should process ``msg``: a topic of ours and not seen yet.

        py-libp2p 0.8.1's reader (pubsub.py ``continuously_read_stream``) spawns one managed task
        per received message (``manager.run_task(self.push_msg, ...)``: a FunctionTask registered
        in the service's task tree, a trio task, a name) before ``push_msg`` looks at the seen
        cache. With a mesh of degree D, D-1 of every D copies a node receives are duplicates, and
        their tasks were ~30 % of node CPU in scripts/bench_gossip.py. This check runs in the
        reader itself, just before the spawn, so duplicates cost a hash and a lookup. (What it
        skips for them, ``push_msg``, returns at its seen check anyway; only our graylist gate
        in front of it no longer books a strike for a graylisted peer's *duplicate* copies.)
        """
        return super()._is_subscribed_to_msg(msg) and not self.seen_messages.has(message_id(msg))


class _KiezGossipSub(GossipSub):
    """py-libp2p's GossipSub ignoring control messages (IHAVE, IWANT, GRAFT, PRUNE) from graylisted
    and banned peers: py only refuses a graylisted peer's GRAFT (gossipsub.py ``handle_graft``);
    and sending its signed peer record once per stream rather than in every RPC.

    py-libp2p 0.8.1 attaches the node's signed peer record (``senderRecord``, an Envelope of
    ~200 bytes, added by libp2p/py-libp2p#889) to every RPC it sends: each forwarded message,
    each control message. Every py receiver then parses it and checks its ed25519 signature, twice
    per RPC (pubsub.py ``continuously_read_stream`` and gossipsub.py ``handle_rpc`` both call
    ``maybe_consume_signed_record``): about 5 % of all node CPU in scripts/bench_gossip.py, for
    a record that never changes while the node runs. The hello packet that opens each pubsub
    stream (pubsub.py ``get_hello_packet``, not sent through here) still carries it, so a py peer
    learns our record once per stream; js and go peers ignore the field anyway.
    """

    defence: _Defence | None = None

    async def handle_rpc(self, rpc: rpc_pb2.RPC, sender_peer_id: ID) -> None:
        if self.defence is not None and self.defence.refuses(sender_peer_id):
            return
        await super().handle_rpc(rpc, sender_peer_id)

    def send_rpc(self, peer_id: ID, rpc: rpc_pb2.RPC, priority: bool = False) -> None:
        # The RPC object is built once and sent to several peers: clearing it once is enough.
        if rpc.HasField("senderRecord"):
            rpc.ClearField("senderRecord")
        super().send_rpc(peer_id, rpc, priority)


class Gossip:
    """Subscribe, publish and inspect the mesh. Created by ``open_gossip`` only."""

    def __init__(
        self,
        pubsub: Pubsub,
        router: GossipSub,
        config: GossipConfig,
        validator: Validator,
        nursery: trio.Nursery,
        defence: _Defence,
    ) -> None:
        self._pubsub = pubsub
        self._router = router
        self._config = config
        self._validator = validator
        self._nursery = nursery
        self._defence = defence
        self._my_id = pubsub.my_id
        self._topics: set[str] = set()
        self._validating: set[bytes] = set()  # ids whose first copy is being validated
        # Peers whose queue stayed full for a whole wait: the queue we saw stuck, and when.
        self._stalled: dict[ID, tuple[RpcQueue, float]] = {}

    async def subscribe(self, topic: str) -> None:
        """Join ``topic``: validate, forward and store its messages from now on (idempotent)."""
        if topic in self._topics:
            return
        # The validator must be in place before the subscription announcement goes out.
        self._pubsub.set_topic_validator(topic, functools.partial(self._validate, topic), is_async_validator=True)
        self._topics.add(topic)
        # Peers' subscriptions to other topics are not even recorded: we never publish there, and
        # each recorded subscription costs py-libp2p tasks and memory (pubsub.py handle_subscription).
        self._pubsub.allowed_topics = frozenset(self._topics)
        self._defence.topics = sorted(self._topics)
        subscription = await self._pubsub.subscribe(topic)
        self._nursery.start_soon(self._drain, topic, subscription)
        logger.info("subscribed to topic %s", topic)

    async def publish(self, topic: str, data: bytes) -> None:
        """Sign and send ``data`` (already validated and stored by the caller) to ``topic``'s mesh."""
        if len(data) > self._config.max_message_size:
            raise MessageTooLarge(len(data), self._config.max_message_size)
        if topic not in self._topics:
            raise NotSubscribed(topic)
        await self._wait_for_queue_room()
        await self._pubsub.publish(topic, data)

    def mesh_peers(self, topic: str) -> list[str]:
        """Peers we exchange every ``topic`` message with (gossipsub mesh), sorted."""
        return sorted(peer.to_base58() for peer in self._router.mesh.get(topic, set()))

    def peers(self) -> list[str]:
        """Peers we have an open pubsub stream with, sorted."""
        return sorted(peer.to_base58() for peer in self._pubsub.peers)

    def topic_peers(self, topic: str) -> list[str]:
        """Peers that told us they subscribe to ``topic``, sorted."""
        return sorted(peer.to_base58() for peer in self._pubsub.peer_topics.get(topic, set()))

    def blame(self, peer_id: str, reason: str) -> None:
        """Book a verdict reached after the fact as a REJECT of ``peer_id``: behaviour penalty and
        strike, as if the validator had rejected the message then (see ``NodeService`` for the case:
        a post from an unknown key first IGNOREd because our chain view was behind)."""
        self._defence.misbehaved(ID.from_base58(peer_id), reason)

    def is_banned(self, peer_id: str) -> bool:
        return self._defence.is_banned(ID.from_base58(peer_id))

    def defence_status(self) -> dict[str, Any]:
        """Strikes, bans, graylisted peers, scores and stalled peers, for the node's status."""
        return {
            **self._defence.status(list(self._pubsub.peers)),
            "stalled": sorted(peer.to_base58() for peer in self._stalled),
        }

    async def _wait_for_queue_room(self) -> None:
        """Wait while a peer's outbound queue is crowded, except for peers already found stalled."""
        with trio.move_on_after(self._config.backpressure_max_wait_s):
            # Polled (py's RpcQueue signals nothing), backing off: a crowded queue means the node
            # is short of CPU, and ten validators polling every 2 ms took ~6 % of it then.
            pause = _QUEUE_POLL_S
            while self._crowded_peers():
                await trio.sleep(pause)
                pause = min(2 * pause, _QUEUE_POLL_MAX_S)
            return
        stalled = self._crowded_peers()
        now = time.monotonic()
        for peer in stalled:
            self._stalled[peer] = (self._pubsub.peer_queues[peer], now)
        if stalled:
            names = ", ".join(peer.to_base58() for peer in stalled)
            logger.warning("peer(s) %s stopped draining their queue; not waiting for them", names)

    def _crowded_peers(self) -> list[ID]:
        """Peers whose queue is crowded, leaving out those found stalled.

        A stall is remembered by peer id for ``stall_memory_s`` after it was last seen stuck, not
        by queue: when a peer stops reading, py-libp2p gives up its stream after 5 s at a zero yamux
        window (yamux.py ``write``), drops the peer and its subscriptions (pubsub.py
        ``_handle_dead_peer``) and opens a new stream with a new, empty queue; a peer that then
        subscribes again would otherwise cost every publisher a full wait per cycle. Only the very
        queue we saw stuck draining again proves the peer reads again.
        """
        limit = self._config.publish_backpressure_at
        queues = self._pubsub.peer_queues
        now = time.monotonic()
        crowded = []
        for peer, queue in queues.items():
            stall = self._stalled.get(peer)
            if len(queue) >= limit:
                if stall is None:
                    crowded.append(peer)
                else:
                    self._stalled[peer] = (queue, now)  # still stuck: remember it longer
            elif stall is not None and stall[0] is queue:
                del self._stalled[peer]  # the queue we saw stuck drains: wait for it next time
        memory = self._config.stall_memory_s
        for peer in [peer for peer, (_, seen) in self._stalled.items() if now - seen > memory]:
            del self._stalled[peer]
        return crowded

    async def _validate(self, topic: str, forwarder: ID, msg: rpc_pb2.Message) -> bool:
        """py-libp2p's async topic validator: our checks, then the node's validator once per message."""
        if forwarder == self._my_id:
            return True  # our own publish: the caller validated and stored it (see module docstring)
        if len(msg.data) > self._config.max_message_size or len(msg.topicIDs) != 1:
            logger.debug("refused oversized or multi-topic message from peer %s", forwarder)
            self._defence.misbehaved(forwarder, OVER_SIZE_CAP)
            return False
        mid = message_id(msg)
        if mid in self._validating or self._pubsub.seen_messages.has(mid):
            # A copy of a message still being validated (see module docstring), or one that py's
            # seen check let through just before the first copy's verdict (its validator task
            # starts a checkpoint after that check).
            return False
        self._validating.add(mid)
        try:
            judgement = await self._node_verdict(topic, mid, msg.data, forwarder)
            if judgement.verdict is P2PVerdict.REJECT:
                logger.debug("rejected message %s from peer %s: %s", mid.hex(), forwarder, judgement.reason)
                self._defence.misbehaved(forwarder, judgement.reason or "rejected")
            if judgement.verdict is not P2PVerdict.ACCEPT:
                return False
            await self._wait_for_queue_room()  # py forwards right after we return
            # Seen from now on. py marks it only once its validator nursery has closed, a
            # checkpoint later, and a copy arriving in between passed both its seen check and
            # ``_validating`` (cleared below) and was validated and forwarded a second time.
            self._pubsub.seen_messages.add(mid)
            return True
        finally:
            self._validating.discard(mid)

    async def _node_verdict(self, topic: str, mid: bytes, data: bytes, forwarder: ID) -> Judgement:
        try:
            answer = await self._validator(topic, data, forwarder.to_base58())
        except Exception:
            # A raising validator must not take pubsub down with it; treat it as "not now".
            logger.exception("validator failed on message %s from peer %s; ignoring it", mid.hex(), forwarder)
            return Judgement(P2PVerdict.IGNORE, "validator_failed")
        return answer if isinstance(answer, Judgement) else Judgement(answer)

    async def _drain(self, topic: str, subscription: ISubscriptionAPI) -> None:
        """Empty the subscription channel so py-libp2p never drops into a full one; storing
        already happened in the validator, and our own publishes come back here too."""
        async for _msg in subscription:
            pass
        logger.debug("subscription to %s closed", topic)


class _InboundStreams:
    """Runs py-libp2p's pubsub stream readers inside our nursery instead of the swarm's tasks.

    py-libp2p reads each peer's inbound pubsub stream in the swarm's connection task, which
    outlives Pubsub. A message arriving while Pubsub stops made the reader spawn a task into
    Pubsub's closed nursery; the RuntimeError escaped into the swarm and failed the whole host
    (seen under CPU load in our tests). Owning the readers lets us cancel them first.
    """

    def __init__(self, pubsub: Pubsub, defence: _Defence) -> None:
        self._pubsub = pubsub
        self._defence = defence
        self.nursery: trio.Nursery | None = None

    async def handle(self, stream: INetStream) -> None:
        """The stream handler we register for the gossip protocols."""
        if self.nursery is None:  # before Pubsub runs or once it is stopping: the peer will retry
            await stream.reset()
            return
        peer = stream.muxed_conn.peer_id
        if self._defence.is_banned(peer):  # its connection is being closed; read nothing from it
            self._defence.guard.refused(peer.to_base58())
            await stream.reset()
            return
        done = trio.Event()
        self.nursery.start_soon(self._read, stream, done)
        await done.wait()

    async def _read(self, stream: INetStream, done: trio.Event) -> None:
        try:
            await self._pubsub.stream_handler(stream)
        finally:
            done.set()
            with trio.CancelScope(deadline=trio.current_time() + 1, shield=True):
                await stream.reset()  # cancelled or finished: let the peer know at once


@asynccontextmanager
async def open_gossip(host: P2PHost, config: GossipConfig, validator: Validator) -> AsyncIterator[Gossip]:
    """Run gossipsub on ``host`` for the duration of the block."""
    config.validate()
    libp2p_host = host.libp2p_host
    params = score_params(config)
    router = _KiezGossipSub(
        protocols=GOSSIP_PROTOCOLS,
        degree=config.mesh_degree,
        degree_low=config.mesh_degree_low,
        degree_high=config.mesh_degree_high,
        gossip_window=config.gossip_window,
        gossip_history=config.gossip_history,
        heartbeat_interval=config.heartbeat_interval_s,
        score_params=params,
        adaptive_gossip_enabled=config.adaptive_gossip,
        spam_protection_enabled=config.spam_protection,
        eclipse_protection_enabled=config.eclipse_protection,
    )
    router.mcache = _ContentIdMessageCache(config.gossip_window, config.gossip_history)
    scorer = _KiezScorer(params, config.score_decay_interval_s)
    router.scorer = scorer
    defence = _Defence(config, scorer, host, libp2p_host.get_id())
    router.defence = defence
    pubsub = _KiezPubsub(
        libp2p_host, router, defence, seen_ttl=config.seen_ttl_s, validation_timeout=config.validation_timeout_s
    )
    pubsub.validation_cache = _NoVerdictCache()
    pubsub.counter = time.time_ns()
    inbound = _InboundStreams(pubsub, defence)
    for protocol in GOSSIP_PROTOCOLS:  # replaces the handlers Pubsub registered
        libp2p_host.set_stream_handler(protocol, inbound.handle)
    notifee = _BanNotifee(defence)
    swarm = libp2p_host.get_network()
    swarm.register_notifee(notifee)
    host.refuse_peers(lambda peer_id: defence.is_banned(ID.from_base58(peer_id)))
    try:
        async with background_trio_service(pubsub), background_trio_service(router):
            await pubsub.wait_until_ready()
            async with trio.open_nursery() as nursery:
                inbound.nursery = nursery
                defence.nursery = nursery
                nursery.start_soon(defence.expire_bans)
                # Peers connected before Pubsub existed never reach its connection notifee.
                for peer in libp2p_host.get_connected_peers():
                    nursery.start_soon(pubsub.ensure_peer_stream, peer)
                try:
                    yield Gossip(pubsub, router, config, validator, nursery, defence)
                finally:
                    inbound.nursery = None
                    defence.nursery = None
                    nursery.cancel_scope.cancel()
    finally:
        host.refuse_peers(None)
        if isinstance(swarm, Swarm):
            swarm.remove_notifee(notifee)
        for protocol in GOSSIP_PROTOCOLS:
            libp2p_host.remove_stream_handler(protocol)
        # The seen cache sweeps in a background *thread* that py-libp2p never stops.
        pubsub.seen_messages.stop()
