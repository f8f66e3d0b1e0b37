"""Gossipsub for kiez: content-addressed, signed, validated-then-stored, paced.

``open_gossip(host, config, validator)`` runs py-libp2p's ``Pubsub`` + ``GossipSub`` for the
duration of the block and yields a ``Gossip``, the facade the node uses. What py-libp2p 0.8.1's
internals needed changed for it lives in ``libp2p_compat`` (each patch names its upstream
issue); the gate and the ban ledger in defence.py; the score parameters in scoring.py.

Message ids are ``sha256(data)`` (verdicts.py ``message_id``): the same signed post reaches a node
once however many members or peers republish it. Messages are signed by the peer key and checked
on receipt (StrictSign).

Verdicts. py-libp2p 0.8.1 validators return a bool; there is no ignore/reject distinction
(pubsub.py ``validate_msg``/``push_msg``). A ``False`` is not forwarded, not marked seen, and is
counted against the forwarding peer by ``scorer.on_invalid_message`` (P4). We map:

- ``ACCEPT`` -> ``True``: marked seen, forwarded to the mesh, delivered to the subscription.
- ``IGNORE`` -> ``False``: dropped, nothing else. The P4 weight stays 0, or IGNORE would penalise
  honest peers whenever our chain view is behind.
- ``REJECT`` -> ``False``, a behaviour penalty for the forwarder (P5, +1) and a strike in the
  misbehaviour ledger (defence.py). The validator may return a ``Judgement`` to name the reason,
  which the ledger counts. ``Gossip.blame`` books the same for a verdict reached later (a message
  first IGNOREd because our chain view was behind, then found invalid).

Not done: py-libp2p's pubsub blacklist (pubsub.py ``add_to_blacklist``; upstream calls its
management unfinished in libp2p/py-libp2p#706, open). It refuses no connection, and it would also
drop messages a banned peer *originated* that honest peers relay; kiez validates content, not
origins, and relayed valid posts must flow. Subscriptions to topics we do not serve are not even
recorded (py's ``allowed_topics``).

py-libp2p marks a message seen only *after* validation, so copies arriving from other peers while
the first is validated would each run the validator and each be forwarded again; like go-libp2p
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

import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio
from libp2p.abc import ISubscriptionAPI
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue

from node.p2p.config import GossipConfig
from node.p2p.defence import OVER_SIZE_CAP, Defence
from node.p2p.errors import MessageTooLarge, NotSubscribed
from node.p2p.host import P2PHost
from node.p2p.libp2p_compat import require_supported_libp2p
from node.p2p.libp2p_compat.pubsub import InboundStreams, KiezPubsub, build_router, running
from node.p2p.libp2p_compat.scorer import KiezScorer
from node.p2p.libp2p_compat.swarm import refusing_banned
from node.p2p.scoring import score_params
from node.p2p.verdicts import Judgement, P2PVerdict, Validator, message_id

__all__ = ["GOSSIP_PROTOCOLS", "Gossip", "Judgement", "P2PVerdict", "Validator", "message_id", "open_gossip"]

logger = logging.getLogger(__name__)

# /meshsub/1.1.0 is what js-libp2p interop was measured with. We do not offer 1.2: py-libp2p
# sends each IDONTWANT as its own control RPC to every mesh peer, after validation
# (gossipsub.py, _emit_idontwant_for_message), which doubled CPU per message in our 200-message
# test and, sharing the 32-slot queue, made it overflow six times sooner.
GOSSIP_PROTOCOLS: list[TProtocol] = [PROTOCOL_ID_V11, PROTOCOL_ID]
_QUEUE_POLL_S = 0.002
_QUEUE_POLL_MAX_S = 0.032


class Gossip:
    """Subscribe, publish and inspect the mesh. Created by ``open_gossip`` only."""

    def __init__(
        self,
        pubsub: Pubsub,
        router: GossipSub,
        config: GossipConfig,
        validator: Validator,
        nursery: trio.Nursery,
        defence: Defence,
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
        if not self._crowded_peers():
            return  # the common case, once per message: no cancel scope to set up and tear down
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


@asynccontextmanager
async def open_gossip(host: P2PHost, config: GossipConfig, validator: Validator) -> AsyncIterator[Gossip]:
    """Run gossipsub on ``host`` for the duration of the block."""
    require_supported_libp2p()
    config.validate()
    libp2p_host = host.libp2p_host
    params = score_params(config)
    scorer = KiezScorer(params, config.score_decay_interval_s)
    defence = Defence(config, scorer, host, libp2p_host.get_id())
    router = build_router(GOSSIP_PROTOCOLS, config, params, scorer, defence)
    pubsub = KiezPubsub(
        libp2p_host, router, defence, seen_ttl=config.seen_ttl_s, validation_timeout=config.validation_timeout_s
    )
    inbound = InboundStreams(pubsub, defence)
    host.refuse_peers(lambda peer_id: defence.is_banned(ID.from_base58(peer_id)))
    try:
        with inbound.installed(libp2p_host, GOSSIP_PROTOCOLS), refusing_banned(libp2p_host, defence):
            async with running(pubsub, router), trio.open_nursery() as nursery:
                inbound.nursery = nursery
                inbound.own_message_tasks()
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
