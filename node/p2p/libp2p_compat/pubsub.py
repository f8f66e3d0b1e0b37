"""py-libp2p's Pubsub and GossipSub with kiez's gate in front of every RPC, and their streams.

The gate (``PeerGate``, implemented by defence.py's ``Defence``) decides; these subclasses only
put it where py-libp2p 0.8.1 offers no hook. Upstream: libp2p/py-libp2p#871 (open) tracks
integrating the score into graylisting; the spec ignores every RPC of a graylisted peer, while
py-libp2p only drops its messages (pubsub.py ``push_msg``, publish-threshold gate) and its GRAFTs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

import libp2p.pubsub.gossipsub as gossipsub_module
import trio
from libp2p.abc import IHost, INetConn, INetStream
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.peer.peerstore import env_to_send_in_RPC
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.pubsub.score import ScoreParams
from libp2p.tools.anyio_service import background_trio_service

from node.p2p.config import GossipConfig
from node.p2p.libp2p_compat.caches import ContentIdMessageCache, NoVerdictCache
from node.p2p.libp2p_compat.framing import BufferedStream, send_loop
from node.p2p.libp2p_compat.scorer import KiezScorer
from node.p2p.verdicts import message_id

logger = logging.getLogger(__name__)


class PeerGate(Protocol):
    """What the subclasses below ask before doing any work for a peer (see defence.py)."""

    def refuses(self, peer: ID) -> bool: ...
    def is_banned(self, peer: ID) -> bool: ...
    def allow_subscription_change(self, peer: ID) -> bool: ...
    def refused_stream(self, peer: ID) -> None: ...
    def refuse_connection(self, conn: INetConn) -> None: ...


class KiezPubsub(Pubsub):
    """py-libp2p's Pubsub with the graylist and ban gate in front of messages and subscriptions,
    a budget for subscription changes, no verdict cache (caches.py) and sequence numbers that
    start at the current time in nanoseconds.

    Seqnos: py-libp2p starts them at whole seconds (no upstream issue), so a node that published
    a burst and restarted within the same seconds reused (from, seqno) pairs, which peers'
    equivocation check drops without forwarding (gossipsub.py, ``_check_equivocation``); go-libp2p
    starts at nanoseconds. Messages are signed by the peer key and checked on receipt (StrictSign),
    which js-libp2p needs for interop.

    Each peer's outbound queue is written a burst per write, merged into few RPCs (framing.py).
    """

    def __init__(
        self,
        host: IHost,
        router: GossipSub,
        gate: PeerGate,
        *,
        seen_ttl: int,
        validation_timeout: float,
    ) -> None:
        self.defence = gate
        super().__init__(
            host,
            router,
            seen_ttl=seen_ttl,
            strict_signing=True,
            msg_id_constructor=message_id,
            validation_timeout=validation_timeout,
        )
        self.validation_cache = NoVerdictCache()
        self.counter = time.time_ns()

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        # Before the seen check, the signature check and the validator: a graylisted or banned
        # peer's messages cost nothing more than reading them.
        if self.defence.refuses(msg_forwarder):
            return
        await super().push_msg(msg_forwarder, msg)

    async def handle_sending_messages(self, peer_id: ID, stream: INetStream, queue: RpcQueue) -> None:
        # py's loop writes one RPC per write (framing.py); like it, any failure drops the peer.
        try:
            await send_loop(stream, queue)
        except Exception as error:
            logger.debug("sending to peer %s stopped: %r", peer_id, error)
            self._handle_dead_peer(peer_id)

    def handle_subscription(self, origin_id: ID, sub_message: rpc_pb2.RPC.SubOpts) -> None:
        if self.defence.refuses(origin_id) or not self.defence.allow_subscription_change(origin_id):
            return
        super().handle_subscription(origin_id, sub_message)

    def _is_subscribed_to_msg(self, msg: rpc_pb2.Message) -> bool:
        """Whether the stream reader should process ``msg``: a topic of ours and not seen yet.

        py-libp2p 0.8.1's reader (pubsub.py ``continuously_read_stream``) spawns one managed task
        per received message (``manager.run_task(self.push_msg, ...)``: a FunctionTask registered
        in the service's task tree, a trio task, a name) before ``push_msg`` looks at the seen
        cache (no upstream issue). With a mesh of degree D, D-1 of every D copies a node receives
        are duplicates, and their tasks were ~30 % of node CPU in scripts/bench_gossip.py. This
        check runs in the reader itself, just before the spawn, so duplicates cost a hash and a
        lookup. (What it skips for them, ``push_msg``, returns at its seen check anyway; only our
        graylist gate in front of it no longer books a strike for a graylisted peer's *duplicate*
        copies.)
        """
        return super()._is_subscribed_to_msg(msg) and not self.seen_messages.has(message_id(msg))


class KiezGossipSub(GossipSub):
    """py-libp2p's GossipSub ignoring control messages (IHAVE, IWANT, GRAFT, PRUNE) from graylisted
    and banned peers: py only refuses a graylisted peer's GRAFT (gossipsub.py ``handle_graft``;
    py-libp2p#871); and sending its signed peer record once per stream rather than in every RPC.

    py-libp2p 0.8.1 attaches the node's signed peer record (``senderRecord``, an Envelope of
    ~200 bytes, added by libp2p/py-libp2p#889) to every RPC it sends: each forwarded message,
    each control message. Every py receiver then parses it and checks its ed25519 signature, twice
    per RPC (pubsub.py ``continuously_read_stream`` and gossipsub.py ``handle_rpc`` both call
    ``maybe_consume_signed_record``): about 5 % of all node CPU in scripts/bench_gossip.py, for
    a record that never changes while the node runs. The hello packet that opens each pubsub
    stream (pubsub.py ``get_hello_packet``, not sent through here) still carries it, so a py peer
    learns our record once per stream; js and go peers ignore the field anyway.

    The message cache and the scorer py builds are replaced by ``ContentIdMessageCache`` and
    ``KiezScorer`` (see their docstrings).
    """

    defence: PeerGate | None = None

    async def handle_rpc(self, rpc: rpc_pb2.RPC, sender_peer_id: ID) -> None:
        if self.defence is not None and self.defence.refuses(sender_peer_id):
            return
        await super().handle_rpc(rpc, sender_peer_id)

    def send_rpc(self, peer_id: ID, rpc: rpc_pb2.RPC, priority: bool = False) -> None:
        # The RPC object is built once and sent to several peers: clearing it once is enough.
        if rpc.HasField("senderRecord"):
            rpc.ClearField("senderRecord")
        # py copies the RPC for every peer and runs its splitter on the copy, to piggyback control
        # that failed to go out earlier (gossipsub.py ``send_rpc``): ~3 % of node CPU for copies
        # that nothing changes. Without such control and within the size limit, every peer's queue
        # takes the one RPC object (nothing mutates a queued RPC; framing.py serialises it).
        queue = self.pubsub.peer_queues.get(peer_id) if self.pubsub is not None else None
        if queue is None or peer_id in self._pending_control or rpc.ByteSize() > queue.max_message_size:
            super().send_rpc(peer_id, rpc, priority)
        elif not queue.push(rpc, priority=priority):
            self._handle_dropped_rpc(peer_id, rpc, "queue_full")


def _known_sender_record(host: IHost) -> tuple[bytes, bool]:
    """The host's signed peer record as last issued, without re-checking its addresses."""
    record = host.get_peerstore().get_local_record()
    return (record.marshal_envelope(), False) if record is not None else env_to_send_in_RPC(host)


def install_known_sender_record() -> None:
    """Make gossipsub stop rebuilding the signed peer record for every message it forwards.

    py-libp2p 0.8.1's ``GossipSub.publish`` calls ``env_to_send_in_RPC`` per message
    (libp2p/py-libp2p#889), which lists and compares the host's addresses (``get_addrs`` builds a
    multiaddr per address) and re-serialises the envelope: about 8 % of node CPU in
    scripts/bench_gossip.py, for a field ``KiezGossipSub.send_rpc`` then clears. The one place a
    gossipsub RPC still carries it (messages held for a peer until its subscriptions arrive,
    gossipsub.py ``flush_pending_messages``) gets the last issued record; the hello, which pubsub.py
    builds with the original function, re-issues it when the addresses change. Process-wide (a
    module attribute) and idempotent, like yamux.py's patch.
    """
    # gossipsub.py imports the function into its namespace; that name is what publish calls.
    if gossipsub_module.env_to_send_in_RPC is not _known_sender_record:  # type: ignore[attr-defined]
        gossipsub_module.env_to_send_in_RPC = _known_sender_record  # type: ignore[attr-defined]


def build_router(
    protocols: Sequence[TProtocol], config: GossipConfig, params: ScoreParams, scorer: KiezScorer, gate: PeerGate
) -> KiezGossipSub:
    """The gossipsub router for ``config``, with our message cache, scorer and gate swapped in."""
    install_known_sender_record()
    router = KiezGossipSub(
        protocols=list(protocols),
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
    router.mcache = ContentIdMessageCache(config.gossip_window, config.gossip_history)
    router.scorer = scorer
    router.defence = gate
    return router


@asynccontextmanager
async def running(pubsub: Pubsub, router: GossipSub) -> AsyncIterator[None]:
    """Run Pubsub and the router as py-libp2p services for the duration of the block, and stop
    the seen cache's sweeper afterwards: it runs in a background *thread* that py-libp2p never
    stops (no upstream issue)."""
    try:
        async with background_trio_service(pubsub), background_trio_service(router):
            await pubsub.wait_until_ready()
            yield
    finally:
        pubsub.seen_messages.stop()


class InboundStreams:
    """Runs py-libp2p's pubsub stream readers inside our nursery instead of the swarm's tasks.

    Upstream behaviour worked around (no upstream issue): py-libp2p reads each peer's inbound
    pubsub stream in the swarm's connection task, which outlives Pubsub. A message arriving while
    Pubsub stops made the reader spawn a task into Pubsub's closed nursery; the RuntimeError
    escaped into the swarm and failed the whole host (seen under CPU load in our tests). Owning
    the readers lets us cancel them first. Streams of banned peers are reset unread.
    """

    def __init__(self, pubsub: Pubsub, gate: PeerGate) -> None:
        self._pubsub = pubsub
        self._gate = gate
        self.nursery: trio.Nursery | None = None

    def own_message_tasks(self) -> None:
        """Run the readers' per-message tasks (``push_msg``) as plain tasks of our nursery.

        py-libp2p 0.8.1's reader hands every new message to its service manager
        (``manager.run_task``, no upstream issue), which builds a FunctionTask, names it, and finds
        its parent by walking every task the service has (``TrioManager._find_parent_task``): a
        cost that grows with the messages in flight, so a node short of CPU slows further, about
        5 % of node CPU at 50 posts/s in scripts/bench_gossip.py. And a message whose handling
        raised cancelled the whole pubsub service. Here the task is one ``start_soon``, an error
        is logged and the node goes on, and a message arriving while gossip stops is dropped
        (its sender's other peers, or sync, bring it). Patches this Pubsub's manager only (an
        instance attribute); call it once Pubsub runs.
        """
        pubsub = self._pubsub
        manager = pubsub.manager
        managed = manager.run_task

        def run_task(async_fn: Any, *args: Any, **kwargs: Any) -> None:
            if async_fn != pubsub.push_msg or kwargs:
                managed(async_fn, *args, **kwargs)
            elif self.nursery is not None:
                self.nursery.start_soon(self._push, *args)

        manager.run_task = run_task  # type: ignore[method-assign]

    async def _push(self, forwarder: ID, msg: rpc_pb2.Message) -> None:
        try:
            await self._pubsub.push_msg(forwarder, msg)
        except Exception as error:  # one message's failure must not stop gossip
            logger.warning("handling a message from peer %s failed: %r", forwarder, error)
            logger.debug("the failure", exc_info=True)

    @contextmanager
    def installed(self, host: IHost, protocols: Sequence[TProtocol]) -> Iterator[None]:
        """Replace the stream handlers Pubsub registered for ``protocols`` with ours, for the block."""
        for protocol in protocols:
            host.set_stream_handler(protocol, self.handle)
        try:
            yield
        finally:
            for protocol in protocols:
                host.remove_stream_handler(protocol)

    async def handle(self, stream: INetStream) -> None:
        """The stream handler we register for the gossip protocols."""
        if self.nursery is None:  # before Pubsub runs or once it is stopping: the peer will retry
            await stream.reset()
            return
        peer = stream.muxed_conn.peer_id
        if self._gate.is_banned(peer):  # its connection is being closed; read nothing from it
            self._gate.refused_stream(peer)
            await stream.reset()
            return
        done = trio.Event()
        self.nursery.start_soon(self._read, stream, done)
        await done.wait()

    async def _read(self, stream: INetStream, done: trio.Event) -> None:
        try:
            # Duck-typed: it reads through the buffer and forwards everything else (framing.py).
            await self._pubsub.stream_handler(BufferedStream(stream))  # type: ignore[arg-type]
        finally:
            done.set()
            with trio.CancelScope(deadline=trio.current_time() + 1, shield=True):
                await stream.reset()  # cancelled or finished: let the peer know at once
