"""Encryption for private rooms, from the ``cryptography`` package's primitives only.

Two layers, both standard constructions:

- **Sealing a room key to a member** (``seal_to`` / ``open_sealed``): an ECIES-style box. A fresh
  ephemeral X25519 key agrees a secret with the member's published X25519 key; HKDF-SHA256
  (salt: both public keys; info: ``CONTEXT`` and the room) turns it into a ChaCha20-Poly1305 key;
  the room key is encrypted under it. Only the holder of the member's X25519 private key opens it.
- **Encrypting room content** (``seal_content`` / ``open_content``): ChaCha20-Poly1305 under the
  32-byte room key, a random 96-bit nonce per message, and the message's public header
  (community, room, key id, author key, ``content_header``) as associated data, so a ciphertext
  cannot be moved to another room or passed off as someone else's. The plaintext is canonical
  msgpack ``[kind, payload]`` (``encoding.encode_plaintext``).

The room is its 32 raw bytes in a box's HKDF info and associated data, but its 64 ASCII hex
digits in a content header: both are the protocol (node/spec/sealing-vectors.json has each byte).

What this does not hide, by design (the relays must route): who writes, when, in which room, how
much (ciphertext length), and which key epoch. See node/spec/wire-format.md, "Private rooms".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from node.core.encoding import decode_plaintext, encode_plaintext
from node.core.errors import SealError
from node.core.types import Body, Kind, Message, MessageId, SealedBody

CONTEXT = b"kiez/room-key/v1"
CONTENT_CONTEXT = b"kiez/sealed/v1"
KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    """A room key sealed to one member: the ephemeral public key and the box."""

    ephemeral: bytes  # 32-byte X25519 public key
    box: bytes  # ChaCha20-Poly1305 ciphertext of the room key (48 bytes)


def x25519_public(private: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def new_room_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes, room: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral + recipient, info=CONTEXT + room).derive(
        shared
    )


def seal_to(recipient: bytes, room_key: bytes, room: bytes) -> Sealed:
    """Seals ``room_key`` so that only the holder of ``recipient``'s private key opens it."""
    return seal_with(os.urandom(KEY_BYTES), recipient, room_key, room)


def seal_with(ephemeral_private: bytes, recipient: bytes, room_key: bytes, room: bytes) -> Sealed:
    """``seal_to`` with the ephemeral key given (fresh for every seal; fixed only in test vectors)."""
    ephemeral = X25519PrivateKey.from_private_bytes(ephemeral_private)
    ephemeral_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    key = _box_key(shared, ephemeral_public, recipient, room)
    # the box key is used once, so a fixed nonce is safe
    return Sealed(ephemeral_public, ChaCha20Poly1305(key).encrypt(bytes(NONCE_BYTES), room_key, room))


def open_sealed(private: bytes, sealed: Sealed, room: bytes) -> bytes:
    """The room key in ``sealed``, or ``SealError``."""
    me = X25519PrivateKey.from_private_bytes(private)
    recipient = x25519_public(private)
    try:
        shared = me.exchange(X25519PublicKey.from_public_bytes(sealed.ephemeral))
        key = _box_key(shared, sealed.ephemeral, recipient, room)
        room_key = ChaCha20Poly1305(key).decrypt(bytes(NONCE_BYTES), sealed.box, room)
    except (InvalidTag, ValueError):
        raise SealError("this room key is not sealed to this member's key") from None
    if len(room_key) != KEY_BYTES:
        raise SealError("a sealed room key must be 32 bytes")
    return room_key


def encrypt(room_key: bytes, plaintext: bytes, header: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext) of ``plaintext``, bound to ``header`` (associated data)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, ChaCha20Poly1305(room_key).encrypt(nonce, plaintext, header)


def decrypt(room_key: bytes, nonce: bytes, ciphertext: bytes, header: bytes) -> bytes:
    try:
        return ChaCha20Poly1305(room_key).decrypt(nonce, ciphertext, header)
    except (InvalidTag, ValueError):
        raise SealError("the ciphertext does not open with this room key (wrong key, or tampered with)") from None


def content_header(contract: bytes, room: str, key_id: bytes, author: bytes) -> bytes:
    """The associated data binding a sealed message's ciphertext to its community (the 20-byte
    contract), its room (the id's 64 ASCII hex digits), its room key's id and its author's key."""
    return CONTENT_CONTEXT + contract + room.encode("ascii") + key_id + author


def seal_content(room_key: bytes, kind: Kind, body: Body, header: bytes, key_id: MessageId) -> SealedBody:
    """The payload of a sealed message carrying ``kind``/``body``, under ``room_key``."""
    nonce, ciphertext = encrypt(room_key, encode_plaintext(kind, body), header)
    return SealedBody(key_id, nonce, ciphertext)


def open_content(room_key: bytes, message: Message) -> tuple[Kind, Body]:
    """The kind and body a sealed message carries; ``SealError`` if it does not open under
    ``room_key``, ``DecodeError`` if what opens is not a valid post or reaction."""
    body = message.body
    if not isinstance(body, SealedBody):
        raise SealError(f"a {message.kind.label} message is not sealed")
    header = content_header(message.community.contract, message.room, body.key_id, message.author)
    return decode_plaintext(decrypt(room_key, body.nonce, body.ciphertext, header))
