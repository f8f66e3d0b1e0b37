"""kiez's libp2p layer: a Noise-only host, gossipsub tuned for small communities, peer upkeep,
and a defence against misbehaving peers (peer scoring that graylists, a ledger that bans: guard.py).

py-libp2p 0.8.1 loses messages or weakens security with its defaults (DESIGN section 8); each
module says which pitfall it avoids. Everything runs inside trio scopes owned by the caller:

    async with open_host(seed, port=4001) as host, open_gossip(host, GossipConfig(), validator) as gossip:
        await gossip.subscribe(topic)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(maintain_peers, host, bootstrap, 5.0)
            ...
"""

from node.p2p.config import GossipConfig
from node.p2p.errors import BadMultiaddr, BadSeed, DialFailed, MessageTooLarge, NotSubscribed, P2PError
from node.p2p.gossip import Gossip, Judgement, P2PVerdict, Validator, message_id, open_gossip
from node.p2p.guard import PeerGuard, SubscriptionBudget
from node.p2p.host import P2PHost, open_host
from node.p2p.identity import key_pair_from_seed, peer_id_from_seed
from node.p2p.peers import maintain_peers

__all__ = [
    "BadMultiaddr",
    "BadSeed",
    "DialFailed",
    "Gossip",
    "GossipConfig",
    "Judgement",
    "MessageTooLarge",
    "NotSubscribed",
    "P2PError",
    "P2PHost",
    "P2PVerdict",
    "PeerGuard",
    "SubscriptionBudget",
    "Validator",
    "key_pair_from_seed",
    "maintain_peers",
    "message_id",
    "open_gossip",
    "open_host",
    "peer_id_from_seed",
]
