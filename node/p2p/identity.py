"""The node's libp2p identity: an ed25519 key pair derived from a 32-byte seed.

The peer identity is separate from members' app keys and wallets. The node keeps
the seed in a 0600 file elsewhere; this module only converts it, so the same seed always gives the
same peer id across restarts (peers and bootstrap lists keep working).
"""

from __future__ import annotations

from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID

from node.p2p.errors import BadSeed

SEED_BYTES = 32


def key_pair_from_seed(seed: bytes) -> KeyPair:
    """The ed25519 key pair for ``seed``; raises ``BadSeed`` unless it is exactly 32 bytes.

    The length check matters: py-libp2p's ``Ed25519PrivateKey.new`` silently generates a *random*
    key for an empty seed (``if seed:``), which would give the node a new peer id on every start.
    """
    if len(seed) != SEED_BYTES:
        raise BadSeed(f"the peer identity seed must be {SEED_BYTES} bytes, got {len(seed)}")
    try:
        return create_new_key_pair(seed)
    except ValueError as error:  # the derived public key is not a valid curve point
        raise BadSeed(f"the peer identity seed gives no usable ed25519 key: {error}") from error


def peer_id_of(key_pair: KeyPair) -> str:
    """The base58 peer id (``12D3KooW...``) that other nodes and multiaddrs use for this key."""
    return ID.from_pubkey(key_pair.public_key).to_base58()


def peer_id_from_seed(seed: bytes) -> str:
    """Shortcut: the peer id a node started with ``seed`` will have."""
    return peer_id_of(key_pair_from_seed(seed))
