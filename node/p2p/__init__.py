"""kiez's libp2p layer: a Noise-only host, gossipsub tuned for small communities, peer upkeep,
a defence against misbehaving peers (peer scoring that graylists, a ledger that bans: defence.py,
guard.py; a deadline and caps for unauthenticated inbound connections: admission.py), and
kiez-owned streams for the node's own protocols (streams.py). Every change to py-libp2p's
internals is in libp2p_compat/, which refuses any release but the one it was written for.

py-libp2p 0.8.1 loses messages or weakens security with its defaults (see ARCHITECTURE.md,
"py-libp2p facts"); each module says which pitfall it avoids. Everything runs inside trio scopes owned by the caller:

    async with open_host(seed, port=4001) as host, open_gossip(host, GossipConfig(), validator) as gossip:
        await gossip.subscribe(topic)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(maintain_peers, host, bootstrap, 5.0)
            ...
"""

from node.p2p.admission import InboundLimits
from node.p2p.config import GossipConfig
from node.p2p.errors import (
    BadFrame,
    BadMultiaddr,
    BadSeed,
    DialFailed,
    MessageTooLarge,
    NotSubscribed,
    P2PError,
    StreamFailed,
    UnsupportedLibp2p,
)
from node.p2p.gossip import Gossip, open_gossip
from node.p2p.guard import PeerGuard, SubscriptionBudget
from node.p2p.host import P2PHost, open_host
from node.p2p.identity import key_pair_from_seed, peer_id_from_seed
from node.p2p.peers import maintain_peers
from node.p2p.streams import Stream, StreamHandler
from node.p2p.verdicts import Judgement, P2PVerdict, Validator, message_id

__all__ = [
    "BadFrame",
    "BadMultiaddr",
    "BadSeed",
    "DialFailed",
    "Gossip",
    "GossipConfig",
    "InboundLimits",
    "Judgement",
    "MessageTooLarge",
    "NotSubscribed",
    "P2PError",
    "P2PHost",
    "P2PVerdict",
    "PeerGuard",
    "Stream",
    "StreamFailed",
    "StreamHandler",
    "SubscriptionBudget",
    "UnsupportedLibp2p",
    "Validator",
    "key_pair_from_seed",
    "maintain_peers",
    "message_id",
    "open_gossip",
    "open_host",
    "peer_id_from_seed",
]
