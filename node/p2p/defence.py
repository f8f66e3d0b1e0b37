"""The gate every gossip RPC passes, and the misbehaviour ledger behind it.

Scores, strikes and bans in one place (``Defence``): every gate asks it, every penalty goes
through it. The ledger (guard.py's ``PeerGuard``) is the deterministic backstop py-libp2p lacks
(it forgets a score on disconnect and never disconnects anyone): ``max_strikes`` strikes within
``strike_window_s`` close every connection to the peer and refuse it for ``ban_s``: its
reconnections are closed as soon as they are established (libp2p_compat/swarm.py), its streams are
reset, our own dials to it fail (``P2PHost.refuse_peers``), and anything it still sends is
dropped. Subscription changes beyond a per-peer budget are strikes too (a subscribe/unsubscribe
loop costs py three tasks and a message-cache replay each time).

Below ``graylist_threshold`` a peer is graylisted: every RPC it still sends is refused and is a
strike, so it is disconnected soon after.
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from libp2p.abc import INetConn
from libp2p.peer.id import ID

from node.p2p.config import GossipConfig
from node.p2p.guard import Ban, PeerGuard, SubscriptionBudget
from node.p2p.host import P2PHost
from node.p2p.libp2p_compat.scorer import KiezScorer

logger = logging.getLogger(__name__)

#: Strike reasons of the gossip layer itself (the node's validator supplies the others).
OVER_SIZE_CAP = "over_size_cap"
WHILE_GRAYLISTED = "while_graylisted"
SUBSCRIPTION_FLOOD = "subscription_flood"
_BAN_SWEEP_S = 5.0
_CLOSE_TIMEOUT_S = 5.0


class Defence:
    """Scores, strikes and bans in one place: every gate asks it, every penalty goes through it."""

    def __init__(self, config: GossipConfig, scorer: KiezScorer, host: P2PHost, my_id: ID) -> None:
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

    def refused_stream(self, peer: ID) -> None:
        """A banned peer opened a stream; it is reset unread. Counted as a refusal."""
        self.guard.refused(peer.to_base58())

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
        """The guard's status, the connected peers graylisted now, every penalised peer's score, and
        the admission of inbound connections before they are authenticated (``admission``)."""
        topics = self.topics
        scores = {peer.to_base58(): round(self.scorer.score(peer, topics), 2) for peer in self.scorer.penalised_peers()}
        graylisted = [peer.to_base58() for peer in connected if topics and self.scorer.graylisted(peer, topics)]
        return {
            **self.guard.status(),
            "graylisted": sorted(graylisted),
            "scores": dict(sorted(scores.items())) if topics else {},
            "inbound": self._host.inbound_status(),
        }


async def _close_quietly(conn: INetConn) -> None:
    with trio.move_on_after(_CLOSE_TIMEOUT_S):
        try:
            await conn.close()
        except Exception:  # the peer may have gone already; nothing to do either way
            logger.debug("closing a refused connection failed", exc_info=True)
