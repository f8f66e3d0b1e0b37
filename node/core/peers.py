"""Peer records (kind PEER): the binding between a member's app key and a libp2p peer id.

A PEER message is signed by an app key like every message, so it is tied to a member. That alone
would let a member advertise *someone else's* node as theirs; the ``binding`` closes that: the
node's libp2p key signs a domain-separated statement naming the protocol version, the community
(chain id, contract), the app key and the expiry. Only ed25519 peer ids are accepted, whose bytes
are an identity multihash that carries the public key itself, so the key is read from the peer id
here, without py-libp2p (spec section 14).
"""

from __future__ import annotations

import msgpack
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from node.core import limits
from node.core.types import AppKey, Community, PeerBody

#: What the libp2p key signs before the binding's fields, so its signature is never valid for
#: anything else (a libp2p signed envelope, a noise handshake payload, a kiez message).
BINDING_DOMAIN = b"kiez/peer-binding/v1\n"
#: identity multihash (code 0x00, length 36) of the protobuf PublicKey {Type: Ed25519 (1), Data: 32 bytes}
ED25519_PEER_ID_PREFIX = bytes.fromhex("0024080112" + "20")
PEER_ID_BYTES = len(ED25519_PEER_ID_PREFIX) + 32
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def peer_public_key(peer_id: bytes) -> bytes | None:
    """The ed25519 public key inside an identity peer id, or None if ``peer_id`` is not one."""
    if len(peer_id) != PEER_ID_BYTES or not peer_id.startswith(ED25519_PEER_ID_PREFIX):
        return None
    return peer_id[len(ED25519_PEER_ID_PREFIX) :]


def peer_id_of_public_key(public: bytes) -> bytes:
    """The identity peer id bytes of an ed25519 public key."""
    if len(public) != 32:
        raise ValueError("an ed25519 public key is 32 bytes")
    return ED25519_PEER_ID_PREFIX + public


def peer_id_text(peer_id: bytes) -> str:
    """The base58btc form (``12D3KooW…``) that multiaddrs and logs use."""
    number = int.from_bytes(peer_id, "big")
    digits = ""
    while number:
        number, rest = divmod(number, 58)
        digits = _B58[rest] + digits
    return "1" * (len(peer_id) - len(peer_id.lstrip(b"\0"))) + digits


def peer_id_bytes(text: str) -> bytes:
    """The inverse of ``peer_id_text``; ``ValueError`` for a string that is not base58."""
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"{text!r} is not a base58 peer id")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def binding_bytes(community: Community, app_key: AppKey, expires_ms: int) -> bytes:
    """Exactly what the libp2p key signs: the domain, then the canonical msgpack array
    ``[protocol version, chain id, contract, app key, expires_ms]``."""
    fields = [limits.PROTOCOL_VERSION, community.chain_id, community.contract, app_key, expires_ms]
    packed: bytes = msgpack.packb(fields, use_bin_type=True)  # canonical, as encoding.pack
    return BINDING_DOMAIN + packed


def sign_binding(p2p_seed: bytes, community: Community, app_key: AppKey, expires_ms: int) -> tuple[bytes, bytes]:
    """(peer id bytes, binding) for the node whose libp2p identity is the ed25519 ``p2p_seed``."""
    key = SigningKey(p2p_seed)
    signature = key.sign(binding_bytes(community, app_key, expires_ms)).signature
    return peer_id_of_public_key(bytes(key.verify_key)), bytes(signature)


def binding_holds(body: PeerBody, community: Community, app_key: AppKey) -> bool:
    """Whether the peer id's own key signed this record's binding to ``app_key``."""
    public = peer_public_key(body.peer_id)
    if public is None:
        return False
    try:
        VerifyKey(public).verify(binding_bytes(community, app_key, body.expires_ms), body.binding)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True
