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
- ``IGNORE`` -> ``False``: dropped, nothing else. Keep the P4 weight at 0 (py's default), or
  IGNORE would penalise honest peers whenever our chain view is behind.
- ``REJECT`` -> ``False`` and ``router.scorer.penalize_behavior(forwarder)`` (P5). That is where
  a peer penalty bites: with py's default ``ScoreParams`` every weight is 0, so today it only
  records; give GossipSub ``ScoreParams(p5_behavior_penalty_weight=..., graylist_threshold=...)``
  to make repeated rejects cut a peer off.

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
that long is not waited for again until it drains, so one stuck peer costs one wait, not one per
message (it misses messages meanwhile and catches up through sync). Every subscription channel
is drained in its own task.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio
from libp2p.abc import INetStream, ISubscriptionAPI
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.mcache import CacheEntry, MessageCache
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub, ValidationCache, ValidationResult
from libp2p.tools.anyio_service import background_trio_service

from node.p2p.config import GossipConfig
from node.p2p.errors import MessageTooLarge, NotSubscribed
from node.p2p.host import P2PHost

logger = logging.getLogger(__name__)

# /meshsub/1.1.0 is what js-libp2p interop was measured with (DESIGN section 9). We do not offer
# 1.2: py-libp2p sends each IDONTWANT as its own control RPC to every mesh peer, after validation
# (gossipsub.py, _emit_idontwant_for_message), which doubled CPU per message in our 200-message
# test and, sharing the 32-slot queue, made it overflow six times sooner.
GOSSIP_PROTOCOLS: list[TProtocol] = [PROTOCOL_ID_V11, PROTOCOL_ID]
_QUEUE_POLL_S = 0.002


class P2PVerdict(enum.Enum):
    """What the validator decided about a gossiped message (see the module docstring)."""

    ACCEPT = "accept"  # valid and stored: forward it
    IGNORE = "ignore"  # not now (duplicate, chain view behind, ...): drop, blame nobody
    REJECT = "reject"  # invalid: drop and penalise the peer that sent it


Validator = Callable[[str, bytes, str], Awaitable[P2PVerdict]]


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


class Gossip:
    """Subscribe, publish and inspect the mesh. Created by ``open_gossip`` only."""

    def __init__(
        self,
        pubsub: Pubsub,
        router: GossipSub,
        config: GossipConfig,
        validator: Validator,
        nursery: trio.Nursery,
    ) -> None:
        self._pubsub = pubsub
        self._router = router
        self._config = config
        self._validator = validator
        self._nursery = nursery
        self._my_id = pubsub.my_id
        self._topics: set[str] = set()
        self._validating: set[bytes] = set()  # ids whose first copy is being validated
        self._stalled: set[ID] = set()  # peers whose queue stayed full for a whole wait

    async def subscribe(self, topic: str) -> None:
        """Join ``topic``: validate, forward and store its messages from now on (idempotent)."""
        if topic in self._topics:
            return
        # The validator must be in place before the subscription announcement goes out.
        self._pubsub.set_topic_validator(topic, functools.partial(self._validate, topic), is_async_validator=True)
        subscription = await self._pubsub.subscribe(topic)
        self._topics.add(topic)
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

    async def _wait_for_queue_room(self) -> None:
        """Wait while a peer's outbound queue is crowded, except for peers already found stalled."""
        with trio.move_on_after(self._config.backpressure_max_wait_s):
            while self._crowded_peers():
                await trio.sleep(_QUEUE_POLL_S)
            return
        stalled = self._crowded_peers()
        self._stalled.update(stalled)
        if stalled:
            names = ", ".join(peer.to_base58() for peer in stalled)
            logger.warning("peer(s) %s stopped draining their queue; not waiting for them", names)

    def _crowded_peers(self) -> list[ID]:
        limit = self._config.publish_backpressure_at
        queues = self._pubsub.peer_queues
        self._stalled.intersection_update(queues)  # forget peers that went away
        crowded = []
        for peer, queue in queues.items():
            if len(queue) < limit:
                self._stalled.discard(peer)  # draining again: wait for it next time
            elif peer not in self._stalled:
                crowded.append(peer)
        return crowded

    async def _validate(self, topic: str, forwarder: ID, msg: rpc_pb2.Message) -> bool:
        """py-libp2p's async topic validator: our checks, then the node's validator once per message."""
        if forwarder == self._my_id:
            return True  # our own publish: the caller validated and stored it (see module docstring)
        if len(msg.data) > self._config.max_message_size or len(msg.topicIDs) != 1:
            logger.debug("refused oversized or multi-topic message from peer %s", forwarder)
            self._penalise(forwarder)
            return False
        mid = message_id(msg)
        if mid in self._validating:
            return False  # a copy of a message still being validated (see module docstring)
        self._validating.add(mid)
        try:
            verdict = await self._node_verdict(topic, mid, msg.data, forwarder)
            if verdict is P2PVerdict.REJECT:
                logger.debug("rejected message %s from peer %s", mid.hex(), forwarder)
                self._penalise(forwarder)
            if verdict is not P2PVerdict.ACCEPT:
                return False
            await self._wait_for_queue_room()  # py forwards right after we return
            return True
        finally:
            self._validating.discard(mid)

    async def _node_verdict(self, topic: str, mid: bytes, data: bytes, forwarder: ID) -> P2PVerdict:
        try:
            return await self._validator(topic, data, forwarder.to_base58())
        except Exception:
            # A raising validator must not take pubsub down with it; treat it as "not now".
            logger.exception("validator failed on message %s from peer %s; ignoring it", mid.hex(), forwarder)
            return P2PVerdict.IGNORE

    def _penalise(self, peer: ID) -> None:
        if self._router.scorer is not None:
            self._router.scorer.penalize_behavior(peer)

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

    def __init__(self, pubsub: Pubsub) -> None:
        self._pubsub = pubsub
        self.nursery: trio.Nursery | None = None

    async def handle(self, stream: INetStream) -> None:
        """The stream handler we register for the gossip protocols."""
        if self.nursery is None:  # before Pubsub runs or once it is stopping: the peer will retry
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
    router = GossipSub(
        protocols=GOSSIP_PROTOCOLS,
        degree=config.mesh_degree,
        degree_low=config.mesh_degree_low,
        degree_high=config.mesh_degree_high,
        gossip_window=config.gossip_window,
        gossip_history=config.gossip_history,
        heartbeat_interval=config.heartbeat_interval_s,
        adaptive_gossip_enabled=config.adaptive_gossip,
        spam_protection_enabled=config.spam_protection,
        eclipse_protection_enabled=config.eclipse_protection,
    )
    router.mcache = _ContentIdMessageCache(config.gossip_window, config.gossip_history)
    pubsub = Pubsub(
        libp2p_host,
        router,
        seen_ttl=config.seen_ttl_s,
        strict_signing=True,
        msg_id_constructor=message_id,
        validation_timeout=config.validation_timeout_s,
    )
    pubsub.validation_cache = _NoVerdictCache()
    pubsub.counter = time.time_ns()
    inbound = _InboundStreams(pubsub)
    for protocol in GOSSIP_PROTOCOLS:  # replaces the handlers Pubsub registered
        libp2p_host.set_stream_handler(protocol, inbound.handle)
    try:
        async with background_trio_service(pubsub), background_trio_service(router):
            await pubsub.wait_until_ready()
            async with trio.open_nursery() as nursery:
                inbound.nursery = nursery
                # Peers connected before Pubsub existed never reach its connection notifee.
                for peer in libp2p_host.get_connected_peers():
                    nursery.start_soon(pubsub.ensure_peer_stream, peer)
                try:
                    yield Gossip(pubsub, router, config, validator, nursery)
                finally:
                    inbound.nursery = None
                    nursery.cancel_scope.cancel()
    finally:
        for protocol in GOSSIP_PROTOCOLS:
            libp2p_host.remove_stream_handler(protocol)
        # The seen cache sweeps in a background *thread* that py-libp2p never stops.
        pubsub.seen_messages.stop()
